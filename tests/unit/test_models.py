"""The schema on SQLite and on the running PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hubs.clock import EPOCH, data_now
from hubs.events import Event
from hubs.models import Hub, Membership, Message, Role, WidgetInstance
from hubs.store import (
    find_messages,
    hub_people,
    message_view,
    messages_before,
    newest_per_hub,
    record,
)
from hubs.testing import T0, add_events, add_hub, make_engine
from hubsgen.demo import messages


@pytest.fixture
def db(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_hubs_widgets_and_memberships_round_trip(db):
    add_hub(db, "designteam", summary="Design", members={
        "owner": ["duffy"], "member": ["nask0", "duffy"], "stargazer": ["ralph"]},
        widgets=[("sticky", {"text": "hi", "title": "Ünïcode ✓"}, "side"), ("stats", {})])
    db.commit()
    db.expunge_all()
    hub = db.scalar(select(Hub).where(Hub.name == "designteam"))
    assert [(w.plugin, w.column) for w in hub.widgets] == [("stats", "main"), ("sticky", "side")]
    assert hub.widgets[1].config == {"text": "hi", "title": "Ünïcode ✓"}
    assert hub.widgets[1].key == f"designteam/{hub.widgets[1].id}"
    assert hub.usernames(Role.OWNER, Role.MEMBER) == ["duffy", "nask0"]
    assert hub_people(hub) == ["duffy", "nask0"]
    assert hub.created == T0 and hub.created.tzinfo is not None


def test_hub_names_are_unique(db):
    add_hub(db, "designteam")
    with pytest.raises(IntegrityError):
        add_hub(db, "designteam")


def test_a_role_is_held_once(db):
    hub = add_hub(db, "designteam", members={"owner": ["duffy"]})
    hub.memberships.append(Membership(username="duffy", role="owner"))
    with pytest.raises(IntegrityError):
        db.flush()


def test_deleting_a_hub_deletes_its_widgets_and_memberships(db):
    add_hub(db, "designteam", members={"owner": ["duffy"]}, widgets=[("stats", {})])
    db.commit()
    db.delete(db.scalar(select(Hub)))
    db.commit()
    assert db.scalars(select(WidgetInstance)).all() == []
    assert db.scalars(select(Membership)).all() == []


def test_message_store_finds_by_user_group_package_and_time(db):
    add_events(db, [
        messages.badge_award(T0 - timedelta(days=3), "ralph", "tester", "Tester", "Tested"),
        messages.build_complete(T0 - timedelta(days=2), "duffy", "inkscape", "1.4", "1.fc43", 7),
        messages.group_member_added(T0 - timedelta(days=1), "duffy", "nask0", "designteam"),
    ])
    db.commit()
    names = lambda ms: [m.topic for m in ms]  # noqa: E731
    assert names(find_messages(db, usernames=["ralph"])) == ["fedbadges.badge.award"]
    assert names(find_messages(db, usernames=["duffy"])) == [
        "fas.group.member.sponsor", "buildsys.build.state.change"]
    assert names(find_messages(db, packages=["inkscape"])) == ["buildsys.build.state.change"]
    assert names(find_messages(db, groups=["designteam"], usernames=["ralph"],
                               newest_first=False)) == [
        "fedbadges.badge.award", "fas.group.member.sponsor"]
    assert names(find_messages(db, usernames=["duffy"], since=T0 - timedelta(days=1))) == [
        "fas.group.member.sponsor"]
    assert find_messages(db) == []
    view = message_view(find_messages(db, packages=["inkscape"], with_tags=True)[0])
    assert view["usernames"] == ["duffy"] and view["timestamp"].endswith("+00:00")
    assert data_now(db) == T0 - timedelta(days=1)


def test_recording_a_message_twice_stores_it_once(db):
    event = messages.wiki_edit(T0, "ralph", "Design")
    other = messages.wiki_edit(T0, "ralph", "Logos")
    assert [m.msg_id for m in record(db, [event, event])] == [event.msg_id]
    db.commit()
    assert [m.msg_id for m in record(db, [event, other])] == [other.msg_id]
    db.commit()
    assert len(db.scalars(select(Message)).all()) == 2


def test_tags_read_with_their_messages_keep_any_name(db):
    """Tags come back packed in one text per message; no name, whatever it holds, is cut or
    merged with another."""
    names = frozenset({"ab", "a b", "%", "%20", "a%2520b", "x:y", " ", "ünï code", "%%20% "})
    hub = add_hub(db, "ab", user_hub=True)
    event = Event("odd-names", "fas.user.update", T0, usernames=names,
                  packages=frozenset({"p%20q", "p q"}))
    record(db, [event])
    db.flush()
    tags = tuple(sorted([*(("user", n) for n in names), ("package", "p%20q"),
                         ("package", "p q")]))
    assert find_messages(db, usernames=["a b"], with_tags=True)[0].tags == tags
    connection = db.connection()
    assert newest_per_hub(connection, [hub.id], T0, 5)[hub.id][0].tags == tags
    [[pruned]] = messages_before(connection, T0 + timedelta(seconds=1), 10)
    assert pruned.tags == tags


def test_naive_datetimes_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"):
        add_hub(db, "designteam", created=datetime(2026, 1, 1))


def test_data_clock_without_messages(db):
    assert data_now(db) == EPOCH
    add_hub(db, "designteam", last_activity=datetime(2026, 5, 1, tzinfo=UTC))
    assert data_now(db) == datetime(2026, 5, 1, tzinfo=UTC)


def test_pruning_forgets_old_messages_and_their_tags(db):
    from hubs.models import MessageTag
    from hubs.store import prune

    add_events(db, [messages.wiki_edit(T0 - timedelta(days=days), "ralph", f"Page {days}")
                    for days in (1, 10, 500)])
    db.commit()
    assert prune(db, T0 - timedelta(days=400)) == 1
    db.commit()
    assert len(db.scalars(select(Message)).all()) == 2
    assert len(db.scalars(select(MessageTag)).all()) == 2
