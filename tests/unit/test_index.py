"""The hint index points a message at the few instances whose checks may say yes."""

from __future__ import annotations

from hubs.events import Event
from hubs.models import Hub
from hubs.plugins import load_widgets
from hubs.testing import T0, add_hub
from hubsgen.watch.index import HintIndex


def event(topic: str, users=(), groups=(), body=None) -> Event:
    return Event("m1", topic, T0, usernames=frozenset(users), groups=frozenset(groups),
                 body=body or {})


def indexed(session, ralph_second: str = "feed") -> tuple[HintIndex, Hub, Hub]:
    """ralph's hub (badges and *ralph_second*) and designteam's (feed, sticky), indexed."""
    ralph = add_hub(session, "ralph", user_hub=True,
                    widgets=[("badges", {}), (ralph_second, {})])
    team = add_hub(session, "designteam", members={"member": ["duffy"]},
                   widgets=[("feed", {}), ("sticky", {"text": "x"})])
    index = HintIndex(load_widgets())
    index.set_hub(ralph)
    index.set_hub(team)
    return index, ralph, team


def test_candidates_by_topic_user_and_group(session):
    index, ralph, team = indexed(session)
    badges, ralph_feed = (w.id for w in ralph.widgets)
    team_feed, sticky = (w.id for w in team.widgets)
    assert index.candidates(event("fedbadges.badge.award", ["ralph"])) == [badges, ralph_feed]
    assert index.candidates(event("wiki.article.edit", ["duffy"])) == [team_feed]
    assert index.candidates(event("meetbot.meeting.complete", groups=["designteam"])) == [
        team_feed]
    assert index.candidates(event("buildsys.build.state.change", ["nobody"])) == []
    assert index.hubs_of([team_feed, sticky, badges]) == {team.id, ralph.id}
    assert len(index) == 4


def test_configuration_and_membership_messages_reach_the_hubs_they_are_about(session):
    index, ralph, team = indexed(session, ralph_second="sticky")
    badges, ralph_sticky = (w.id for w in ralph.widgets)
    team_feed, team_sticky = (w.id for w in team.widgets)
    assert index.candidates(event("hubs.widget.update", body={"hub": "designteam"})) == [
        team_feed, team_sticky]
    assert index.candidates(event("hubs.hub.update", body={"hub": "ralph"})) == [
        badges, ralph_sticky]
    assert index.candidates(event("hubs.widget.update", body={"hub": ["designteam"]})) == []
    assert index.candidates(event("hubs.widget.update", body={"hub": "gone"})) == []
    # Sponsored into designteam: the team's feed, and ralph's widgets that name him (not
    # his sticky note, whose hint lists no membership topic).
    assert index.candidates(event("fas.group.member.sponsor", ["ralph"], ["designteam"])) == [
        badges, team_feed]


def test_a_hub_indexed_again_or_removed_leaves_nothing_behind(session):
    index, ralph, team = indexed(session)
    badges = ralph.widgets[0].id
    team_feed, sticky = (w.id for w in team.widgets)
    session.delete(team.widgets[0])
    session.flush()
    session.refresh(team)
    index.set_hub(team)
    assert index.candidates(event("wiki.article.edit", ["duffy"])) == []
    assert index.candidates(event("hubs.widget.update", body={"hub": "designteam"})) == [sticky]
    assert len(index) == 3
    index.remove_hub(team.id)
    assert index.hubs_of([team_feed, sticky, badges]) == {ralph.id}
    assert index.candidates(event("hubs.widget.update", body={"hub": "designteam"})) == []
    assert len(index) == 2


def test_an_unknown_plugin_is_not_watched(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("gone", {}), ("badges", {})])
    index = HintIndex(load_widgets())
    index.set_hub(hub)
    assert len(index) == 1
