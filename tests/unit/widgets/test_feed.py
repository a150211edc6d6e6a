from datetime import timedelta

import pytest

from hubs.errors import WidgetError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, render_widget
from hubsgen.demo.messages import (
    badge_award,
    build_complete,
    meeting_minutes,
    update_comment,
    wiki_edit,
)
from widgets.feed import WIDGET


def design_hub(session, **config):
    return add_hub(session, "designteam", members={"owner": ["mizmo"], "member": ["riecatnor"]},
                   widgets=[("feed", config)])


def add_design_history(session):
    add_events(session, [
        badge_award(T0 - timedelta(hours=1), "riecatnor", "artboard-artist-i", "Artboard Artist I",
                    "Contributed to the design team's artwork"),
        wiki_edit(T0 - timedelta(days=2), "mizmo", "Design/Logos"),
        meeting_minutes(T0 - timedelta(days=3), "#fedora-design", "designteam", "Weekly design",
                        ["duffy"], {"duffy": 12}),
        build_complete(T0 - timedelta(days=1), "pingou", "pagure", "6.0.1", "1.fc43", 2_301),
        update_comment(T0 - timedelta(days=10), "FEDORA-2026-1a2b3c", "riecatnor", "kevin",
                       "inkscape-1.4-1.fc43", 1, "Works for me"),
        wiki_edit(T0 + timedelta(days=1), "mizmo", "Design/Future"),
    ])


def test_feed_lists_the_newest_messages_about_people_and_group(session):
    hub = design_hub(session)
    add_design_history(session)
    fragment = render_widget(session, hub, "feed")
    summaries = [m["summary"] for m in fragment.data["messages"]]
    assert summaries == [
        'riecatnor was awarded the badge "Artboard Artist I"',
        'mizmo made a wiki edit to "Design/Logos"',
        "duffy's meeting \"Weekly design\" ended in #fedora-design",
        "riecatnor commented on bodhi update FEDORA-2026-1a2b3c (karma: +1)",
    ]
    html = fragment.html
    assert "Recent activity" in html
    assert 'href="https://badges.fedoraproject.org/badge/artboard-artist-i"' in html
    assert 'src="https://apps.fedoraproject.org/img/icons/badges.png" alt=""' in html
    assert '<time datetime="2026-11-02T11:00:00Z">2 Nov 2026, 11:00 UTC</time>' in html
    assert '<time datetime="2026-10-31T12:00:00Z">31 Oct 2026, 12:00 UTC</time>' in html
    assert "pagure" not in html  # pingou's build concerns nobody on the hub


def test_feed_honours_limit(session):
    hub = design_hub(session, limit=2)
    add_design_history(session)
    messages = render_widget(session, hub, "feed").data["messages"]
    assert [m["category"] for m in messages] == ["fedbadges", "wiki"]


def test_feed_on_a_user_hub_shows_that_user(session):
    hub = add_hub(session, "mizmo", user_hub=True, widgets=[("feed", {})])
    add_design_history(session)
    messages = render_widget(session, hub, "feed").data["messages"]
    assert [m["summary"] for m in messages] == ['mizmo made a wiki edit to "Design/Logos"']


def test_feed_empty_state(session):
    hub = design_hub(session)
    fragment = render_widget(session, hub, "feed")
    assert fragment.data == {"messages": []}
    assert 'class="empty"' in fragment.html
    assert "designteam's members" in fragment.html


@pytest.mark.parametrize("limit", [0, 101, "many", True])
def test_feed_refuses_a_bad_limit(session, limit):
    hub = design_hub(session, limit=limit)
    with pytest.raises(WidgetError, match="argument limit"):
        render_widget(session, hub, "feed")


def test_feed_keeps_hostile_messages_inert(session):
    hub = design_hub(session)
    add_events(session, [Event(
        "evil-1", "pagure.issue.new", T0 - timedelta(minutes=5), usernames=frozenset({"mizmo"}),
        summary="<script>alert(1)</script> opened an issue", link="javascript:alert(2)",
        icon="data:image/svg+xml,<svg onload=alert(3)>")])
    fragment = render_widget(session, hub, "feed")
    html = fragment.html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; opened an issue" in html
    assert "javascript:" not in html and "data:image" not in html
    assert fragment.data["messages"][0]["link"] == ""
    assert "<img" not in html


def test_feed_invalidation(session):
    hub = design_hub(session)
    instance = hub.widgets[0]
    assert WIDGET.should_invalidate(wiki_edit(T0, "riecatnor", "Design"), instance)
    assert WIDGET.should_invalidate(
        meeting_minutes(T0, "#fedora-design", "designteam", "Weekly", ["duffy"], {"duffy": 1}),
        instance)
    assert not WIDGET.should_invalidate(build_complete(T0, "pingou", "pagure", "6", "1", 1),
                                        instance)
    assert list(WIDGET.hint.usernames(instance)) == ["mizmo", "riecatnor"]
