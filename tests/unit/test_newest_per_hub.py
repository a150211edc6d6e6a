"""newest_per_hub ranks only each followed name's newest messages; it must pick what ranking
every message of the hub's people and group would, ties in time included."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hubs.events import Event
from hubs.models import Hub, Role
from hubs.store import newest_per_hub
from hubs.testing import T0, add_events, add_hub, make_engine


def test_the_newest_of_a_hub_are_those_of_ranking_all_its_messages(db_url):
    rng = random.Random(7)
    people = [f"user{i}" for i in range(8)]
    events = []
    for n in range(600):
        when = T0 - timedelta(minutes=rng.randrange(300))  # many share a minute
        named = rng.sample(people, rng.choice((1, 1, 2, 3)))
        groups = ["design"] if rng.random() < 0.2 else []
        events.append(Event(f"m{n:04d}", "wiki.article.edit", when,
                            usernames=frozenset(named), groups=frozenset(groups)))
    until = T0 - timedelta(minutes=40)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            team = add_hub(session, "design", members={"owner": people[:2],
                                                       "member": people[2:5],
                                                       "subscriber": people[5:]})
            lone = add_hub(session, "user7", user_hub=True)
            quiet = add_hub(session, "nobody", user_hub=True)
            add_events(session, events)
            session.commit()
            found = newest_per_hub(session.connection(), [team.id, lone.id, quiet.id], until,
                                   25)
            expected = {hub.id: _newest_by_ranking_all(hub, events, until, 25)
                        for hub in (team, lone, quiet)}
    finally:
        engine.dispose()
    assert {hub_id: [m.msg_id for m in messages] for hub_id, messages in found.items()
            } == expected
    assert len(expected[team.id]) == 25 and expected[quiet.id] == []
    assert len(expected[lone.id]) > 0


def _newest_by_ranking_all(hub: Hub, events: list[Event], until: datetime,
                           limit: int) -> list[str]:
    """The reference: a user hub follows its user; a team its owners, members and group.
    Messages were stored in list order, so a later one has the larger id."""
    if hub.user_hub:
        follows = ({hub.name}, set())
    else:
        follows = (set(hub.usernames(Role.OWNER, Role.MEMBER)), {hub.name})
    order = {event.msg_id: n for n, event in enumerate(events)}
    hits = [e for e in events if e.timestamp <= until
            and (follows[0] & set(e.usernames) or follows[1] & set(e.groups))]
    hits.sort(key=lambda e: (e.timestamp, order[e.msg_id]), reverse=True)
    return [e.msg_id for e in hits[:limit]]
