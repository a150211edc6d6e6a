from dataclasses import replace
from datetime import timedelta

import pytest

from hubs.errors import ServiceError, WidgetError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, render_widget
from hubsgen.demo.messages import badge_award, group_member_added
from widgets.badges import WIDGET


def awards():
    return [
        badge_award(T0 - timedelta(days=30), "ralph", "involvement", "Involvement",
                    "Had a Fedora account for a while."),
        badge_award(T0 - timedelta(days=2), "ralph", "tester-i", "Tester I",
                    "Gave karma to an update."),
        badge_award(T0 - timedelta(days=1), "decause", "involvement", "Involvement",
                    "Had a Fedora account for a while."),
    ]


def test_badges_of_a_user_hub_newest_first(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {})])
    add_events(session, awards())
    fragment = render_widget(session, hub, "badges")
    assert [b["id"] for b in fragment.data["badges"]] == ["tester-i", "involvement"]
    assert fragment.data["total"] == 2
    assert fragment.data["badges"][0] == {
        "id": "tester-i", "name": "Tester I", "description": "Gave karma to an update.",
        "image": "https://badges.fedoraproject.org/pngs/tester-i.png",
        "link": "https://badges.fedoraproject.org/badge/tester-i",
        "issued": (T0 - timedelta(days=2)).isoformat(),
    }
    assert 'alt="Tester I"' in fragment.html
    assert 'href="https://badges.fedoraproject.org/badge/involvement"' in fragment.html
    assert '<time datetime="2026-10-31T12:00:00Z">31 Oct 2026, 12:00 UTC</time>' in fragment.html


def test_badges_on_a_team_hub_name_the_user_and_honour_the_limit(session):
    hub = add_hub(session, "designteam",
                  widgets=[("badges", {"username": "ralph", "limit": 1})])
    add_events(session, awards())
    data = render_widget(session, hub, "badges").data
    assert [b["id"] for b in data["badges"]] == ["tester-i"]
    assert data["total"] == 2


def test_a_badge_awarded_twice_shows_once(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {})])
    add_events(session, [*awards(), badge_award(T0 - timedelta(hours=1), "ralph", "involvement",
                                                "Involvement", "Again.")])
    badges = render_widget(session, hub, "badges").data["badges"]
    assert [(b["id"], b["description"]) for b in badges] == [
        ("involvement", "Again."), ("tester-i", "Gave karma to an update.")]


def test_no_badges_yet(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {})])
    add_events(session, awards()[2:])
    fragment = render_widget(session, hub, "badges")
    assert fragment.data["badges"] == []
    assert '<p class="empty">ralph has not earned any badges yet.' in fragment.html


def test_badges_from_tahrir(session, loopback, live_services):
    loopback.route("/badges/user/ralph/json", {
        "user": {"nickname": "ralph"}, "percent_earned": 1.5,
        "assertions": [
            {"id": "involvement", "name": "Involvement", "description": "Had an account.",
             "image": "https://badges.fedoraproject.org/pngs/involvement.png",
             "issued": (T0 - timedelta(days=300)).timestamp()},
            {"id": "tester-i", "name": "Tester I", "description": "Gave karma.",
             "image": "javascript:alert(1)", "issued": (T0 - timedelta(days=3)).timestamp()},
        ]})
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {})])
    add_events(session, awards())  # ignored: the service is the source when it is on
    fragment = render_widget(session, hub, "badges", services=live_services)
    assert loopback.hits("/badges/user/ralph/json") == 1
    assert [(b["id"], b["issued"]) for b in fragment.data["badges"]] == [
        ("tester-i", (T0 - timedelta(days=3)).isoformat()),
        ("involvement", (T0 - timedelta(days=300)).isoformat()),
    ]
    assert fragment.data["badges"][0]["image"] == ""
    assert "javascript:" not in fragment.html
    assert '<span class="tag">Tester I</span>' in fragment.html


def test_a_failing_tahrir_fails_the_render(session, loopback, live_services):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {})])
    with pytest.raises(WidgetError, match="badges: GET .*/badges/user/ralph/json") as caught:
        render_widget(session, hub, "badges", services=live_services)
    assert isinstance(caught.value.__cause__, ServiceError)


@pytest.mark.parametrize(("hub_name", "user_hub", "config", "culprit"), [
    ("designteam", False, {}, "argument username is required"),
    ("ralph", True, {"username": "Not A Name"}, "argument username must be"),
    ("ralph", True, {"limit": 0}, "argument limit must be from 1 to 100"),
    ("ralph", True, {"limit": "many"}, "argument limit must be a whole number"),
    ("ralph", True, {"colour": "red"}, "unknown argument(s) colour"),
])
def test_bad_configuration_is_refused(session, hub_name, user_hub, config, culprit):
    hub = add_hub(session, hub_name, user_hub=user_hub, widgets=[("badges", config)])
    with pytest.raises(WidgetError) as caught:
        render_widget(session, hub, "badges")
    assert culprit in str(caught.value)


def test_invalidated_by_awards_to_its_user_only(session):
    hub = add_hub(session, "designteam", widgets=[("badges", {"username": "ralph"})])
    instance = hub.widgets[0]
    ralph, decause = awards()[1], awards()[2]
    assert WIDGET.should_invalidate(ralph, instance)
    assert not WIDGET.should_invalidate(decause, instance)
    assert not WIDGET.should_invalidate(group_member_added(T0, "x", "ralph", "designteam"),
                                        instance)
    reconfigured = Event("m1", "hubs.widget.update", T0, body={"hub": "designteam"})
    assert WIDGET.should_invalidate(reconfigured, instance)
    assert not WIDGET.should_invalidate(replace(reconfigured, body={"hub": "other"}), instance)
    # The pre-filter is by the one user, not the topic: an award to anyone else runs no check.
    assert WIDGET.hint.usernames is not None and WIDGET.hint.usernames(instance) == ["ralph"]
    assert "fedbadges.badge.award" not in WIDGET.hint.topics


def test_hostile_badge_text_stays_inert(session):
    hub = add_hub(session, "ralph", user_hub=True,
                  widgets=[("badges", {"title": "<script>alert(0)</script>"})])
    add_events(session, [badge_award(T0, "ralph", "x", '<script>alert(1)</script>',
                                     '"><img src=x onerror=alert(2)>')])
    html = render_widget(session, hub, "badges").html
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_empty_username_means_the_user_hubs_own(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("badges", {"username": ""})])
    add_events(session, awards())
    assert render_widget(session, hub, "badges").data["username"] == "ralph"
