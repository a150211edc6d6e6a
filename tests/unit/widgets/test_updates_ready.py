from datetime import timedelta

import pytest

from hubs.errors import WidgetError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, render_widget
from hubsgen.demo.messages import (
    badge_award,
    update_comment,
    update_pushed_stable,
    update_requirements_met,
)
from widgets.updates_ready import WIDGET

DAY = timedelta(days=1)


def history():
    return [
        update_requirements_met(T0 - 5 * DAY, "FEDORA-2026-aaa", "ralph",
                                ["python-foo-1.0-1.fc43"], "F43"),
        update_pushed_stable(T0 - 4 * DAY, "FEDORA-2026-aaa", "ralph",
                             ["python-foo-1.0-1.fc43"], "F43"),
        update_requirements_met(T0 - 3 * DAY, "FEDORA-2026-bbb", "ralph",
                                ["tmux-3.5-1.fc43", "libevent-2.1-1.fc43"], "F43", karma=2,
                                stable_karma=2),
        update_requirements_met(T0 - 2 * DAY, "FEDORA-2026-ccc", "ralph",
                                ["nginx-1.27-1.fc42"], "F42"),
        update_requirements_met(T0 - DAY, "FEDORA-2026-ddd", "decause",
                                ["cowsay-3.8-1.fc43"], "F43"),
    ]


def test_ready_updates_newest_first_without_pushed_ones(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("updates_ready", {})])
    add_events(session, history())
    fragment = render_widget(session, hub, "updates_ready")
    assert [u["alias"] for u in fragment.data["updates"]] == ["FEDORA-2026-ccc",
                                                              "FEDORA-2026-bbb"]
    assert fragment.data["updates"][1] == {
        "alias": "FEDORA-2026-bbb",
        "link": "https://bodhi.fedoraproject.org/updates/FEDORA-2026-bbb",
        "title": "tmux-3.5-1.fc43 libevent-2.1-1.fc43",
        "builds": ["libevent-2.1-1.fc43", "tmux-3.5-1.fc43"],
        "release": "F43", "karma": 2, "stable_karma": 2,
        "submitted": (T0 - 10 * DAY).replace(microsecond=0).isoformat(),
    }
    assert 'href="https://bodhi.fedoraproject.org/updates/FEDORA-2026-ccc"' in fragment.html
    assert "karma 2/2" in fragment.html
    assert "FEDORA-2026-aaa" not in fragment.html


def test_karma_follows_the_newest_comment_and_the_limit_holds(session):
    hub = add_hub(session, "designteam",
                  widgets=[("updates_ready", {"username": "ralph", "limit": 1})])
    add_events(session, [*history(), update_comment(T0 - DAY / 2, "FEDORA-2026-ccc", "adamw",
                                                    "ralph", "nginx-1.27-1.fc43", 4, "Works")])
    data = render_widget(session, hub, "updates_ready").data
    assert [(u["alias"], u["karma"]) for u in data["updates"]] == [("FEDORA-2026-ccc", 4)]
    assert data["total"] == 2


def test_nothing_ready(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("updates_ready", {})])
    add_events(session, history()[:2])
    fragment = render_widget(session, hub, "updates_ready")
    assert fragment.data["updates"] == []
    assert "None of ralph's updates is waiting" in fragment.html


def test_updates_ready_long_ago_are_presumed_gone(session):
    """Bodhi obsoletes stale updates without a complete.stable, so old ones are not shown."""
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("updates_ready", {})])
    add_events(session, [update_requirements_met(T0 - 61 * DAY, "FEDORA-2026-old", "ralph",
                                                 ["tmux-3.4-1.fc43"], "F43")])
    assert render_widget(session, hub, "updates_ready").data["updates"] == []
    assert render_widget(session, hub, "updates_ready", now=T0 - 30 * DAY).data["total"] == 1


def test_ready_updates_from_bodhi(session, loopback, live_services):
    def update(alias, ready, submitted):
        return {"alias": alias, "title": f"{alias}-pkg-1-1.fc43", "karma": 3, "stable_karma": 3,
                "meets_testing_requirements": ready, "date_submitted": submitted,
                "status": "testing", "release": {"name": "F43", "id_prefix": "FEDORA"},
                "builds": [{"nvr": f"{alias}-pkg-1-1.fc43", "signed": True}],
                "user": {"name": "ralph"}}

    loopback.route("/bodhi/updates/", {
        "updates": [update("FEDORA-2026-x1", True, "2026-10-20 08:00:00"),
                    update("FEDORA-2026-x2", False, "2026-10-30 08:00:00"),
                    update("FEDORA-2026-x3", True, "2026-10-25 08:00:00")],
        "page": 1, "pages": 1, "rows_per_page": 100, "total": 3})
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("updates_ready", {})])
    fragment = render_widget(session, hub, "updates_ready", services=live_services)
    [request] = loopback.requests
    assert request.query == {"user": "ralph", "status": "testing", "rows_per_page": "100"}
    assert [(u["alias"], u["submitted"]) for u in fragment.data["updates"]] == [
        ("FEDORA-2026-x3", "2026-10-25T08:00:00+00:00"),
        ("FEDORA-2026-x1", "2026-10-20T08:00:00+00:00"),
    ]


def test_a_failing_bodhi_fails_the_render(session, loopback, live_services):
    loopback.route("/bodhi/updates/", {"updates": []}, failures=1)
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("updates_ready", {})])
    with pytest.raises(WidgetError, match="bodhi: GET"):
        render_widget(session, hub, "updates_ready", services=live_services)


@pytest.mark.parametrize(("hub_name", "user_hub", "config", "culprit"), [
    ("designteam", False, {}, "argument username is required"),
    ("ralph", True, {"username": "<b>"}, "argument username must be"),
    ("ralph", True, {"limit": 51}, "argument limit must be from 1 to 50"),
])
def test_bad_configuration_is_refused(session, hub_name, user_hub, config, culprit):
    hub = add_hub(session, hub_name, user_hub=user_hub, widgets=[("updates_ready", config)])
    with pytest.raises(WidgetError) as caught:
        render_widget(session, hub, "updates_ready")
    assert culprit in str(caught.value)


def test_invalidated_by_its_users_updates_only(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("updates_ready", {})])
    instance = hub.widgets[0]
    ready, pushed, _, _, others = history()
    assert WIDGET.should_invalidate(ready, instance)
    assert WIDGET.should_invalidate(pushed, instance)
    assert WIDGET.should_invalidate(
        update_comment(T0, "FEDORA-2026-bbb", "adamw", "ralph", "tmux-3.5-1.fc43", 1, "ok"),
        instance)
    assert not WIDGET.should_invalidate(others, instance)
    # ralph commenting on someone else's update changes nothing ralph has waiting
    assert not WIDGET.should_invalidate(
        update_comment(T0, "FEDORA-2026-ddd", "ralph", "decause", "cowsay-3.8-1.fc43", 1, "ok"),
        instance)
    assert not WIDGET.should_invalidate(badge_award(T0, "ralph", "x", "X", "x"), instance)
    assert WIDGET.should_invalidate(Event("m", "hubs.hub.update", T0, body={"hub": "ralph"}),
                                    instance)


def test_hostile_update_text_stays_inert(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("updates_ready", {})])
    add_events(session, [update_requirements_met(
        T0, "FEDORA-<script>alert(1)</script>", "ralph", ["<script>alert(2)</script>-1-1"],
        '<img src=x onerror="alert(3)">')])
    html = render_widget(session, hub, "updates_ready").html
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "FEDORA-%3Cscript%3E" in html
