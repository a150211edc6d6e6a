"""Subscriptions: the hubs a person belongs to and the ones they follow, to hop between them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from hubs.events import Event
from hubs.models import Hub, Membership, Role, WidgetInstance
from hubs.validators import optional, text, username
from hubs.widget import (
    CONFIG_TOPICS,
    MEMBERSHIP_TOPICS,
    Argument,
    BulkContext,
    ConfiguredInstance,
    Hint,
    Panel,
    Widget,
    hub_reconfigured,
)
from widgets._user import known_subject, subject, subject_names

BELONGS = (Role.OWNER.value, Role.MEMBER.value)
"""Strongest first: a hub is listed once, with the strongest role the person holds there."""
FOLLOWS = (Role.SUBSCRIBER.value, Role.STARGAZER.value)


def subscriptions_many(ctx: BulkContext,
                       batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """The memberships of the chunk's people in one query."""
    names = {item.id: subject(item.instance, item.config) for item in batch}
    rows = ctx.connection.execute(
        select(Membership.username, Hub.name, Hub.summary, Hub.archived, Membership.role)
        .join(Membership, Membership.hub_id == Hub.id)
        .where(Membership.username.in_(sorted(set(names.values()))))
        .order_by(Hub.name, Membership.role))
    held: dict[str, list[tuple[str, str, bool, str]]] = {name: [] for name in names.values()}
    for person, hub_name, summary, archived, role in rows:
        held[person].append((hub_name, summary, archived, role))
    return {item.id: _subscriptions(names[item.id], held[names[item.id]]) for item in batch}


def _subscriptions(name: str, rows: list[tuple[str, str, bool, str]]) -> dict[str, Any]:
    """A hub the person belongs to is not listed again among those they follow."""
    roles: dict[str, list[str]] = {}
    hubs: dict[str, dict[str, Any]] = {}
    for hub_name, summary, archived, role in rows:
        roles.setdefault(hub_name, []).append(role)
        hubs[hub_name] = {"name": hub_name, "summary": summary, "archived": archived,
                          "link": f"../{hub_name}/index.html"}
    belongs: list[dict[str, Any]] = []
    follows: list[dict[str, Any]] = []
    for hub_name, held in roles.items():
        section, ranking = (belongs, BELONGS) if set(held) & set(BELONGS) else (follows, FOLLOWS)
        role = next(r for r in ranking if r in held)
        section.append({**hubs[hub_name], "role": role})
    return {"username": name, "belongs": belongs, "follows": follows}


def subscriptions_invalidated(event: Event, instance: WidgetInstance) -> bool:
    """Reconfigured, or the person joined, left, followed or unfollowed a hub."""
    if hub_reconfigured(event, instance):
        return True
    return event.topic in MEMBERSHIP_TOPICS and known_subject(
        instance, instance.config) in event.usernames


WIDGET = Widget(
    name="subscriptions",
    template="subscriptions.html",
    load=subscriptions_many,
    hint=Hint(topics=CONFIG_TOPICS, usernames=subject_names),
    should_invalidate=subscriptions_invalidated,
    arguments=(
        Argument("username", "", optional(username),
                 "the Fedora account whose hubs to list; defaults to a user hub's own user"),
        Argument("title", "Subscriptions", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Subscriptions"),
    description="The hubs a person belongs to and the hubs they follow.",
)
