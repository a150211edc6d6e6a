"""The watcher's cache of loaded hubs: whatever it keeps, a batch gets every hub it asks for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hubs.db import session_factory
from hubs.testing import add_hub, make_engine
from hubsgen.watch.hubcache import HubCache


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
