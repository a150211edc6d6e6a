"""How much a hub's people do on the bus, and where: the Fedora Hubs "fedmsgstats" widget."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select

from hubs.activity import ACTIVITY_HINT, activity_changed, hub_groups
from hubs.clock import today
from hubs.models import Message, TagKind
from hubs.store import Concerning, concerning_ids, hub_people
from hubs.validators import text
from hubs.widget import Argument, DataContext, Panel, Widget

TOP_CATEGORIES = 5
RECENT = timedelta(days=7)


def message_stats_data(ctx: DataContext) -> dict[str, Any]:
    """Counted in the database: a busy team has far too many messages to load. "Last week" is
    today and the seven UTC days before it, so it changes only when the day turns."""
    who = Concerning.of(hub_people(ctx.hub), hub_groups(ctx.hub))
    params = who.params | {"now": ctx.now, "week_ago": today(ctx.now) - RECENT}
    totals, top = _queries(who.kinds)
    connection = ctx.session.connection()  # Core statements: the ORM's execute path is slower
    total, week = connection.execute(totals, params).one()
    categories = [{"name": name, "count": n} for name, n in connection.execute(top, params)]
    return {"total": total, "last_week": week, "categories": categories}


@functools.cache
def _queries(kinds: tuple[TagKind, ...]) -> tuple[Select[int, int], Select[str, int]]:
    """The totals and the top categories, their names and times bound at execution."""
    scope = (Message.id.in_(concerning_ids(kinds)), Message.timestamp <= bindparam("now"))
    recent = func.count(case((Message.timestamp >= bindparam("week_ago"), Message.id)))
    count = func.count().label("count")
    return (select(func.count(), recent).where(*scope),
            select(Message.category, count).where(*scope).group_by(Message.category)
            .order_by(count.desc(), Message.category).limit(TOP_CATEGORIES))


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
    daily=True,
)
