from dataclasses import replace
from datetime import timedelta

import pytest

from hubs.errors import WidgetError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, render_widget
from hubsgen.demo.messages import pull_request_closed, pull_request_opened, wiki_edit
from widgets.pending_reviews import WIDGET

DAY = timedelta(days=1)


def history():
    return [
        pull_request_opened(T0 - 9 * DAY, "adamw", "rpms", "tmux", 4, "Rebase to 3.5",
                            ["ralph"]),
        pull_request_opened(T0 - 8 * DAY, "decause", "rpms", "nginx", 12, "Fix the unit file",
                            ["pingou", "ralph"]),
        pull_request_opened(T0 - 7 * DAY, "adamw", "rpms", "cowsay", 2, "Spec cleanup",
                            ["ralph"]),
        pull_request_closed(T0 - 6 * DAY, "ralph", "adamw", "rpms", "cowsay", 2, "Spec cleanup",
                            ["ralph"], merged=True),
        pull_request_opened(T0 - 5 * DAY, "ralph", "rpms", "tmux", 5, "My own change",
                            ["ralph"]),
        pull_request_opened(T0 - 4 * DAY, "adamw", "rpms", "vim", 1, "Not ralph's project",
                            ["zbyszek"]),
    ]


def test_open_requests_by_others_on_projects_the_user_can_merge(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("pending_reviews", {})])
    add_events(session, history())
    fragment = render_widget(session, hub, "pending_reviews")
    assert fragment.data["requests"] == [
        {"project": "rpms/nginx", "number": 12, "title": "Fix the unit file", "author": "decause",
         "link": "https://src.fedoraproject.org/rpms/nginx/pull-request/12",
         "opened": (T0 - 8 * DAY).isoformat()},
        {"project": "rpms/tmux", "number": 4, "title": "Rebase to 3.5", "author": "adamw",
         "link": "https://src.fedoraproject.org/rpms/tmux/pull-request/4",
         "opened": (T0 - 9 * DAY).isoformat()},
    ]
    assert "rpms/nginx#12 by decause" in fragment.html
    assert ('opened <time datetime="2026-10-25T12:00:00Z">25 Oct 2026, 12:00 UTC</time>'
            in fragment.html)
    assert "Spec cleanup" not in fragment.html


def test_limit_and_team_hub_username(session):
    hub = add_hub(session, "designteam",
                  widgets=[("pending_reviews", {"username": "pingou", "limit": 1})])
    add_events(session, history())
    data = render_widget(session, hub, "pending_reviews").data
    assert [(r["project"], r["number"]) for r in data["requests"]] == [("rpms/nginx", 12)]
    assert data["total"] == 1


def test_nothing_to_review(session):
    hub = add_hub(session, "zbyszek", user_hub=True, widgets=[("pending_reviews", {})])
    add_events(session, history()[:5])
    fragment = render_widget(session, hub, "pending_reviews")
    assert fragment.data["requests"] == []
    assert "No pull requests are waiting for zbyszek's review." in fragment.html


def test_pending_reviews_from_pagure(session, loopback, live_services):
    def request(number, author, created):
        return {"id": number, "title": f"PR {number}", "status": "Open",
                "user": {"name": author, "fullname": author.title()},
                "project": {"fullname": "rpms/tmux", "name": "tmux", "namespace": "rpms"},
                "date_created": str(int(created.timestamp())), "assignee": None}

    loopback.route("/pagure/api/0/user/ralph/requests/actionable", {
        "requests": [request(7, "adamw", T0 - 3 * DAY), request(8, "ralph", T0 - DAY),
                     request(9, "decause", T0 - 2 * DAY)],
        "total_requests": 3, "pagination": {"page": 1, "pages": 1, "per_page": 100}})
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("pending_reviews", {})])
    fragment = render_widget(session, hub, "pending_reviews", services=live_services)
    [sent] = loopback.requests
    assert sent.query == {"status": "Open", "per_page": "100"}
    assert [(r["number"], r["author"], r["opened"]) for r in fragment.data["requests"]] == [
        (9, "decause", (T0 - 2 * DAY).isoformat()), (7, "adamw", (T0 - 3 * DAY).isoformat())]


def test_a_stalled_pagure_fails_the_render(session, loopback, live_services):
    loopback.route("/pagure/api/0/user/ralph/requests/actionable", {"requests": []}, stall=30)
    live_services.settings = replace(live_services.settings, timeout=0.2)
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("pending_reviews", {})])
    with pytest.raises(WidgetError, match="pagure: GET .*/requests/actionable"):
        render_widget(session, hub, "pending_reviews", services=live_services)


@pytest.mark.parametrize(("hub_name", "user_hub", "config", "culprit"), [
    ("designteam", False, {"limit": 5}, "argument username is required"),
    ("ralph", True, {"username": 7}, "argument username must be"),
    ("ralph", True, {"limit": -1}, "argument limit must be from 1 to 50"),
])
def test_bad_configuration_is_refused(session, hub_name, user_hub, config, culprit):
    hub = add_hub(session, hub_name, user_hub=user_hub, widgets=[("pending_reviews", config)])
    with pytest.raises(WidgetError) as caught:
        render_widget(session, hub, "pending_reviews")
    assert culprit in str(caught.value)


def test_invalidated_by_requests_the_user_can_merge(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("pending_reviews", {})])
    instance = hub.widgets[0]
    tmux, nginx, _, merged, own, vim = history()
    assert WIDGET.should_invalidate(tmux, instance)
    assert WIDGET.should_invalidate(nginx, instance)
    assert WIDGET.should_invalidate(merged, instance)
    assert not WIDGET.should_invalidate(own, instance)
    assert not WIDGET.should_invalidate(vim, instance)
    assert not WIDGET.should_invalidate(wiki_edit(T0, "ralph", "Packaging"), instance)
    assert WIDGET.should_invalidate(Event("m", "hubs.widget.update", T0, body={"hub": "ralph"}),
                                    instance)


def test_hostile_request_text_stays_inert(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("pending_reviews", {})])
    add_events(session, [pull_request_opened(
        T0, '"><script>alert(2)</script>', "rpms", "tmux", 3, "<script>alert(1)</script>",
        ["ralph"])])
    html = render_widget(session, hub, "pending_reviews").html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'alt="&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in html
