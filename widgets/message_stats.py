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
    to count each time. One grouped query for all the hubs of a chunk, per hub and category;
    the totals are the sums of a hub's categories."""
    hub_ids = sorted({item.hub.id for item in batch})
    params = {"hub_ids": hub_ids, "today": ctx.now.astimezone(UTC).date(),
              "week_ago": (today(ctx.now) - RECENT).date()}
    counted: dict[int, list[tuple[str, int, int]]] = {hub_id: [] for hub_id in hub_ids}
    for hub_id, category, total, week in ctx.connection.execute(_per_category(), params):
        counted[hub_id].append((category, total, week))
    return {item.id: _stats(counted[item.hub.id]) for item in batch}


def _stats(counted: list[tuple[str, int, int]]) -> dict[str, Any]:
    """A hub's totals, and its TOP_CATEGORIES busiest categories (by name, when tied), from
    its (category, all-time, last week) counts."""
    counted.sort(key=lambda row: (-row[1], row[0]))
    return {"total": sum(row[1] for row in counted), "last_week": sum(row[2] for row in counted),
            "categories": [{"name": category, "count": total}
                           for category, total, _ in counted[:TOP_CATEGORIES]]}


@functools.cache
def _per_category() -> Select[int, str, int, int]:
    """Each bound hub's messages per category, all time and since ``week_ago``, up to
    ``today``. A query for the totals and another for the top categories read every day of
    a hub's counts twice, and took 1.2 to 1.4 times as long at 10,000 users."""
    recent = func.sum(case((HubCount.day >= bindparam("week_ago", type_=HubCount.day.type),
                            HubCount.messages), else_=0))
    return (select(HubCount.hub_id, HubCount.category, func.sum(HubCount.messages), recent)
            .where(HubCount.hub_id.in_(bindparam("hub_ids", expanding=True)),
                   HubCount.day <= bindparam("today", type_=HubCount.day.type))
            .group_by(HubCount.hub_id, HubCount.category))


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
