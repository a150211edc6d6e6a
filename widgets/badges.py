"""Badges: the Fedora Badges a person earned, newest first, so contributions are celebrated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from hubs import bodies
from hubs.events import Event
from hubs.models import TagKind, WidgetInstance
from hubs.services import Services
from hubs.store import StoredMessage, messages_of_each
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
from widgets._user import known_subject, subject, subject_names

AWARD = "fedbadges.badge.award"
BADGES = "https://badges.fedoraproject.org"


def badges_many(ctx: BulkContext,
                batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """The newest badges first; Tahrir when web services are on, else the award messages,
    those of the whole chunk in one query."""
    names = {item.id: subject(item.instance, item.config) for item in batch}
    if ctx.services.enabled:
        return {item.id: _view(names[item.id], _from_tahrir(ctx.services, names[item.id]),
                               item.config["limit"]) for item in batch}
    awards = messages_of_each(ctx.connection, TagKind.USER, set(names.values()), topics=[AWARD])
    return {item.id: _view(names[item.id], _from_store(awards[names[item.id]], names[item.id]),
                           item.config["limit"]) for item in batch}


def _view(name: str, earned: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    earned.sort(key=lambda badge: badge["id"])
    earned.sort(key=lambda badge: datetime.fromisoformat(badge["issued"]), reverse=True)
    return {
        "username": name,
        "badges": earned[:limit],
        "total": len(earned),
        "profile": f"{BADGES}/user/{quote(name, safe='')}",
    }


@dataclass(frozen=True)
class Award:
    username: str
    badge_id: str
    name: str
    description: str
    image: str


def read_award(body: Mapping[str, Any]) -> Award:
    """An award as fedbadges sends it today, or as it did in the fedmsg era: ``image_url``
    instead of ``image``, and no ``badge_id``, which Tahrir derived from the name."""
    name = bodies.text(body, "badge.name")
    badge_id = bodies.text(body, "badge.badge_id", "") or _id_of(name)
    if not badge_id:
        raise bodies.BodyError("'badge.badge_id' is missing and 'badge.name' gives none")
    return Award(username=bodies.text(body, "user.username"), badge_id=badge_id, name=name,
                 description=bodies.text(body, "badge.description", ""),
                 image=bodies.text(body, "badge.image", "")
                 or bodies.text(body, "badge.image_url", ""))


def _id_of(name: str) -> str:
    """Tahrir's id for a badge name: lower case, dashes for spaces, no quotes or brackets."""
    return name.lower().replace(" ", "-").translate(str.maketrans("", "", "\"'()*&?"))


def _from_store(messages: Sequence[StoredMessage], name: str) -> list[dict[str, Any]]:
    """One entry per badge, from its newest award (Tahrir may re-award after a revocation)."""
    seen: dict[str, dict[str, Any]] = {}
    for message, award in bodies.readable(messages, lambda m: read_award(m.body)):
        if award.username != name or award.badge_id in seen:
            continue
        seen[award.badge_id] = _badge(award.badge_id, award.name, award.description,
                                      award.image, message.timestamp)
    return list(seen.values())


def _from_tahrir(services: Services, name: str) -> list[dict[str, Any]]:
    """Tahrir's user JSON lists every assertion, with the award time in epoch seconds."""
    answer = services.get_json("badges", f"/user/{quote(name, safe='')}/json")
    return [_badge(a["id"], a["name"], a["description"], a["image"],
                   datetime.fromtimestamp(float(a["issued"]), UTC))
            for a in answer["assertions"]]


def _badge(badge_id: str, name: str, description: str, image: str,
           issued: datetime) -> dict[str, Any]:
    return {
        "id": badge_id,
        "name": name,
        "description": description,
        "image": image if _is_web(image) else "",
        "link": f"{BADGES}/badge/{quote(badge_id, safe='')}",
        "issued": issued.astimezone(UTC).isoformat(),
    }


def _is_web(url: str) -> bool:
    try:
        return urlsplit(url).scheme in ("http", "https")
    except ValueError:  # an invalid IPv6 host, say
        return False


def badge_awarded(event: Event, instance: WidgetInstance) -> bool:
    """A new badge for this widget's person, or a change of its configuration."""
    if hub_reconfigured(event, instance):
        return True
    name = known_subject(instance, instance.config)
    return event.topic == AWARD and name is not None and name in event.usernames


WIDGET = Widget(
    name="badges",
    template="badges.html",
    load=badges_many,
    hint=Hint(topics=CONFIG_TOPICS, usernames=subject_names),
    should_invalidate=badge_awarded,
    arguments=(
        Argument("username", "", optional(username),
                 "the Fedora account whose badges to show; defaults to a user hub's own user"),
        Argument("limit", 12, integer(1, 100), "how many badges to show"),
        Argument("title", "Badges", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Badges"),
    reads={AWARD: read_award},
    description="The Fedora Badges a person earned, newest first.",
)
