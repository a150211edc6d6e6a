from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from hubs.errors import WidgetError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, make_engine, render_widget
from hubsgen.demo.messages import badge_award, build_complete, meeting_minutes, wiki_edit
from widgets.activity import WIDGET, week_starts

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # T0's week
NOW = MONDAY + timedelta(days=3, hours=12)  # Thursday of that week


def design_hub(session, **config):
    return add_hub(session, "designteam", members={"owner": ["mizmo"], "member": ["riecatnor"]},
                   widgets=[("activity", config)])


def add_weeks_of_history(session):
    """Three messages this week, one last week, two at the edges of the 4-week window."""
    add_events(session, [
        wiki_edit(MONDAY, "mizmo", "Design/Start"),  # Monday 00:00 belongs to this week
        badge_award(MONDAY + timedelta(days=1), "riecatnor", "egg", "Egg", "Hatched"),
        meeting_minutes(NOW, "#fedora-design", "designteam", "Weekly", ["duffy"], {"duffy": 3}),
        wiki_edit(MONDAY - timedelta(seconds=1), "mizmo", "Design/Sunday"),  # last week
        wiki_edit(MONDAY - timedelta(weeks=3), "riecatnor", "Design/Oldest"),  # first week
        wiki_edit(MONDAY - timedelta(weeks=3, seconds=1), "mizmo", "Design/TooOld"),
        wiki_edit(NOW + timedelta(days=1), "mizmo", "Design/Future"),  # the clock's next day
        build_complete(NOW - timedelta(hours=1), "pingou", "pagure", "6.0", "1.fc43", 9),
    ])


def test_week_starts_are_iso_mondays_at_midnight_utc():
    assert week_starts(NOW, 4) == [MONDAY - timedelta(weeks=n) for n in (3, 2, 1, 0)]
    assert week_starts(MONDAY, 4)[-1] == MONDAY


def test_activity_counts_messages_per_week(session):
    hub = design_hub(session, weeks=4)
    add_weeks_of_history(session)
    fragment = render_widget(session, hub, "activity", now=NOW)
    data = fragment.data
    assert [(w["start"], w["count"]) for w in data["weeks"]] == [
        ("2026-10-12", 1), ("2026-10-19", 0), ("2026-10-26", 1), ("2026-11-02", 3)]
    assert data["max"] == 3 and data["total"] == 5
    assert data["summary"] == "5 messages in 4 weeks, busiest week of 2 Nov: 3"
    assert [w["height"] for w in data["weeks"]] == [21.33, 0.0, 21.33, 64.0]


def test_activity_draws_an_accessible_svg(session):
    hub = design_hub(session, weeks=4)
    add_weeks_of_history(session)
    html = render_widget(session, hub, "activity", now=NOW).html
    assert 'role="img"' in html and 'viewBox="0 0 240 78"' in html
    assert 'aria-label="5 messages in 4 weeks, busiest week of 2 Nov: 3"' in html
    assert "<title>5 messages in 4 weeks, busiest week of 2 Nov: 3</title>" in html
    assert html.count('<rect class="activity-bar"') == 4
    assert "<title>Week of 2 Nov 2026: 3 messages</title>" in html
    assert "<title>Week of 19 Oct 2026: 0 messages</title>" in html
    assert '<rect class="activity-bar" x="186.0" y="0.0" width="48.0" height="64.0"' in html
    assert "<script" not in html and "http" not in html.split("<svg", 1)[1]


def test_activity_labels_a_few_ticks_that_fit(session):
    hub = design_hub(session, weeks=52)
    add_weeks_of_history(session)
    weeks = render_widget(session, hub, "activity", now=NOW).data["weeks"]
    ticks = [w for w in weeks if w["tick"]]
    assert len(ticks) == 4
    assert all(w["x"] <= 210 for w in ticks)


def test_activity_empty_state(session):
    hub = design_hub(session)
    add_events(session, [wiki_edit(T0, "pingou", "Pagure")])
    fragment = render_widget(session, hub, "activity")
    assert fragment.data["total"] == 0
    assert len(fragment.data["weeks"]) == 12
    assert 'class="empty"' in fragment.html and "<svg" not in fragment.html


@pytest.mark.parametrize("weeks", [3, 53, "a year", None])
def test_activity_refuses_bad_weeks(session, weeks):
    hub = design_hub(session, weeks=weeks)
    with pytest.raises(WidgetError, match="argument weeks"):
        render_widget(session, hub, "activity")


def test_activity_escapes_a_hostile_title(session):
    hub = design_hub(session, title="<script>x</script>")
    add_events(session, [wiki_edit(T0, "mizmo", "Design")])
    html = render_widget(session, hub, "activity").html
    assert "<script" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_activity_invalidation(session):
    instance = design_hub(session).widgets[0]
    assert WIDGET.should_invalidate(badge_award(T0, "mizmo", "egg", "Egg", "Hatched"), instance)
    assert not WIDGET.should_invalidate(badge_award(T0, "pingou", "egg", "Egg", "Hatched"),
                                        instance)
    assert WIDGET.should_invalidate(Event("r", "hubs.widget.update", T0,
                                          body={"hub": "designteam"}), instance)


def test_activity_query_runs_on_every_backend(db_url):
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            hub = design_hub(session, weeks=4)
            add_weeks_of_history(session)
            weeks = render_widget(session, hub, "activity", now=NOW).data["weeks"]
            assert [w["count"] for w in weeks] == [1, 0, 1, 3]
    finally:
        engine.dispose()
