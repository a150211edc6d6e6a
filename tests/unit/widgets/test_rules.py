from dataclasses import replace
from datetime import timedelta

import pytest

from hubs.errors import ConfigError
from hubs.testing import T0, add_events, add_hub, add_user, render_widget
from hubsgen.demo.messages import group_member_added, meeting_minutes, wiki_edit
from widgets.rules import WIDGET

CONFIG = {
    "link": "https://docs.fedoraproject.org/en-US/design/",
    "schedule_text": "Thursdays 15:00 UTC in #fedora-design",
    "schedule_link": "https://calendar.fedoraproject.org/design/",
    "minutes_link": "https://meetbot.fedoraproject.org/sresults/?group_id=design",
}


def _minutes(when, group="designteam", topic="Design team weekly"):
    return meeting_minutes(when, "fedora-design", group, topic, ["mizmo"],
                           {"mizmo": 30, "duffy": 12})


def test_rules_shows_links_owners_and_the_latest_minutes(session):
    add_user(session, "mizmo", "Máirín Duffy")
    hub = add_hub(session, "designteam", members={"owner": ["mizmo", "duffy"],
                                                  "member": ["ryanlerch"]},
                  widgets=[("rules", CONFIG)])
    add_events(session, [_minutes(T0 - timedelta(days=14), topic="Older meeting"),
                         _minutes(T0 - timedelta(days=7)),
                         _minutes(T0 - timedelta(days=1), group="infra")])
    fragment = render_widget(session, hub, "rules")
    data = fragment.data
    assert data["owners"] == [{"username": "duffy", "fullname": "Duffy"},
                              {"username": "mizmo", "fullname": "Máirín Duffy"}]
    assert data["last_meeting"] == {
        "topic": "Design team weekly",
        "link": "https://meetbot.fedoraproject.org/fedora-design/2026-10-26/"
                "designteam.2026-10-26-12.00.html",
        "time": "2026-10-26T12:00:00+00:00",
    }
    html = fragment.html
    assert 'href="https://docs.fedoraproject.org/en-US/design/"' in html
    assert ">Thursdays 15:00 UTC in #fedora-design</a>" in html
    assert '<time datetime="2026-10-26T12:00:00Z">26 Oct 2026, 12:00 UTC</time>' in html
    assert "Older meeting" not in html
    assert "ryanlerch" not in html
    assert html.count('class="avatar"') == 2
    assert 'class="empty"' not in html


def test_rules_with_nothing_to_show_says_so(session):
    hub = add_hub(session, "designteam", widgets=[("rules", {})])
    fragment = render_widget(session, hub, "rules")
    assert fragment.data["last_meeting"] is None
    assert 'class="empty"' in fragment.html


def test_rules_refuses_a_javascript_link_naming_the_argument():
    with pytest.raises(ConfigError, match="argument schedule_link must be an http"):
        WIDGET.validate_config({"schedule_link": "javascript:alert(1)"})


def test_rules_drops_a_non_http_minutes_link_from_the_bus(session):
    hub = add_hub(session, "designteam", widgets=[("rules", {})])
    add_events(session, [replace(_minutes(T0), link="javascript:alert(1)")])
    fragment = render_widget(session, hub, "rules")
    assert fragment.data["last_meeting"]["link"] == ""
    assert "javascript:" not in fragment.html


def test_rules_keeps_hostile_text_inert(session):
    add_user(session, "mallory", "<script>alert(1)</script>")
    hub = add_hub(session, "designteam", members={"owner": ["mallory"]},
                  widgets=[("rules", {"schedule_text": "<script>alert(2)</script>"})])
    add_events(session, [_minutes(T0, topic="<script>alert(3)</script>")])
    html = render_widget(session, hub, "rules").html
    assert "<script" not in html
    assert html.count("&lt;script&gt;") == 3


def test_rules_invalidation(session):
    hub = add_hub(session, "designteam", widgets=[("rules", {})])
    instance = hub.widgets[0]
    yes = [_minutes(T0), group_member_added(T0, "mizmo", "duffy", "designteam")]
    no = [_minutes(T0, group="infra"), group_member_added(T0, "nirik", "duffy", "infra"),
          wiki_edit(T0, "mizmo", "Design")]
    assert all(WIDGET.should_invalidate(e, instance) for e in yes)
    assert not any(WIDGET.should_invalidate(e, instance) for e in no)
    assert WIDGET.hint.groups is not None and WIDGET.hint.groups(instance) == ["designteam"]
