"""--shard I/N: each worker writes only its own hubs, and together they write them all once."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy.orm import Session

from hubs.errors import ConfigError
from hubs.settings import load_settings
from hubs.testing import add_hub, make_engine
from hubsgen.build.run import run_build
from hubsgen.watch.daemon import WatchOptions, run_watch
from hubsgen.watch.shards import Shard
from hubsgen.watch.sources.replay import ReplaySource
from tests.sites import Site, award


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
