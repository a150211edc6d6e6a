"""How much a hub's people do on the bus, and where: the Fedora Hubs "fedmsgstats" widget."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select

from hubs.activity import ACTIVITY_HINT, activity_changed, hub_groups
from hubs.models import Message
from hubs.store import concerning, hub_people
from hubs.validators import text
from hubs.widget import Argument, DataContext, Panel, Widget

TOP_CATEGORIES = 5
RECENT = timedelta(days=7)


def message_stats_data(ctx: DataContext) -> dict[str, Any]:
    """Counted in the database: a busy team has far too many messages to load."""
    ids = concerning(hub_people(ctx.hub), hub_groups(ctx.hub))
    scope = (Message.id.in_(ids), Message.timestamp <= ctx.now)
    recent = func.count(case((Message.timestamp > ctx.now - RECENT, Message.id)))
    total, week = ctx.session.execute(select(func.count(), recent).where(*scope)).one()
    count = func.count().label("count")
    rows = ctx.session.execute(
        select(Message.category, count).where(*scope).group_by(Message.category)
        .order_by(count.desc(), Message.category).limit(TOP_CATEGORIES))
    categories = [{"name": name, "count": n} for name, n in rows]
    return {"total": total, "last_week": week, "categories": categories}


WIDGET = Widget(
    name="message_stats",
    template="message_stats.html",
    data=message_stats_data,
    hint=ACTIVITY_HINT,
    should_invalidate=activity_changed,
    arguments=(
        Argument("title", "Messages", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Messages"),
    description="How many bus messages concern the hub's people, and from which services.",
)
