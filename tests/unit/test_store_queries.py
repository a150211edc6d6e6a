"""The store's shortcuts give what the plain reading gives, ties in time and all.

newest_per_hub reads only the tags since a hub's floor (the newest of its names' *limit*-th
newest) before ranking a hub's, and find_messages reads only the tags in its time window.
Hypothesis stores messages on few distinct times (so many tie) about a team's members, its
group and a user hub's user: every hub's newest must equal the newest *limit* find_messages
returns for the same names, a window must hold what filtering all of them by time and topic
in Python keeps, and each person's messages (or their newest few) must be those
find_messages tags with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hubs.events import Event
from hubs.models import Hub, TagKind
from hubs.store import (
    find_messages,
    hub_people,
    messages_of_each,
    messages_tagged,
    newest_per_hub,
)
from hubs.testing import T0, add_events, add_hub, make_engine

PEOPLE = ["ralph", "decause", "duffy"]
TOPICS = ["wiki.article.edit", "fedbadges.badge.award"]


@st.composite
def stored_events(draw: st.DrawFn) -> list[Event]:
    events = []
    for number in range(draw(st.integers(0, 30))):
        events.append(Event(
            msg_id=f"m-{number}", topic=draw(st.sampled_from(TOPICS)), body={"n": number},
            timestamp=T0 - timedelta(hours=draw(st.integers(0, 6))),
            usernames=frozenset(draw(st.sets(st.sampled_from(PEOPLE), max_size=2))),
            groups=frozenset(draw(st.sets(st.just("designteam"), max_size=1))),
            summary=f"edit {number}"))
    return events


@pytest.fixture
def hubs_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        add_hub(session, "ralph", user_hub=True)
        add_hub(session, "designteam", members={"owner": ["ralph"], "member": ["decause"]})
        session.commit()
    yield engine
    engine.dispose()


def test_each_hub_gets_the_newest_find_messages_finds_for_it(hubs_engine: Engine) -> None:
    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(stored_events(), st.integers(1, 8), st.integers(0, 7))
    def check(events: list[Event], limit: int, hours_back: int) -> None:
        until = T0 - timedelta(hours=hours_back)
        with Session(hubs_engine) as session:
            add_events(session, events)
            hubs = list(session.scalars(select(Hub)))
            ids = {hub.id for hub in hubs}
            newest = newest_per_hub(session.connection(), ids, until, limit)
            bodiless = newest_per_hub(session.connection(), ids, until, limit, with_bodies=False)
            for hub in hubs:
                groups = [] if hub.user_hub else [hub.name]
                alone = find_messages(session, usernames=hub_people(hub), groups=groups,
                                      until=until, limit=limit, with_tags=True)
                assert [(m.msg_id, m.body, sorted(m.tags or ())) for m in newest[hub.id]] == [
                    (m.msg_id, m.body, sorted(m.tags or ())) for m in alone]
                assert bodiless[hub.id] == [replace(m, body={}) for m in newest[hub.id]]
            session.rollback()

    check()


def test_a_time_window_finds_what_filtering_everything_finds(hubs_engine: Engine) -> None:
    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(stored_events(), st.sets(st.sampled_from(PEOPLE), min_size=1),
           st.sets(st.sampled_from(TOPICS)), st.none() | st.integers(0, 7),
           st.none() | st.integers(0, 7))
    def check(events: list[Event], people: set[str], topics: set[str],
              since_hours: int | None, until_hours: int | None) -> None:
        since = None if since_hours is None else T0 - timedelta(hours=since_hours)
        until = None if until_hours is None else T0 - timedelta(hours=until_hours)
        with Session(hubs_engine) as session:
            add_events(session, events)
            every = find_messages(session, usernames=people, groups=["designteam"])
            kept = [m.msg_id for m in every if (since is None or m.timestamp >= since)
                    and (until is None or m.timestamp <= until)
                    and (not topics or m.topic in topics)]
            found = find_messages(session, usernames=people, groups=["designteam"],
                                  topics=topics, since=since, until=until)
            assert [m.msg_id for m in found] == kept
            session.rollback()

    check()


def test_each_persons_messages_are_those_find_messages_tags_with_them(
        hubs_engine: Engine) -> None:
    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(stored_events(), st.sets(st.sampled_from(PEOPLE)),
           st.sets(st.sampled_from(TOPICS), min_size=1), st.none() | st.integers(0, 7),
           st.none() | st.integers(1, 4))
    def check(events: list[Event], people: set[str], topics: set[str],
              since_hours: int | None, limit: int | None) -> None:
        since = None if since_hours is None else T0 - timedelta(hours=since_hours)
        window = {} if since is None else {"since": since}
        with Session(hubs_engine) as session:
            add_events(session, events)
            found = find_messages(session, usernames=people, topics=topics, with_tags=True,
                                  **window)
            expected = messages_tagged(found, TagKind.USER, people)
            each = messages_of_each(session.connection(), TagKind.USER, people, topics=topics,
                                    limit=limit, **window)
            assert each == {name: [replace(m, tags=None) for m in messages[:limit]]
                            for name, messages in expected.items()}
            session.rollback()

    check()
