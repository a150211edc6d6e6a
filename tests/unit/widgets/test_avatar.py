from datetime import timedelta

import pytest

from hubs.errors import ConfigError, WidgetError
from hubs.events import Event
from hubs.testing import T0, add_hub, add_user, render_widget
from hubsgen.demo.messages import badge_award
from widgets.avatar import WIDGET


def test_avatar_of_a_user_hub_shows_its_user(session):
    add_user(session, "ralph", "Ralph Bean", created=T0 - timedelta(days=3650))
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("avatar", {})])
    fragment = render_widget(session, hub, "avatar")
    assert fragment.data == {"username": "ralph", "fullname": "Ralph Bean",
                             "joined": "2016-11-04T12:00:00+00:00",
                             "profile": "https://accounts.fedoraproject.org/user/ralph/"}
    html = fragment.html
    assert "s=128" in html and 'width="128" height="128"' in html
    assert 'href="https://accounts.fedoraproject.org/user/ralph/"' in html
    assert 'Joined <time datetime="2016-11-04T12:00:00Z">4 Nov 2016, 12:00 UTC</time>' in html
    assert 'class="panel' not in html


def test_avatar_of_someone_hubs_has_not_seen_says_so(session):
    hub = add_hub(session, "designteam", widgets=[("avatar", {"username": "newbie"})])
    fragment = render_widget(session, hub, "avatar")
    assert fragment.data["joined"] is None
    assert 'class="empty"' in fragment.html
    assert "newbie" in fragment.html


def test_avatar_on_a_team_hub_needs_a_username(session):
    hub = add_hub(session, "designteam", widgets=[("avatar", {})])
    with pytest.raises(WidgetError, match=r"designteam/\d+ \(avatar\): argument username"):
        render_widget(session, hub, "avatar")


def test_avatar_refuses_an_invalid_username():
    with pytest.raises(ConfigError, match="argument username must be a Fedora account name"):
        WIDGET.validate_config({"username": "<script>"})


def test_avatar_keeps_a_hostile_full_name_inert(session):
    add_user(session, "mallory", "<script>alert(1)</script>")
    hub = add_hub(session, "mallory", user_hub=True, widgets=[("avatar", {})])
    html = render_widget(session, hub, "avatar").html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_avatar_invalidates_on_reconfiguration_only(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("avatar", {})])
    instance = hub.widgets[0]
    assert WIDGET.should_invalidate(
        Event("1", "hubs.widget.update", T0, body={"hub": "ralph"}), instance)
    assert not WIDGET.should_invalidate(
        badge_award(T0, "ralph", "tester", "Tester", "Tested"), instance)
