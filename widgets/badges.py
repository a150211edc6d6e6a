"""Badges: the Fedora Badges a person earned, newest first, so contributions are celebrated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from hubs.events import Event
from hubs.models import WidgetInstance
from hubs.store import find_messages
from hubs.validators import integer, optional, text, username
from hubs.widget import CONFIG_TOPICS, Argument, DataContext, Hint, Panel, Widget, hub_reconfigured
from widgets._user import known_subject, subject, subject_names

AWARD = "fedbadges.badge.award"
BADGES = "https://badges.fedoraproject.org"


def badges_data(ctx: DataContext) -> dict[str, Any]:
    """The newest badges first; Tahrir when web services are on, else the award messages."""
    name = subject(ctx.instance, ctx.config)
    earned = _from_tahrir(ctx, name) if ctx.services.enabled else _from_store(ctx, name)
    earned.sort(key=lambda badge: badge["id"])
    earned.sort(key=lambda badge: datetime.fromisoformat(badge["issued"]), reverse=True)
    return {
        "username": name,
        "badges": earned[:ctx.config["limit"]],
        "total": len(earned),
        "profile": f"{BADGES}/user/{quote(name, safe='')}",
    }


def _from_store(ctx: DataContext, name: str) -> list[dict[str, Any]]:
    """One entry per badge, from its newest award (Tahrir may re-award after a revocation)."""
    seen: dict[str, dict[str, Any]] = {}
    for message in find_messages(ctx.session, usernames=[name], topics=[AWARD]):
        badge = message.body.get("badge", {})
        if message.body.get("user", {}).get("username") != name or badge["badge_id"] in seen:
            continue
        seen[badge["badge_id"]] = _badge(badge["badge_id"], badge["name"], badge["description"],
                                         badge["image"], message.timestamp)
    return list(seen.values())


def _from_tahrir(ctx: DataContext, name: str) -> list[dict[str, Any]]:
    """Tahrir's user JSON lists every assertion, with the award time in epoch seconds."""
    answer = ctx.services.get_json("badges", f"/user/{quote(name, safe='')}/json")
    return [_badge(a["id"], a["name"], a["description"], a["image"],
                   datetime.fromtimestamp(float(a["issued"]), UTC))
            for a in answer["assertions"]]


def _badge(badge_id: str, name: str, description: str, image: str,
           issued: datetime) -> dict[str, Any]:
    return {
        "id": badge_id,
        "name": name,
        "description": description,
        "image": image if urlsplit(image).scheme in ("http", "https") else "",
        "link": f"{BADGES}/badge/{quote(badge_id, safe='')}",
        "issued": issued.astimezone(UTC).isoformat(),
    }


def badge_awarded(event: Event, instance: WidgetInstance) -> bool:
    """A new badge for this widget's person, or a change of its configuration."""
    if hub_reconfigured(event, instance):
        return True
    name = known_subject(instance, instance.config)
    return event.topic == AWARD and name is not None and name in event.usernames


WIDGET = Widget(
    name="badges",
    template="badges.html",
    data=badges_data,
    hint=Hint(topics=CONFIG_TOPICS, usernames=subject_names),
    should_invalidate=badge_awarded,
    arguments=(
        Argument("username", "", optional(username),
                 "the Fedora account whose badges to show; defaults to a user hub's own user"),
        Argument("limit", 12, integer(1, 100), "how many badges to show"),
        Argument("title", "Badges", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Badges"),
    description="The Fedora Badges a person earned, newest first.",
)
