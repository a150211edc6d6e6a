"""The hint index points a message at the few instances whose checks may say yes."""

from __future__ import annotations

from hubs.events import Event
from hubs.plugins import load_widgets
from hubs.testing import T0, add_hub
from hubsgen.watch.index import HintIndex


def event(topic: str, users=(), groups=()) -> Event:
    return Event("m1", topic, T0, usernames=frozenset(users), groups=frozenset(groups))


def test_candidates_by_topic_user_and_group(session):
    ralph = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {}), ("feed", {})])
    team = add_hub(session, "designteam", members={"member": ["duffy"]},
                   widgets=[("feed", {}), ("sticky", {"text": "x"})])
    index = HintIndex(load_widgets())
    index.add([*ralph.widgets, *team.widgets])
    badges, ralph_feed = (w.id for w in ralph.widgets)
    team_feed, sticky = (w.id for w in team.widgets)
    assert index.candidates(event("fedbadges.badge.award", ["ralph"])) == [badges, ralph_feed]
    assert index.candidates(event("wiki.article.edit", ["duffy"])) == [team_feed]
    assert index.candidates(event("meetbot.meeting.complete", groups=["designteam"])) == [
        team_feed]
    assert sticky in index.candidates(event("hubs.widget.update"))
    assert index.candidates(event("buildsys.build.state.change", ["nobody"])) == []
    assert index.instances_of_hubs([team.id]) == {team_feed, sticky}
    index.remove([team_feed])
    assert index.candidates(event("wiki.article.edit", ["duffy"])) == []
    assert index.instances_of_hubs([team.id]) == {sticky}
    assert len(index) == 3


def test_an_unknown_plugin_is_not_watched(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("gone", {}), ("badges", {})])
    index = HintIndex(load_widgets())
    index.add(hub.widgets)
    assert len(index) == 1
