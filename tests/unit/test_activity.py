"""Which bus messages concern a hub's activity, for the feed, activity and message_stats."""

from datetime import timedelta

from hubs.activity import ACTIVITY_HINT, activity_changed, concerns_hub, hub_groups
from hubs.events import Event
from hubs.testing import T0, add_hub
from hubsgen.demo.messages import (
    badge_award,
    build_complete,
    group_member_added,
    meeting_minutes,
    wiki_edit,
)


def team(session):
    hub = add_hub(session, "designteam", members={"owner": ["mizmo"], "member": ["riecatnor"],
                                                  "subscriber": ["fan"]},
                  widgets=[("feed", {})])
    return hub.widgets[0]


def test_team_people_are_owners_and_members_not_subscribers(session):
    instance = team(session)
    assert sorted(ACTIVITY_HINT.usernames(instance)) == ["mizmo", "riecatnor"]
    assert hub_groups(instance.hub) == ["designteam"]


def test_user_hub_follows_its_user(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("feed", {})])
    instance = hub.widgets[0]
    assert list(ACTIVITY_HINT.usernames(instance)) == ["ralph"]
    assert concerns_hub(badge_award(T0, "ralph", "egg", "Egg", "Hatched"), instance)
    assert not concerns_hub(badge_award(T0, "threebean", "egg", "Egg", "Hatched"), instance)


def test_messages_about_a_member_or_the_group_concern_the_hub(session):
    instance = team(session)
    assert concerns_hub(wiki_edit(T0, "riecatnor", "Design/Logos"), instance)
    assert concerns_hub(meeting_minutes(T0, "#fedora-design", "designteam", "Weekly",
                                        ["someone"], {"someone": 3}), instance)
    group_only = Event("m1", "hubs.custom", T0, groups=frozenset({"designteam"}))
    assert concerns_hub(group_only, instance)


def test_messages_about_others_do_not_concern_the_hub(session):
    instance = team(session)
    assert not concerns_hub(wiki_edit(T0, "fan", "Design/Logos"), instance)
    assert not concerns_hub(build_complete(T0, "pingou", "pagure", "6.0", "1.fc43", 1), instance)
    assert not concerns_hub(meeting_minutes(T0, "#fedora-qa", "qa", "Weekly", ["adamw"],
                                            {"adamw": 2}), instance)
    assert not activity_changed(wiki_edit(T0, "fan", "Design/Logos"), instance)


def test_reconfiguring_or_joining_the_hub_changes_its_activity(session):
    instance = team(session)
    reconfigured = Event("m2", "hubs.widget.update", T0, body={"hub": "designteam"})
    other_hub = Event("m3", "hubs.widget.update", T0, body={"hub": "qa"})
    joined = group_member_added(T0 + timedelta(hours=1), "mizmo", "newbie", "designteam")
    assert activity_changed(reconfigured, instance)
    assert not activity_changed(other_hub, instance)
    assert activity_changed(joined, instance)
    assert {"hubs.widget.update", "fas.group.member.sponsor"} <= ACTIVITY_HINT.topics
