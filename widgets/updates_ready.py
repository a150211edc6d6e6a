"""Updates ready for stable: a packager's Bodhi updates that may be pushed, so none waits idle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from hubs.events import Event
from hubs.models import WidgetInstance
from hubs.store import find_messages
from hubs.validators import integer, optional, text, username
from hubs.widget import CONFIG_TOPICS, Argument, DataContext, Hint, Panel, Widget, hub_reconfigured
from widgets._user import known_subject, subject, subject_names

READY = "bodhi.update.requirements_met.stable"
PUSHED = "bodhi.update.complete.stable"
COMMENT = "bodhi.update.comment"
BODHI = "https://bodhi.fedoraproject.org"

LOOKBACK = timedelta(days=60)
"""How far back the message store is read. Bodhi pushes or obsoletes a ready update within
days, and an obsoleted one never gets a ``complete.stable``: older ones are long gone."""

BODHI_PAGE = 100
"""Bodhi's largest page: it cannot filter on meets_testing_requirements, so ask for many."""


def updates_data(ctx: DataContext) -> dict[str, Any]:
    """Ready updates, newest submission first; Bodhi when web services are on, else the store."""
    name = subject(ctx.instance, ctx.config)
    ready = _from_bodhi(ctx, name) if ctx.services.enabled else _from_store(ctx, name)
    ready.sort(key=lambda update: update["alias"])
    ready.sort(key=lambda update: datetime.fromisoformat(update["submitted"]), reverse=True)
    return {
        "username": name,
        "updates": ready[:ctx.config["limit"]],
        "total": len(ready),
        "more": f"{BODHI}/users/{quote(name, safe='')}",
    }


def _from_store(ctx: DataContext, name: str) -> list[dict[str, Any]]:
    """Per alias, the newest of ready/pushed decides; the newest message of all gives karma."""
    state: dict[str, str] = {}
    latest: dict[str, dict[str, Any]] = {}
    for message in find_messages(ctx.session, usernames=[name], topics=[READY, PUSHED, COMMENT],
                                 since=ctx.now - LOOKBACK):
        update = _update_of(message.body)
        if update.get("user", {}).get("name") != name:
            continue
        latest.setdefault(update["alias"], update)
        if message.topic != COMMENT:
            state.setdefault(update["alias"], message.topic)
    return [_view(latest[alias]) for alias, topic in state.items() if topic == READY]


def _from_bodhi(ctx: DataContext, name: str) -> list[dict[str, Any]]:
    answer = ctx.services.get_json("bodhi", "/updates/", {
        "user": name, "status": "testing", "rows_per_page": BODHI_PAGE})
    return [_view(u) for u in answer["updates"] if u.get("meets_testing_requirements")]


def _update_of(body: Any) -> dict[str, Any]:
    """Comments carry the update inside the comment; the other topics carry it at the top."""
    update = body.get("update") or body.get("comment", {}).get("update") or {}
    return dict(update)


def _view(update: dict[str, Any]) -> dict[str, Any]:
    """The same shape from a bus message and from Bodhi's API, whose update fields match."""
    submitted = datetime.strptime(update["date_submitted"], "%Y-%m-%d %H:%M:%S")
    return {
        "alias": update["alias"],
        "link": f"{BODHI}/updates/{quote(update['alias'], safe='')}",
        "title": update["title"],
        "builds": sorted(build["nvr"] for build in update["builds"]),
        "release": update["release"]["name"],
        "karma": update["karma"],
        "stable_karma": update["stable_karma"],
        "submitted": submitted.replace(tzinfo=UTC).isoformat(),
    }


def update_changed(event: Event, instance: WidgetInstance) -> bool:
    """One of this person's updates became ready, was pushed or got karma; or a reconfiguration."""
    if hub_reconfigured(event, instance):
        return True
    name = known_subject(instance, instance.config)
    return (event.topic in (READY, PUSHED, COMMENT) and name is not None
            and name in event.usernames
            and _update_of(event.body).get("user", {}).get("name") == name)


WIDGET = Widget(
    name="updates_ready",
    template="updates_ready.html",
    data=updates_data,
    hint=Hint(topics=CONFIG_TOPICS, usernames=subject_names),
    should_invalidate=update_changed,
    arguments=(
        Argument("username", "", optional(username),
                 "the packager whose updates to show; defaults to a user hub's own user"),
        Argument("limit", 10, integer(1, 50), "how many updates to show"),
        Argument("title", "Updates ready for stable", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Updates ready for stable"),
    description="A packager's Bodhi updates that meet the requirements for stable.",
)
