"""Meetings: the next meetings on a team's fedocal calendars, so newcomers know when to join."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from hubs import bodies, clock
from hubs.events import Event
from hubs.models import TagKind, WidgetInstance
from hubs.store import StoredMessage, messages_of_each
from hubs.validators import integer, name_list, text
from hubs.widget import (
    CONFIG_TOPICS,
    Argument,
    BulkContext,
    ConfiguredInstance,
    Hint,
    Panel,
    Widget,
    hub_reconfigured,
)

SCHEDULED = "fedocal.meeting.new"
CHANGED = "fedocal.meeting.update"
CANCELLED = "fedocal.meeting.delete"
MEETING_TOPICS = frozenset({SCHEDULED, CHANGED, CANCELLED})
"""What changes a calendar; ``fedocal.meeting.reminder`` only repeats what is shown."""

FEDOCAL = "https://calendar.fedoraproject.org"

HORIZON = timedelta(days=180)
"""How far ahead meetings are shown: fedocal's own default window for its API."""

LOOKBACK = timedelta(days=365)
"""How far back the message store is read: meetings are rarely scheduled a year ahead."""


def calendars_of(instance: WidgetInstance, config: Mapping[str, Any]) -> list[str]:
    """The configured calendars, or the one named like the hub; [] if the config is broken."""
    try:
        names = name_list(config.get("calendars", []))
    except ValueError:
        names = []  # its render fails and names the argument; invalidators must not raise
    return names or [instance.hub.name]


def meetings_many(ctx: BulkContext,
                  batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """Per calendar, the soonest meetings from the start of today (UTC) on; fedocal when web
    services are on, else the store, read for the whole chunk in one query."""
    names = {item.id: calendars_of(item.instance, item.config) for item in batch}
    today = clock.today(ctx.now)
    if ctx.services.enabled:
        found = {item.id: [m for name in names[item.id] for m in _from_fedocal(ctx, name, today)]
                 for item in batch}
    else:
        calendars = {name for listed in names.values() for name in listed}
        tagged = messages_of_each(ctx.connection, TagKind.GROUP, calendars,
                                  topics=MEETING_TOPICS, since=today - LOOKBACK)
        found = {item.id: _from_store(_merged(tagged, names[item.id]), names[item.id])
                 for item in batch}
    return {item.id: _meetings(names[item.id], found[item.id], today, item.config["limit"])
            for item in batch}


def _merged(tagged: Mapping[str, list[StoredMessage]], names: list[str]) -> list[StoredMessage]:
    """The messages tagged with any of *names*, once each, newest first as the store orders
    them."""
    messages = {m.id: m for name in names for m in tagged[name]}
    return sorted(messages.values(), key=lambda m: (m.timestamp, m.id), reverse=True)


def _meetings(names: list[str], found: list[dict[str, Any]], today: datetime,
              limit: int) -> dict[str, Any]:
    upcoming = [m for m in found if today <= datetime.fromisoformat(m["start"]) < today + HORIZON]
    upcoming.sort(key=lambda m: (datetime.fromisoformat(m["start"]), m["name"], m["id"]))
    calendars = [{"name": name, "link": f"{FEDOCAL}/{quote(name)}/",
                  "meetings": [m for m in upcoming if m["calendar"] == name][:limit]}
                 for name in names]
    return {"calendars": calendars, "count": sum(len(c["meetings"]) for c in calendars)}


def read_meeting(body: Mapping[str, Any]) -> dict[str, Any]:
    """The meeting a fedocal message is about, in the shape ``_view`` reads, checked."""
    meeting = bodies.field(body, "meeting", Mapping)
    checked: dict[str, Any] = {key: bodies.text(meeting, key) for key in (
        "calendar_name", "meeting_name", "meeting_date", "meeting_time_start",
        "meeting_time_stop")}
    checked["meeting_id"] = bodies.number(meeting, "meeting_id")
    checked["meeting_date_end"] = bodies.text(meeting, "meeting_date_end", "")
    checked["meeting_location"] = bodies.text(meeting, "meeting_location", "")
    try:
        _utc(checked["meeting_date"], checked["meeting_time_start"])
        _utc(checked["meeting_date_end"] or checked["meeting_date"],
             checked["meeting_time_stop"])
    except ValueError as e:
        raise bodies.BodyError(f"'meeting' has a date or time fedocal never sends: {e}") from e
    return checked


def _from_store(messages: Sequence[StoredMessage], names: list[str]) -> list[dict[str, Any]]:
    """The newest message about each meeting wins: a later update moves it, a delete drops it."""
    newest: dict[int, tuple[str, Mapping[str, Any]]] = {}
    for message, meeting in bodies.readable(messages, lambda m: read_meeting(m.body)):
        newest.setdefault(meeting["meeting_id"], (message.topic, meeting))
    return [_view(meeting, meeting["calendar_name"]) for topic, meeting in newest.values()
            if topic != CANCELLED and meeting["calendar_name"] in names]


def _from_fedocal(ctx: BulkContext, name: str, today: datetime) -> list[dict[str, Any]]:
    """Fedocal expands recurring meetings itself, one entry per occurrence, times in UTC."""
    answer = ctx.services.get_json("fedocal", "/api/meetings/", {
        "calendar": name, "start": today.date().isoformat(),
        "end": (today + HORIZON).date().isoformat()})
    return [_view(meeting, name) for meeting in answer["meetings"]]


def _view(meeting: Mapping[str, Any], calendar: str) -> dict[str, Any]:
    """Fedocal gives dates and times in UTC; ``meeting_timezone`` is only how it was entered."""
    start = _utc(meeting["meeting_date"], meeting["meeting_time_start"])
    stop = _utc(meeting.get("meeting_date_end") or meeting["meeting_date"],
                meeting["meeting_time_stop"])
    return {
        "id": meeting["meeting_id"],
        "name": meeting["meeting_name"],
        "calendar": calendar,
        "start": start.isoformat(),
        "stop": stop.isoformat(),
        "location": meeting.get("meeting_location") or "",
        "link": f"{FEDOCAL}/meeting/{int(meeting['meeting_id'])}/",
    }


def _utc(day: str, time: str) -> datetime:
    return bodies.naive_time(f"{day} {time}").replace(tzinfo=UTC)


def calendar_changed(event: Event, instance: WidgetInstance) -> bool:
    """A meeting was added, moved or cancelled on one of these calendars; or a reconfiguration."""
    if hub_reconfigured(event, instance):
        return True
    return event.topic in MEETING_TOPICS and not event.groups.isdisjoint(
        calendars_of(instance, instance.config))


WIDGET = Widget(
    name="meetings",
    template="meetings.html",
    load=meetings_many,
    hint=Hint(topics=CONFIG_TOPICS, groups=lambda i: calendars_of(i, i.config)),
    should_invalidate=calendar_changed,
    arguments=(
        Argument("calendars", [], name_list,
                 "fedocal calendars, as a list or comma-separated; defaults to the hub's name"),
        Argument("limit", 5, integer(1, 20), "how many meetings to show per calendar"),
        Argument("title", "Meetings", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Meetings"),
    reads=dict.fromkeys(MEETING_TOPICS, read_meeting),
    description="The next meetings on a team's Fedora calendars.",
    daily=True,
)
