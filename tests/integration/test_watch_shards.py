"""Two ``hubsgen watch --shard I/2`` workers on one RabbitMQ and one database: each sees every
message, the store keeps each once, and each hub's files are written by its own worker only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from hubs.testing import add_hub, make_engine
from hubsgen.watch.shards import Shard
from hubsgen.watch.sources.amqp import AmqpSource, queue_name
from tests.integration.rabbitmq import channel, publisher
from tests.integration.watching import (
    badge_award_body,
    changed_since,
    run_hubsgen,
    snapshot,
    stored,
    watching,
)

BADGE = "org.fedoraproject.prod.fedbadges.badge.award"
PROBE = "org.fedoraproject.prod.hubs.hub.update"
SHARDS = [Shard(0, 2), Shard(1, 2)]
USERS = [f"user{n:02}" for n in range(12)]
ROUNDS = ["alpha", "beta"]  # each user is awarded one badge per round, rounds in order


def probe_hubs() -> list[str]:
    """A quiet hub per shard: its hub.update message is logged by that shard's worker only."""
    names = [f"quiet{n}" for n in range(64)]
    return [next(name for name in names if shard.owns(name)) for shard in SHARDS]


def refreshed_hubs(log: str) -> set[str]:
    """The hubs named in "Message ... refreshes <hub>/<id>, ..." lines."""
    return {key.split("/", 1)[0] for line in log.splitlines() if ") refreshes " in line
            for key in line.split(") refreshes ", 1)[1].strip().split(", ")}


@pytest.fixture
def admin(amqp_url: str) -> Iterator[Any]:
    """Our own channel; the shards' queues (``hubsgen-shardIof2``, fixed names) are deleted
    before the test, in case an earlier test in the session's virtual host left them, and
    after it."""
    queues = [queue_name(shard.suffix) for shard in SHARDS]
    with channel(amqp_url) as admin:
        for queue in queues:
            admin.queue_delete(queue)
        yield admin
        for queue in queues:
            admin.queue_delete(queue)


def build_site(db_url: str, root: Path) -> dict[str, int]:
    """Users' hubs (badges, sticky) and the quiet probe hubs; the badges widget id of each user."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            hubs = {user: add_hub(s, user, user_hub=True, widgets=[
                ("badges", {"username": user}), ("sticky", {"text": f"I am {user}"})])
                for user in USERS}
            for name in probe_hubs():
                add_hub(s, name, widgets=[("sticky", {"text": "Nothing happens here"})])
            badges = {user: hub.widgets[0].id for user, hub in hubs.items()}
            s.commit()
    finally:
        engine.dispose()
    run_hubsgen("build", "--db", db_url, "--out", str(root / "build"), cwd=root)
    return badges


def test_two_shards_write_every_affected_hub_once_each_its_own(
        db_url: str, tmp_path: Path, amqp_url: str, admin: Any) -> None:
    """Assert a burst of awards for twelve users, seen by both workers, leaves every badges
    fragment showing both rounds, every message stored once, each hub's files written by the
    worker of its shard only, and nothing else changed."""
    owner = {user: next(i for i, shard in enumerate(SHARDS) if shard.owns(user))
             for user in USERS}
    assert set(owner.values()) == {0, 1}, "both shards must own some of the users' hubs"
    for shard in SHARDS:  # the queues exist before anything is published, as deployed
        AmqpSource(amqp_url, topics=[BADGE, PROBE], queue_suffix=shard.suffix).declare()
    badges = build_site(db_url, tmp_path)
    out = tmp_path / "build"
    before = snapshot(out)
    publish = publisher(amqp_url)

    with ExitStack() as stack:
        workers = [stack.enter_context(watching(
            "--source", amqp_url, "--topic", BADGE, "--topic", PROBE, "--shard",
            f"{shard.index}/{shard.count}", "--db", db_url, "--out", str(out),
            cwd=tmp_path, name=f"shard{shard.index}")) for shard in SHARDS]
        sent = [publish(BADGE, badge_award_body(user, badge))
                for badge in ROUNDS for user in USERS]
        # Each queue is consumed in order: a worker that logs its probe has had the burst.
        probes = [publish(PROBE, {"hub": hub}) for hub in probe_hubs()]
        for worker, probe, hub in zip(workers, probes, probe_hubs(), strict=True):
            worker.wait_for_log(f"Message {probe} (hubs.hub.update) refreshes {hub}/")
        counts = [worker.stop() for worker in workers]  # each finishes the batch it is in

    assert stored(db_url, sent) == set(sent)
    assert [c["received"] for c in counts] == [len(sent) + len(probes)] * len(SHARDS)
    assert [c["failed"] for c in counts] == [0] * len(SHARDS)
    for user in USERS:
        fragment = json.loads((out / user / "widgets" / f"{badges[user]}.json").read_bytes())
        assert {badge["id"] for badge in fragment["data"]["badges"]} == set(ROUNDS), user

    written = [worker.written() for worker in workers]
    for index, (worker, paths) in enumerate(zip(workers, written, strict=True)):
        own = {user for user in USERS if owner[user] == index}
        assert {path.split("/", 1)[0] for path in paths} == own, f"shard {index} wrote"
        # Quiet writes hide a second render of the same bytes, so check what it rendered too.
        assert refreshed_hubs(worker.log()) == own | {probe_hubs()[index]}, f"shard {index}"
        assert counts[index]["matched"] == len(own) * len(ROUNDS) + 1  # its probe
    for user in USERS:
        path = f"{user}/widgets/{badges[user]}.json"
        writes = [paths.count(path) for paths in written]
        assert writes[owner[user]] in (1, len(ROUNDS)) and sum(writes) == writes[owner[user]]
    assert changed_since(out, before) == {
        f"{user}/{name}" for user in USERS
        for name in ("index.html", "versions.json", "feed.atom", f"widgets/{badges[user]}.json")}
