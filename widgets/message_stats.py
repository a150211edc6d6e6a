"""How much a hub's people do on the bus, and where: the Fedora Hubs "fedmsgstats" widget."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select

from hubs.activity import ACTIVITY_HINT, activity_changed
from hubs.clock import today
from hubs.models import HubCount
from hubs.validators import text
from hubs.widget import Argument, BulkContext, ConfiguredInstance, Panel, Widget

TOP_CATEGORIES = 5
RECENT = timedelta(days=7)


def message_stats_many(ctx: BulkContext,
                       batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """Summed from the daily counts (hubs/counts.py): a busy team has far too many messages
    to count each time. Two grouped queries for all the hubs of a chunk."""
    hub_ids = sorted({item.hub.id for item in batch})
    params = {"hub_ids": hub_ids, "today": ctx.now.astimezone(UTC).date(),
              "week_ago": (today(ctx.now) - RECENT).date()}
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
    """The totals and the top categories per hub, hubs and days bound at execution."""
    scope = (HubCount.hub_id.in_(bindparam("hub_ids", expanding=True)),
             HubCount.day <= bindparam("today", type_=HubCount.day.type))
    recent = func.sum(case((HubCount.day >= bindparam("week_ago", type_=HubCount.day.type),
                            HubCount.messages), else_=0))
    totals = (select(HubCount.hub_id, func.sum(HubCount.messages), recent).where(*scope)
              .group_by(HubCount.hub_id))
    count = func.sum(HubCount.messages)
    rank = func.row_number().over(partition_by=HubCount.hub_id,
                                  order_by=(count.desc(), HubCount.category))
    counted = (select(HubCount.hub_id, HubCount.category, count.label("count"),
                      rank.label("rank"))
               .where(*scope).group_by(HubCount.hub_id, HubCount.category)
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
