"""A staging watcher (``[bus] environment = "stg"``) handles staging's messages and never
production's: real fedmsg publishing on loopback, the real RabbitMQ, the console script in a
subprocess."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from hubsgen.watch.sources.amqp import AmqpSource, queue_name
from tests.integration.bus import Publish
from tests.integration.rabbitmq import channel, publisher, ready_count
from tests.integration.test_admin_bus import Relay, configure_lounge_note, lounge_note_files
from tests.integration.test_admin_bus import relay as relay  # the fixture, shared
from tests.integration.watching import (
    HUBSGEN,
    PROBE_HUB,
    SmallSite,
    Watch,
    badge_award_body,
    build_small_site,
    ralph_award_files,
    snapshot,
    stored,
    wait_for_changes,
    wait_until,
    watching,
)
from tests.timing import seconds

STG = "org.fedoraproject.stg"
PROD = "org.fedoraproject.prod"
QUEUE = queue_name(environment="stg")  # what --source amqp://URL consumes on staging


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> SmallSite:
    return build_small_site(sqlite_url, tmp_path)


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    """A settings file that makes the deployment a staging one."""
    config = tmp_path / "hubsgen.toml"
    config.write_text('[bus]\nenvironment = "stg"\n')
    return config


def badges_shown(site: SmallSite) -> str:
    return (site.out / "ralph" / "widgets" / f"{site.ralph_badges}.json").read_text()


def test_a_stg_fedmsg_watcher_handles_stg_messages_and_ignores_prod_ones(
        site: SmallSite, endpoint: str, publish: Publish, staging: Path,
        tmp_path: Path) -> None:
    """Assert that of two awards for ralph published in turn on one fedmsg socket, a prod one
    then a stg one, the stg watcher stores and shows only the stg one; the prod one reached it
    first (one socket keeps order) and was ignored."""
    with watching("--source", "fedmsg", "--endpoint", endpoint, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path, config=staging) as watch:
        join_on_stg(watch, publish)
        before = snapshot(site.out)
        prod = publish("fedbadges", "badge.award", badge_award_body("ralph", "prod-only"))
        stg = publish(f"{STG}.fedbadges", "badge.award", badge_award_body("ralph", "staged"))
        wait_for_changes(site.out, before, ralph_award_files(site))
        watch.stop()
    assert stored(site.db_url, [prod, stg]) == {stg}
    assert "Staged" in badges_shown(site) and "Prod-Only" not in badges_shown(site)
    assert f"Message {stg} (fedbadges.badge.award) refreshes ralph/" in watch.log()
    assert prod not in watch.log()
    assert "for stg messages" in watch.log()


def join_on_stg(watch: Watch, publish: Publish) -> None:
    """Probe on stg until the watcher logs one: a SUB socket misses what is sent before it
    joined, and it ignores prod probes. (fedmsg puts its configured prefix, prod here, before
    a topic unless modname and topic already start with one.)"""
    probes: list[str] = []

    def probe_arrived() -> bool:
        probes.append(publish(f"{STG}.hubs", "hub.update", PROBE_HUB))
        return any(f"Message {msg_id} (hubs.hub.update) refreshes lounge/" in watch.log()
                   for msg_id in probes)

    wait_until(probe_arrived, "a stg probe reached hubsgen watch", timeout=30)


@pytest.fixture
def admin(amqp_url: str) -> Iterator[Any]:
    """Our own channel; the staging queue is gone before the test and after it."""
    with channel(amqp_url) as admin:
        admin.queue_delete(QUEUE)
        yield admin
        admin.queue_delete(QUEUE)


def test_a_stg_amqp_watcher_binds_stg_topics_and_handles_only_stg_messages(
        site: SmallSite, amqp_url: str, admin: Any, staging: Path, tmp_path: Path) -> None:
    """Assert ``--declare-only`` on staging declares hubsgen-stg bound to staging's topics, so
    of a prod and a stg award published before the watcher starts only the stg one waits in
    it; the watcher then shows the stg award, and never stores the prod one."""
    env = {**os.environ, "HUBSGEN_BUS_ENVIRONMENT": "stg"}
    done = subprocess.run([str(HUBSGEN), "watch", "--source", amqp_url, "--declare-only"],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=seconds(60), check=False)
    assert done.returncode == 0, done.stderr
    vhost = unquote(urlsplit(amqp_url).path[1:]).lstrip("/")
    assert done.stdout == f"Declared {QUEUE} on 127.0.0.1:5672/{vhost}\n"

    publish = publisher(amqp_url)
    prod = publish(f"{PROD}.fedbadges.badge.award", badge_award_body("ralph", "prod-only"))
    stg = publish(f"{STG}.fedbadges.badge.award", badge_award_body("ralph", "staged"))
    assert ready_count(admin, QUEUE, 1) == 1
    before = snapshot(site.out)
    with watching("--source", amqp_url, "--db", site.db_url, "--out", str(site.out),
                  cwd=tmp_path, config=staging) as watch:
        wait_for_changes(site.out, before, ralph_award_files(site))
        counts = watch.stop()
    assert stored(site.db_url, [prod, stg]) == {stg}
    assert "Staged" in badges_shown(site) and "Prod-Only" not in badges_shown(site)
    assert counts["received"] == 1
    assert ready_count(admin, QUEUE, 0) == 0


def test_a_delivery_of_another_environment_is_acknowledged_and_not_handed_out(
        amqp_url: str) -> None:
    """Assert a stg source bound wider than its environment (a fedora-messaging file may bind
    "#") hands out the stg message only, and acknowledges the prod one all the same: the queue
    is empty afterwards and the prefetch window never fills with ignored deliveries."""
    uid = f"t-{uuid.uuid4().hex[:10]}"
    source = AmqpSource(amqp_url, topics=[f"org.{uid}.*.#"], queue_suffix=uid,
                        environment="stg")
    source.declare()
    publish = publisher(amqp_url)
    with channel(amqp_url) as admin:
        try:
            prod = [publish(f"org.{uid}.prod.thing.{n}", {"n": n}) for n in range(3)]
            stg = publish(f"org.{uid}.stg.thing.done", {"n": 3})
            assert ready_count(admin, queue_name(uid, "stg"), 4) == 4
            handed: list[str] = []
            stop = threading.Event()
            watchdog = threading.Timer(seconds(15), stop.set)  # a bug must not hang the test
            watchdog.start()
            # One at a time: the prefetch window holds one delivery, so an ignored one left
            # unacknowledged would stop everything behind it.
            for batch in source.batches(max_messages=1, max_wait=0.5, stop=stop):
                handed += [m.msg_id for m in batch.messages]
                batch.done()
                if stg in handed:
                    stop.set()
            watchdog.cancel()
            source.close()  # what was not acknowledged would be ready again
            assert handed == [stg] and stg not in prod
            assert ready_count(admin, queue_name(uid, "stg"), 0) == 0
        finally:
            source.close()
            admin.queue_delete(queue_name(uid, "stg"))


def test_a_change_announced_on_amqp_goes_out_on_stg_for_the_stg_watcher(
        site: SmallSite, amqp_url: str, admin: Any, staging: Path, tmp_path: Path) -> None:
    """Assert ``widget configure --bus amqp`` on a staging deployment announces on
    org.fedoraproject.stg, even with a fedora-messaging file written for production, and the
    staging watcher rewrites lounge's note from it."""
    AmqpSource(amqp_url, environment="stg").declare()
    conf = tmp_path / "fedora-messaging.toml"
    conf.write_text(f'amqp_url = "{amqp_url}"\ntopic_prefix = "{PROD}"\n')
    before = snapshot(site.out)
    with watching("--source", amqp_url, "--db", site.db_url, "--out", str(site.out),
                  cwd=tmp_path, config=staging) as watch:
        msg_id = configure_lounge_note(site, "amqp", tmp_path / "admin",
                                       FEDORA_MESSAGING_CONF=str(conf),
                                       HUBSGEN_BUS_ENVIRONMENT="stg")
        wait_for_changes(site.out, before, lounge_note_files(site))
        counts = watch.stop()
    assert f"Message {msg_id} (hubs.widget.update) refreshes lounge/" in watch.log()
    assert counts["received"] == 1
    assert ready_count(admin, QUEUE, 0) == 0


def test_a_change_announced_on_fedmsg_goes_out_on_stg_for_the_stg_watcher(
        site: SmallSite, relay: Relay, publish: Publish, staging: Path, tmp_path: Path) -> None:
    """Assert ``widget configure --bus fedmsg`` on a staging deployment announces on
    org.fedoraproject.stg through the relay, even with a fedmsg.d written for production, and
    the staging watcher subscribed to the relay rewrites lounge's note from it."""
    admin = tmp_path / "admin"
    (admin / "fedmsg.d").mkdir(parents=True)
    config = {"relay_inbound": [relay.inbound], "endpoints": {"relay_outbound": [relay.outbound]},
              "environment": "prod", "sign_messages": False, "validate_signatures": False}
    (admin / "fedmsg.d" / "hubsgen_admin.py").write_text(f"config = {config!r}\n")
    with watching("--source", "fedmsg", "--endpoint", relay.outbound, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path, config=staging) as watch:
        join_on_stg(watch, publish)
        before = snapshot(site.out)
        msg_id = configure_lounge_note(site, "fedmsg", admin, HUBSGEN_BUS_ENVIRONMENT="stg")
        wait_for_changes(site.out, before, lounge_note_files(site))
        watch.stop()
    assert f"Message {msg_id} (hubs.widget.update) refreshes lounge/" in watch.log()
