from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hubs.errors import WidgetError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, make_engine, render_widget
from hubsgen.demo.messages import (
    badge_award,
    build_complete,
    meeting_minutes,
    pull_request_opened,
    update_comment,
    update_pushed_stable,
    wiki_edit,
)
from widgets.message_stats import WIDGET


def infra_hub(session, **config):
    return add_hub(session, "infrastructure", members={"owner": ["kevin"], "member": ["smooge"]},
                   widgets=[("message_stats", config)])


def add_infra_history(session):
    """Six services, so the sixth falls out of the top five; builds lead."""
    day = timedelta(days=1)
    add_events(session, [
        build_complete(T0 - 1 * day, "kevin", "ansible", "2.18", "1.fc43", 1),
        build_complete(T0 - 2 * day, "kevin", "nagios", "4.5", "1.fc43", 2),
        build_complete(T0 - 20 * day, "smooge", "mirrormanager", "1.0", "1.fc43", 3),
        update_pushed_stable(T0 - 3 * day, "FEDORA-2026-aa", "kevin", ["ansible-2.18-1.fc43"],
                             "F43"),
        update_comment(T0 - 30 * day, "FEDORA-2026-bb", "smooge", "someone", "nagios-4.5-1.fc43",
                       1, "Works"),
        pull_request_opened(T0 - 8 * day, "smooge", "rpms", "nagios", 4, "Fix", ["kevin"]),
        meeting_minutes(T0 - 6 * day, "#fedora-admin", "infrastructure", "Infra", ["nirik"],
                        {"nirik": 4}),
        wiki_edit(T0 - 40 * day, "smooge", "Infrastructure"),
        badge_award(T0 - 50 * day, "kevin", "egg", "Egg", "Hatched"),
        build_complete(T0 - 1 * day, "pingou", "pagure", "6.0", "1.fc43", 4),  # not theirs
        wiki_edit(T0 + day, "kevin", "Infrastructure/Future"),  # after the data clock
    ])


def test_message_stats_counts_totals_and_top_services(session):
    hub = infra_hub(session)
    add_infra_history(session)
    fragment = render_widget(session, hub, "message_stats")
    assert fragment.data == {
        "total": 9,
        "last_week": 4,
        "categories": [{"name": "buildsys", "count": 3}, {"name": "bodhi", "count": 2},
                       {"name": "fedbadges", "count": 1}, {"name": "meetbot", "count": 1},
                       {"name": "pagure", "count": 1}],
    }
    html = fragment.html
    assert '<dd class="stat-value">9</dd>' in html
    assert '<dd class="stat-value">4</dd>' in html
    assert '<span class="tag">buildsys</span>' in html and "3 messages" in html
    assert "wiki" not in html  # sixth service, by name after the tied ones


def test_message_stats_last_week_is_relative_to_the_data_clock(session):
    hub = infra_hub(session)
    add_infra_history(session)
    data = render_widget(session, hub, "message_stats", now=T0 + timedelta(days=30)).data
    assert data["total"] == 10 and data["last_week"] == 0


def test_message_stats_empty_state(session):
    hub = infra_hub(session)
    add_events(session, [wiki_edit(T0, "pingou", "Pagure")])
    fragment = render_widget(session, hub, "message_stats")
    assert fragment.data == {"total": 0, "last_week": 0, "categories": []}
    assert 'class="empty"' in fragment.html and "<dl" not in fragment.html


def test_message_stats_refuses_unknown_arguments(session):
    hub = infra_hub(session, limit=5)
    with pytest.raises(WidgetError, match="unknown argument.*limit"):
        render_widget(session, hub, "message_stats")


def test_message_stats_escapes_hostile_text(session):
    hub = infra_hub(session, title="<script>alert(1)</script>")
    add_events(session, [Event("evil", "<script>.x", T0, usernames=frozenset({"kevin"}))])
    html = render_widget(session, hub, "message_stats").html
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_message_stats_invalidation(session):
    instance = infra_hub(session).widgets[0]
    assert WIDGET.should_invalidate(build_complete(T0, "smooge", "x", "1", "1", 1), instance)
    assert WIDGET.should_invalidate(
        meeting_minutes(T0, "#fedora-admin", "infrastructure", "Infra", ["nirik"], {}), instance)
    assert not WIDGET.should_invalidate(build_complete(T0, "pingou", "x", "1", "1", 1), instance)


def test_message_stats_queries_run_on_every_backend(db_url):
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            hub = infra_hub(session)
            add_infra_history(session)
            data = render_widget(session, hub, "message_stats").data
            assert (data["total"], data["last_week"]) == (9, 4)
            assert [c["name"] for c in data["categories"]][:2] == ["buildsys", "bodhi"]
    finally:
        engine.dispose()
