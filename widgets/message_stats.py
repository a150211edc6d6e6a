"""How much a hub's people do on the bus, and where: the Fedora Hubs "fedmsgstats" widget."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select

from hubs.activity import ACTIVITY_HINT, activity_changed
from hubs.clock import today
from hubs.models import Message
from hubs.store import hub_messages
from hubs.validators import text
from hubs.widget import Argument, BulkContext, ConfiguredInstance, Panel, Widget

TOP_CATEGORIES = 5
RECENT = timedelta(days=7)


def message_stats_many(ctx: BulkContext,
                       batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """Counted in the database: a busy team has far too many messages to load. Two grouped
    queries for all the hubs of a chunk."""
    hub_ids = sorted({item.hub.id for item in batch})
    params = {"hub_ids": hub_ids, "now": ctx.now, "week_ago": today(ctx.now) - RECENT}
    totals_query, top_query = _queries()
    totals = {hub_id: (0, 0) for hub_id in hub_ids}
    for hub_id, total, week in ctx.connection.execute(totals_query, params):
        totals[hub_id] = (total, week)
    top: dict[int, list[dict[str, Any]]] = {hub_id: [] for hub_id in hub_ids}
    for hub_id, name, n in ctx.connection.execute(top_query, params):
        top[hub_id].append({"name": name, "count": n})
    return {item.id: {"total": totals[item.hub.id][0], "last_week": totals[item.hub.id][1],
                      "categories": top[item.hub.id]} for item in batch}


@functools.cache
def _queries() -> tuple[Select[int, int, int], Select[int, str, int]]:
    """The totals and the top categories per hub, hubs and times bound at execution."""
    hits = hub_messages().subquery("hits")
    scope = hits.join(Message, Message.id == hits.c.message_id)
    now = Message.timestamp <= bindparam("now", type_=Message.timestamp.type)
    recent = func.count(case((Message.timestamp >= bindparam("week_ago",
                                                            type_=Message.timestamp.type),
                              Message.id)))
    totals = (select(hits.c.hub_id, func.count(), recent).select_from(scope).where(now)
              .group_by(hits.c.hub_id))
    count = func.count()
    rank = func.row_number().over(partition_by=hits.c.hub_id,
                                  order_by=(count.desc(), Message.category))
    counted = (select(hits.c.hub_id, Message.category, count.label("count"),
                      rank.label("rank"))
               .select_from(scope).where(now).group_by(hits.c.hub_id, Message.category)
               .subquery("counted"))
    top = (select(counted.c.hub_id, counted.c.category, counted.c.count)
           .where(counted.c.rank <= TOP_CATEGORIES)
           .order_by(counted.c.hub_id, counted.c.rank))
    return totals, top


WIDGET = Widget(
    name="message_stats",
    template="message_stats.html",
    load=message_stats_many,
    hint=ACTIVITY_HINT,
    should_invalidate=activity_changed,
    arguments=(
        Argument("title", "Messages", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Messages"),
    description="How many bus messages concern the hub's people, and from which services.",
    daily=True,
)
