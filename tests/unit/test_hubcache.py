"""The watcher's cache of loaded hubs: whatever it keeps, a batch gets every hub it asks for."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hubs.db import session_factory
from hubs.settings import load_settings
from hubs.testing import add_hub, make_engine
from hubsgen.watch import pipeline
from hubsgen.watch.hubcache import HubCache
from tests.integration.test_drift import tree_differences
from tests.sites import Site, award, replay


@pytest.fixture
def hub_ids(sqlite_url: str) -> Iterator[tuple[Engine, list[int]]]:
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        ids = [add_hub(session, f"team{n}", widgets=[("stats", {})]).id for n in range(5)]
        session.commit()
    yield engine, ids
    engine.dispose()


def test_a_kept_hub_asked_for_with_new_ones_is_not_pushed_out_first(hub_ids):
    engine, ids = hub_ids
    cache = HubCache(session_factory(engine), capacity=2)
    cache.get([ids[0]])
    cache.get([ids[1]])
    # Full, ids[0] the oldest: loading ids[2] makes room, but not by dropping ids[0].
    assert [hub.id for hub in cache.get([ids[0], ids[2]])] == [ids[0], ids[2]]
    assert len(cache) == 2


def test_a_batch_asking_for_more_hubs_than_are_kept_gets_them_all(hub_ids):
    engine, ids = hub_ids
    cache = HubCache(session_factory(engine), capacity=2)
    hubs = cache.get([*ids, max(ids) + 1])
    assert [hub.id for hub in hubs] == ids
    assert [hub.widgets[0].plugin for hub in hubs] == ["stats"] * 5
    assert len(cache) == 2



def test_a_watcher_keeping_two_hubs_leaves_the_tree_a_clean_build_writes(sqlite_url, tmp_path,
                                                                         monkeypatch):
    """Awards to six people within one day (no day turn renders everything again), in
    batches that ask for more hubs than are kept, and for kept ones that loading the others
    would push out."""
    monkeypatch.setattr(pipeline, "CACHED_HUBS", 2)
    people = [f"user{n}" for n in range(6)]
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        for name in people:
            add_hub(session, name, user_hub=True, widgets=[("badges", {}), ("feed", {})])
        session.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "watched"))
    assert site.build().failures == []
    rng = random.Random(5)
    awards = [award(1 + n / 1000, rng.choice(people), f"badge{n}") for n in range(40)]
    replay(site, tmp_path, *awards, max_batch=4)
    clean = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "clean"))
    assert clean.build().failures == []
    assert tree_differences(tmp_path / "watched", tmp_path / "clean") == []
    engine.dispose()
