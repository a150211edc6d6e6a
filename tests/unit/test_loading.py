"""Hubs loaded for rendering, on SQLite and on the running PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hubs.loading import load_hubs
from hubs.models import Hub
from hubs.testing import add_hub, make_engine


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_hubs_come_with_their_widgets_and_people_as_the_relationships_give_them(engine):
    with Session(engine) as session:
        team = add_hub(session, "designteam", members={
            "owner": ["duffy"], "member": ["nask0", "ralph"], "stargazer": ["mattdm"]},
            widgets=[("sticky", {"text": "a"}, "side"), ("stats", {}), ("feed", {}),
                     ("sticky", {"text": "b"}, "side"), ("badges", {})])
        user = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {}), ("feed", {})])
        empty = add_hub(session, "emptyteam")
        session.commit()
        ids = [user.id, empty.id, team.id, max(team.id, user.id, empty.id) + 1]
    with Session(engine) as session:  # the relationships' own loading, for reference
        expected = {hub.id: ([(w.id, w.plugin, w.column) for w in hub.widgets],
                             sorted((m.username, m.role) for m in hub.memberships))
                    for hub in session.query(Hub).where(Hub.id.in_(ids))}
    with Session(engine) as session:
        hubs = load_hubs(session, ids)
    # Detached now: anything not loaded would raise instead of querying.
    assert [hub.id for hub in hubs] == sorted(ids[:3])
    for hub in hubs:
        assert ([(w.id, w.plugin, w.column) for w in hub.widgets],
                sorted((m.username, m.role) for m in hub.memberships)) == expected[hub.id]
        assert all(child.hub is hub for child in (*hub.widgets, *hub.memberships))
    assert expected[team.id][0][0][2] == "main", "the side column's widgets come after"
