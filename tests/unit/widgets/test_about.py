from datetime import timedelta

import pytest

from hubs.errors import ConfigError
from hubs.events import Event
from hubs.testing import T0, add_hub, add_user, render_widget
from widgets.about import WIDGET


def test_about_renders_configured_markdown(session):
    hub = add_hub(session, "designteam", summary="The design team.",
                  widgets=[("about", {"text": "We make *Fedora* look good."})])
    fragment = render_widget(session, hub, "about")
    assert fragment.data == {"html": "<p>We make <em>Fedora</em> look good.</p>\n",
                             "person": None}
    assert "<em>Fedora</em>" in fragment.html
    assert "The design team." not in fragment.html


def test_about_falls_back_to_the_hub_summary(session):
    hub = add_hub(session, "designteam", summary="The design team.", widgets=[("about", {})])
    assert "<p>The design team.</p>" in render_widget(session, hub, "about").html


def test_about_on_a_user_hub_names_the_user_and_when_they_joined(session):
    add_user(session, "ralph", "Ralph Bean", created=T0 - timedelta(days=400))
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("about", {})])
    fragment = render_widget(session, hub, "about")
    assert fragment.data["person"] == {"username": "ralph", "fullname": "Ralph Bean",
                                       "joined": "2025-09-28T12:00:00+00:00"}
    assert "Ralph Bean" in fragment.html
    assert ('joined <time datetime="2025-09-28T12:00:00Z">28 Sep 2025, 12:00 UTC</time>'
            in fragment.html)
    assert 'class="empty"' not in fragment.html


def test_about_without_text_or_summary_shows_the_empty_state(session):
    hub = add_hub(session, "designteam", widgets=[("about", {})])
    fragment = render_widget(session, hub, "about")
    assert fragment.data == {"html": "", "person": None}
    assert 'class="empty"' in fragment.html


def test_about_refuses_overlong_text_naming_the_argument():
    with pytest.raises(ConfigError, match="argument text must be at most 10000"):
        WIDGET.validate_config({"text": "x" * 10_001})


def test_about_keeps_hostile_text_and_names_inert(session):
    add_user(session, "mallory", "<script>alert(1)</script>")
    hub = add_hub(session, "mallory", user_hub=True, summary="<script>alert(2)</script>",
                  widgets=[("about", {"text": "<script>alert(3)</script> hi"})])
    html = render_widget(session, hub, "about").html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_about_invalidates_only_on_its_own_hub_being_reconfigured(session):
    hub = add_hub(session, "designteam", widgets=[("about", {})])
    instance = hub.widgets[0]
    mine = Event("1", "hubs.hub.update", T0, body={"hub": "designteam"})
    other = Event("2", "hubs.hub.update", T0, body={"hub": "infra"})
    chatter = Event("3", "fas.group.member.sponsor", T0, groups=frozenset({"designteam"}))
    assert WIDGET.should_invalidate(mine, instance)
    assert not WIDGET.should_invalidate(other, instance)
    assert not WIDGET.should_invalidate(chatter, instance)
    assert "hubs.hub.update" in WIDGET.hint.topics
