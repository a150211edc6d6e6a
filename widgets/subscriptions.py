"""Subscriptions: the hubs a person belongs to and the ones they follow, to hop between them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hubs.events import Event
from hubs.models import Hub, Membership, Role, WidgetInstance
from hubs.validators import optional, text, username
from hubs.widget import (
    CONFIG_TOPICS,
    MEMBERSHIP_TOPICS,
    Argument,
    DataContext,
    Hint,
    Panel,
    Widget,
    hub_reconfigured,
)
from widgets._user import known_subject, subject, subject_names

BELONGS = (Role.OWNER.value, Role.MEMBER.value)
"""Strongest first: a hub is listed once, with the strongest role the person holds there."""
FOLLOWS = (Role.SUBSCRIBER.value, Role.STARGAZER.value)


def subscriptions_data(ctx: DataContext) -> dict[str, Any]:
    """One query; a hub the person belongs to is not listed again among those they follow."""
    name = subject(ctx.instance, ctx.config)
    rows = ctx.session.execute(
        select(Hub.name, Hub.summary, Hub.archived, Membership.role)
        .join(Membership, Membership.hub_id == Hub.id)
        .where(Membership.username == name)
        .order_by(Hub.name, Membership.role))
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
    data=subscriptions_data,
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
