from dataclasses import replace
from datetime import timedelta

import pytest

from hubs.errors import WidgetError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, render_widget
from hubsgen.demo.messages import meeting_minutes, meeting_scheduled
from widgets.meetings import WIDGET

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def scheduled(meeting_id, name, start, calendar="designteam", when=T0 - 30 * DAY,
              location="#fedora-design@irc.libera.chat"):
    return meeting_scheduled(when, "gnokii", calendar, meeting_id, name, start, 60, location,
                             "Agenda on the wiki")


def rescheduled(event, when, **changes):
    """The same meeting as ``fedocal.meeting.update`` at *when*, with fields changed."""
    meeting = {**event.body["meeting"], **changes}
    return replace(event, msg_id=f"{event.msg_id}-{when:%s}", topic="fedocal.meeting.update",
                   timestamp=when, body={**event.body, "meeting": meeting})


def test_upcoming_meetings_from_the_start_of_today_soonest_first(session):
    hub = add_hub(session, "designteam", widgets=[("meetings", {})])
    add_events(session, [
        scheduled(1, "Design team weekly", T0 + 2 * DAY),
        scheduled(2, "Earlier today", T0 - 3 * HOUR),
        scheduled(3, "Yesterday", T0 - DAY),
        scheduled(4, "Badge sprint", T0 + DAY, location=""),
        scheduled(5, "Other calendar", T0 + DAY, calendar="infrastructure"),
    ])
    fragment = render_widget(session, hub, "meetings")
    [calendar] = fragment.data["calendars"]
    assert calendar["name"] == "designteam"
    assert calendar["link"] == "https://calendar.fedoraproject.org/designteam/"
    assert [m["name"] for m in calendar["meetings"]] == [
        "Earlier today", "Badge sprint", "Design team weekly"]
    assert calendar["meetings"][2] == {
        "id": 1, "name": "Design team weekly", "calendar": "designteam",
        "start": (T0 + 2 * DAY).isoformat(), "stop": (T0 + 2 * DAY + HOUR).isoformat(),
        "location": "#fedora-design@irc.libera.chat",
        "link": "https://calendar.fedoraproject.org/meeting/1/",
    }
    assert '<time datetime="2026-11-04T12:00:00Z">4 Nov 2026, 12:00 UTC</time>' in fragment.html
    assert "#fedora-design@irc.libera.chat" in fragment.html


def test_updates_move_meetings_and_deletes_drop_them(session):
    hub = add_hub(session, "designteam", widgets=[("meetings", {})])
    weekly = scheduled(1, "Weekly", T0 + DAY)
    sprint = scheduled(2, "Sprint", T0 + 3 * DAY)
    moved = rescheduled(weekly, T0 - DAY, meeting_date=(T0 + 5 * DAY).strftime("%Y-%m-%d"),
                        meeting_date_end=(T0 + 5 * DAY).strftime("%Y-%m-%d"))
    cancelled = replace(rescheduled(sprint, T0 - HOUR), topic="fedocal.meeting.delete")
    add_events(session, [weekly, sprint, moved, cancelled])
    [calendar] = render_widget(session, hub, "meetings").data["calendars"]
    assert [(m["name"], m["start"]) for m in calendar["meetings"]] == [
        ("Weekly", (T0 + 5 * DAY).isoformat())]


def test_several_calendars_are_grouped_in_their_order_with_a_limit_each(session):
    hub = add_hub(session, "designteam",
                  widgets=[("meetings", {"calendars": "infrastructure, designteam, qa",
                                         "limit": 1})])
    add_events(session, [scheduled(1, "Design A", T0 + DAY), scheduled(2, "Design B", T0 + DAY),
                         scheduled(3, "Infra", T0 + 2 * DAY, calendar="infrastructure")])
    fragment = render_widget(session, hub, "meetings")
    assert [(c["name"], [m["name"] for m in c["meetings"]])
            for c in fragment.data["calendars"]] == [
        ("infrastructure", ["Infra"]), ("designteam", ["Design A"]), ("qa", [])]
    assert "Nothing scheduled." in fragment.html


def test_no_upcoming_meetings(session):
    hub = add_hub(session, "designteam", widgets=[("meetings", {})])
    add_events(session, [scheduled(1, "Long ago", T0 - 10 * DAY)])
    fragment = render_widget(session, hub, "meetings")
    assert fragment.data["count"] == 0
    assert '<p class="empty">No upcoming meetings on the' in fragment.html
    assert 'href="https://calendar.fedoraproject.org/designteam/">designteam</a>' in fragment.html


def test_meetings_from_fedocal(session, loopback, live_services):
    def meeting(meeting_id, name, date, time):
        return {"meeting_id": meeting_id, "meeting_name": name, "meeting_date": date,
                "meeting_date_end": date, "meeting_time_start": time,
                "meeting_time_stop": "23:00:00", "meeting_timezone": "Europe/Paris",
                "meeting_location": "fedora-meeting@irc.libera.chat",
                "meeting_information": "", "meeting_manager": ["gnokii"],
                "calendar_name": "design"}

    loopback.route("/fedocal/api/meetings/", {
        "meetings": [meeting(9, "Weekly", "2026-11-09", "15:00:00"),
                     meeting(9, "Weekly", "2026-11-02", "15:00:00"),
                     meeting(4, "Early", "2026-11-02", "06:00:00")],
        "arguments": {"start": "2026-11-02", "end": "2027-05-01", "calendar": "design"}})
    hub = add_hub(session, "designteam", widgets=[("meetings", {"calendars": ["design"]})])
    fragment = render_widget(session, hub, "meetings", services=live_services)
    [sent] = loopback.requests
    assert sent.query == {"calendar": "design", "start": "2026-11-02", "end": "2027-05-01"}
    [calendar] = fragment.data["calendars"]
    assert [(m["id"], m["start"]) for m in calendar["meetings"]] == [
        (4, "2026-11-02T06:00:00+00:00"), (9, "2026-11-02T15:00:00+00:00"),
        (9, "2026-11-09T15:00:00+00:00")]


def test_an_unknown_calendar_on_fedocal_fails_the_render(session, loopback, live_services):
    hub = add_hub(session, "designteam", widgets=[("meetings", {})])
    with pytest.raises(WidgetError, match="fedocal: GET .*/fedocal/api/meetings/"):
        render_widget(session, hub, "meetings", services=live_services)


@pytest.mark.parametrize(("config", "culprit"), [
    ({"calendars": "design, <script>"}, "argument calendars contains '<script>'"),
    ({"calendars": 3}, "argument calendars must be a list"),
    ({"limit": 21}, "argument limit must be from 1 to 20"),
])
def test_bad_configuration_is_refused(session, config, culprit):
    hub = add_hub(session, "designteam", widgets=[("meetings", config)])
    with pytest.raises(WidgetError) as caught:
        render_widget(session, hub, "meetings")
    assert culprit in str(caught.value)


def test_invalidated_by_changes_to_its_calendars_only(session):
    hub = add_hub(session, "designteam",
                  widgets=[("meetings", {}), ("meetings", {"calendars": "qa,infrastructure"})])
    default, chosen = hub.widgets
    design = scheduled(1, "Weekly", T0 + DAY)
    infra = scheduled(2, "Infra", T0 + DAY, calendar="infrastructure")
    assert WIDGET.should_invalidate(design, default)
    assert not WIDGET.should_invalidate(design, chosen)
    assert WIDGET.should_invalidate(infra, chosen)
    assert WIDGET.should_invalidate(rescheduled(infra, T0), chosen)
    assert not WIDGET.should_invalidate(replace(infra, topic="fedocal.meeting.reminder"), chosen)
    minutes = meeting_minutes(T0, "#fedora-design", "designteam", "Weekly", ["gnokii"], {})
    assert not WIDGET.should_invalidate(minutes, default)
    assert WIDGET.should_invalidate(
        Event("m", "hubs.widget.update", T0, body={"hub": "designteam"}), chosen)
    broken = add_hub(session, "qa", widgets=[("meetings", {"calendars": 3})]).widgets[0]
    assert WIDGET.should_invalidate(scheduled(3, "QA", T0, calendar="qa"), broken)


def test_hostile_meeting_text_stays_inert(session):
    hub = add_hub(session, "designteam", widgets=[("meetings", {})])
    add_events(session, [scheduled(1, "<script>alert(1)</script>", T0 + DAY,
                                   location='"><script>alert(2)</script>')])
    html = render_widget(session, hub, "meetings").html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
