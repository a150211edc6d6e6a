"""Updates ready for stable: a packager's Bodhi updates that may be pushed, so none waits idle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from hubs import bodies
from hubs.events import Event
from hubs.models import WidgetInstance
from hubs.store import StoredMessage
from hubs.validators import integer, optional, text, username
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
from widgets._user import known_subject, per_person, subject_names

READY = "bodhi.update.requirements_met.stable"
PUSHED = "bodhi.update.complete.stable"
COMMENT = "bodhi.update.comment"
BODHI = "https://bodhi.fedoraproject.org"

LOOKBACK = timedelta(days=60)
"""How far back the message store is read. Bodhi pushes or obsoletes a ready update within
days, and an obsoleted one never gets a ``complete.stable``: older ones are long gone."""

BODHI_PAGE = 100
"""Bodhi's largest page: it cannot filter on meets_testing_requirements, so ask for many."""


def updates_many(ctx: BulkContext,
                 batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """Ready updates, newest submission first; Bodhi when web services are on, else the store,
    read for the whole chunk in one query."""
    found = per_person(ctx, batch, topics=[READY, PUSHED, COMMENT], lookback=LOOKBACK,
                       from_service=_from_bodhi, from_store=_from_store)
    return {item.id: _updates(*found[item.id], item.config["limit"]) for item in batch}


def _updates(name: str, ready: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    ready.sort(key=lambda update: update["alias"])
    ready.sort(key=lambda update: datetime.fromisoformat(update["submitted"]), reverse=True)
    return {
        "username": name,
        "updates": ready[:limit],
        "total": len(ready),
        "more": f"{BODHI}/users/{quote(name, safe='')}",
    }


def _from_store(messages: Sequence[StoredMessage], name: str) -> list[dict[str, Any]]:
    """Per alias, the newest of ready/pushed decides; the newest message of all gives karma."""
    state: dict[str, str] = {}
    latest: dict[str, dict[str, Any]] = {}
    for message, update in bodies.readable(messages, lambda m: read_update(m.body)):
        if update is None or update["user"]["name"] != name:
            continue
        latest.setdefault(update["alias"], update)
        if message.topic != COMMENT:
            state.setdefault(update["alias"], message.topic)
    return [_view(latest[alias]) for alias, topic in state.items() if topic == READY]


def _from_bodhi(ctx: BulkContext, name: str) -> list[dict[str, Any]]:
    answer = ctx.services.get_json("bodhi", "/updates/", {
        "user": name, "status": "testing", "rows_per_page": BODHI_PAGE})
    return [_view(u) for u in answer["updates"] if u.get("meets_testing_requirements")]


def read_update(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The update a message is about, in the shape ``_view`` reads; None for a comment from
    before Bodhi 2, which names its update only by title. Comments carry the update inside
    the comment, the other topics at the top. Updates that Bodhi had not yet pushed to
    testing had no alias: their title (the builds) named them."""
    update = bodies.field(body, "update", Mapping, None)
    if update is None:
        update = bodies.field(body, "comment.update", Mapping, None)
        if update is None and "comment" in body:
            return None
    if update is None:
        raise bodies.BodyError("'update' is missing")
    builds = bodies.field(update, "builds", list, [])
    nvrs = sorted(bodies.text(b, "nvr") for b in builds)
    title = bodies.text(update, "title", "") or " ".join(nvrs)
    alias = bodies.text(update, "alias", "") or title
    submitted = bodies.text(update, "date_submitted")
    try:
        bodies.naive_time(submitted)
    except ValueError as e:
        raise bodies.BodyError(f"'update.date_submitted' is not Bodhi's time: {e}") from e
    if not alias:
        raise bodies.BodyError("'update' has no alias, title or builds to name it by")
    return {
        "alias": alias, "title": title, "builds": [{"nvr": nvr} for nvr in nvrs],
        "release": {"name": bodies.text(update, "release.name", "")},
        "karma": bodies.number(update, "karma", 0),
        "stable_karma": bodies.number(update, "stable_karma", 0),
        "date_submitted": submitted, "user": {"name": bodies.text(update, "user.name")},
    }


def _update_of(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The update of *body* for checks that must not raise: None if it does not read."""
    try:
        return read_update(body)
    except bodies.BodyError:
        return None


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
    if event.topic not in (READY, PUSHED, COMMENT) or name is None:
        return False
    update = _update_of(event.body)
    return name in event.usernames and update is not None and update["user"]["name"] == name


WIDGET = Widget(
    name="updates_ready",
    template="updates_ready.html",
    load=updates_many,
    hint=Hint(topics=CONFIG_TOPICS, usernames=subject_names),
    should_invalidate=update_changed,
    arguments=(
        Argument("username", "", optional(username),
                 "the packager whose updates to show; defaults to a user hub's own user"),
        Argument("limit", 10, integer(1, 50), "how many updates to show"),
        Argument("title", "Updates ready for stable", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Updates ready for stable"),
    reads=dict.fromkeys((READY, PUSHED, COMMENT), read_update),
    description="A packager's Bodhi updates that meet the requirements for stable.",
    daily=True,
)
