"""--shard I/N: each worker writes only its own hubs, and together they write them all once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hubs.errors import ConfigError
from hubs.settings import load_settings
from hubs.testing import T0, add_events, add_hub, make_engine
from hubsgen.build.run import run_build
from hubsgen.demo import messages
from hubsgen.watch.daemon import Watcher, WatchOptions, open_watcher, run_watch
from hubsgen.watch.shards import Shard
from hubsgen.watch.sources.replay import ReplaySource
from tests.sites import Site, award, widget_id


def test_parse_and_refuse():
    assert Shard.parse("1/3") == Shard(1, 3)
    assert Shard.parse("1/3").suffix == "shard1of3" and Shard().suffix == ""
    for bad in ("3/3", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ConfigError, match="use I/N with 0 <= I < N"):
            Shard.parse(bad)


def test_every_hub_has_exactly_one_owner_and_the_split_is_stable():
    names = [f"user{n}" for n in range(1000)]
    owners = [[s for s in range(3) if Shard(s, 3).owns(name)] for name in names]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(1 for o in owners if o == [s]) for s in range(3)]
    assert min(sizes) > 250, sizes  # roughly even
    assert Shard(0, 1).owns("anything")


def test_two_workers_together_write_each_affected_hub_once(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    users = [f"user{n:02d}" for n in range(12)]
    with Session(engine) as s:
        for user in users:
            add_hub(s, user, user_hub=True, widgets=[("badges", {})])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    run_build(site.settings)
    before = site.snapshot()
    path = tmp_path / "burst.jsonl"
    path.write_text("".join(json.dumps(award(1, username=u, badge=f"b-{u}")) + "\n"
                            for u in users))
    written = {}
    for index in (0, 1):
        shard = Shard(index, 2)
        ahead = site.snapshot()
        run_watch(site.settings, ReplaySource(str(path)), threading.Event(),
                  WatchOptions(shard=shard))
        written[index] = {p.split("/")[0] for p in site.changed_since(ahead)}
        assert all(shard.owns(hub) for hub in written[index])
    assert written[0] and written[1] and not written[0] & written[1]
    assert written[0] | written[1] == set(users)
    assert {p.split("/")[0] for p in site.changed_since(before)} == set(users)
    engine.dispose()


def test_pruned_messages_go_once_every_worker_read_them_and_each_rewrites_its_own_hubs(
        sqlite_url, tmp_path):
    """A worker that prunes first only marks how far it read: were the messages gone before
    the other worker read them, that worker's hubs would go on showing them. Once both have
    read, they go, and each worker rewrites the hubs of its own shard."""
    engine = make_engine(sqlite_url)
    users = [f"user{n:02d}" for n in range(8)]
    with Session(engine) as s:
        for user in users:
            add_hub(s, user, user_hub=True, widgets=[("badges", {})])
        add_events(s, [messages.badge_award(T0 - timedelta(days=500), user, "ancient",
                                            "Ancient", "Long ago") for user in users])
        add_events(s, [messages.badge_award(T0, users[0], "recent", "Recent", "Now")])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    run_build(site.settings)
    badges = {user: widget_id(site, user, "badges") for user in users}
    firsts = {user for user in users if Shard(0, 2).owns(user)}
    assert 0 < len(firsts) < len(users)

    def showing_ancient() -> set[str]:
        return {user for user in users if "Ancient" in site.fragment(user, badges[user])["html"]}

    def prune_and_catch_up(watcher: Watcher) -> None:
        watcher.prune_store()
        while watcher.pipeline.owes():
            watcher.pipeline.catch_up()

    with (open_watcher(site.settings, WatchOptions(shard=Shard(0, 2))) as first,
          open_watcher(site.settings, WatchOptions(shard=Shard(1, 2))) as second):
        prune_and_catch_up(first)
        assert first.stats["pruned"] == 0 and showing_ancient() == set(users)
        prune_and_catch_up(second)
        assert second.stats["pruned"] == len(users)
        assert showing_ancient() == firsts
        prune_and_catch_up(first)
    assert showing_ancient() == set()
    engine.dispose()
