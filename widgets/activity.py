"""How busy a hub's people have been, week by week: a bar chart drawn as SVG at build time."""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select

from hubs.activity import ACTIVITY_HINT, activity_changed
from hubs.models import HubCount
from hubs.validators import integer, text
from hubs.widget import Argument, BulkContext, ConfiguredInstance, Panel, Widget

WIDTH = 240
"""The chart's viewBox width: fixed, so labels keep their size whatever the number of weeks."""
BAR_AREA = 64
"""Height of the bars' area in viewBox units; week labels sit below it."""
LABEL_ROOM = 30
"""Room a "30 Nov" label needs, so the last tick does not run off the right edge."""


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """Mondays 00:00 UTC of the *weeks* ISO weeks ending with the one holding *now*."""
    today = now.astimezone(UTC).date()
    monday = datetime.combine(today - timedelta(days=today.weekday()), time(), UTC)
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def weekly_counts(ctx: BulkContext, hub_ids: Collection[int],
                  starts: list[datetime]) -> dict[int, list[int]]:
    """Messages per hub and week in one query over the daily counts: a CASE puts each day in
    its week, GROUP BY sums, for all the hubs of a chunk at once. The last week ends with the
    data clock's day: the clock is the newest message, so nothing stored is later."""
    counts = {hub_id: [0] * len(starts) for hub_id in hub_ids}
    params: dict[str, Any] = {f"start_{i}": start.date() for i, start in enumerate(starts)}
    params |= {"today": ctx.now.astimezone(UTC).date(), "hub_ids": sorted(hub_ids)}
    for hub_id, index, count in ctx.connection.execute(_weekly_query(len(starts)), params):
        counts[hub_id][index] = count
    return counts


@functools.cache
def _weekly_query(weeks: int) -> Select[int, int, int]:
    """One statement per number of weeks, the week starts and hubs bound at execution."""
    starts = [bindparam(f"start_{i}", type_=HubCount.day.type) for i in range(weeks)]
    week = case(*[(HubCount.day >= starts[i], i) for i in reversed(range(weeks))])
    until = bindparam("today", type_=HubCount.day.type)
    return (select(HubCount.hub_id, week.label("week"), func.sum(HubCount.messages))
            .where(HubCount.hub_id.in_(bindparam("hub_ids", expanding=True)),
                   HubCount.day.between(starts[0], until))
            .group_by(HubCount.hub_id, week))


def bars(starts: list[datetime], counts: list[int]) -> list[dict[str, Any]]:
    """Each week with its bar's geometry, so the template only places what Python measured."""
    slot = WIDTH / len(starts)
    step = math.ceil(len(starts) / 4)
    top = max(counts) or 1
    weeks = []
    for i, (start, count) in enumerate(zip(starts, counts, strict=True)):
        height = round(count / top * BAR_AREA, 2)
        weeks.append({
            "start": start.date().isoformat(), "count": count,
            "label": f"{start.day} {start:%b}", "x": round(i * slot + slot * 0.1, 2),
            "y": round(BAR_AREA - height, 2), "width": round(slot * 0.8, 2), "height": height,
            "tick": i % step == 0 and i * slot <= WIDTH - LABEL_ROOM,
        })
    return weeks


def activity_many(ctx: BulkContext,
                  batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """One grouped query per number of weeks charted, for all the hubs of the chunk."""
    by_weeks: dict[int, list[ConfiguredInstance]] = {}
    for item in batch:
        by_weeks.setdefault(item.config["weeks"], []).append(item)
    data: dict[int, dict[str, Any]] = {}
    for weeks, items in by_weeks.items():
        starts = week_starts(ctx.now, weeks)
        counts = weekly_counts(ctx, {item.hub.id for item in items}, starts)
        data |= {item.id: _chart(starts, counts[item.hub.id]) for item in items}
    return data


def _chart(starts: list[datetime], counts: list[int]) -> dict[str, Any]:
    weeks = bars(starts, counts)
    busiest = max(weeks, key=lambda w: w["count"])  # the earliest of equally busy weeks
    total = sum(counts)
    summary = (f"{total} message{'' if total == 1 else 's'} in {len(weeks)} weeks, "
               f"busiest week of {busiest['label']}: {busiest['count']}")
    return {"weeks": weeks, "max": busiest["count"], "total": total, "summary": summary,
            "size": {"width": WIDTH, "bars": BAR_AREA, "label_y": BAR_AREA + 10,
                     "height": BAR_AREA + 14}}


WIDGET = Widget(
    name="activity",
    template="activity.html",
    load=activity_many,
    hint=ACTIVITY_HINT,
    should_invalidate=activity_changed,
    arguments=(
        Argument("weeks", 12, integer(4, 52), "how many weeks to chart, 4 to 52"),
        Argument("title", "Activity", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Activity"),
    description="Messages about the hub's people per week, as a bar chart.",
    daily=True,
)
