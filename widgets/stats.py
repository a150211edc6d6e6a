"""Stats: how many people run, belong to and follow a hub, at a glance."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hubs.models import Role
from hubs.validators import text
from hubs.widget import (
    CONFIG_TOPICS,
    Argument,
    DataContext,
    Hint,
    Panel,
    Widget,
    membership_changed,
)

LABELS = ((Role.OWNER, "Owner", "Owners"), (Role.MEMBER, "Member", "Members"),
          (Role.SUBSCRIBER, "Subscriber", "Subscribers"),
          (Role.STARGAZER, "Stargazer", "Stargazers"))


def stats_data(ctx: DataContext) -> dict[str, Any]:
    """Counts per role from the memberships the build preloads, so no query of its own."""
    counts = Counter(m.role for m in ctx.hub.memberships)
    return {"stats": [
        {"role": role.value, "count": counts[role.value],
         "label": singular if counts[role.value] == 1 else plural}
        for role, singular, plural in LABELS
    ]}


WIDGET = Widget(
    name="stats",
    template="stats.html",
    data=stats_data,
    hint=Hint(topics=CONFIG_TOPICS, groups=lambda i: [i.hub.name]),
    should_invalidate=membership_changed,
    arguments=(Argument("title", "Stats", text(max_length=80), "the panel's title"),),
    chrome=Panel("Stats"),
    description="Counts of the hub's owners, members, subscribers and stargazers.",
)
