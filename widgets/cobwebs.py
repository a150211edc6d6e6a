"""Cobwebs: warn visitors that a hub is archived or has gone quiet, before they ask into the void.

A notice-only widget: on a live hub it renders an empty, hidden element rather than the usual
"nothing here" sentence, because an "all is well" panel on every active hub would be noise.
The notice follows the data clock, so a hub that goes quiet without any message about it is
flagged at the next build, and activity concerning its people or group lifts it on the spot.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from hubs.activity import ACTIVITY_HINT, activity_changed
from hubs.clock import today
from hubs.models import MessageTag
from hubs.store import hub_tags
from hubs.validators import integer
from hubs.widget import Argument, BulkContext, ConfiguredInstance, Widget


def cobwebs_many(ctx: BulkContext,
                 batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """Each hub's state; the newest activity of all the chunk's hubs in one grouped query."""
    newest = _newest_activity(ctx, [item.hub.id for item in batch if not item.hub.archived])
    return {item.id: _state(ctx, item, newest.get(item.hub.id)) for item in batch}


def _state(ctx: BulkContext, item: ConfiguredInstance,
           newest: datetime | None) -> dict[str, Any]:
    """The hub's state: archived, idle since a date, or active (with nothing else, so it's stable).

    An active hub's data holds no date, so new activity leaves its fragment byte-identical.
    """
    hub = item.hub
    if hub.archived:
        return {"state": "archived", "last_activity": hub.last_activity.isoformat()}
    threshold = today(ctx.now) - timedelta(days=item.config["days"])
    if hub.last_activity >= threshold or (newest is not None and newest >= threshold):
        return {"state": "active"}
    last = max(hub.last_activity, newest) if newest else hub.last_activity
    return {"state": "idle", "days": item.config["days"], "last_activity": last.isoformat()}


def _newest_activity(ctx: BulkContext, hub_ids: list[int]) -> dict[int, datetime]:
    """When the newest stored message about each hub's people or group was sent."""
    if not hub_ids:
        return {}
    rows = ctx.connection.execute(_newest_query(), {"hub_ids": sorted(set(hub_ids))})
    return {hub_id: newest for hub_id, newest in rows if newest is not None}


@functools.cache
def _newest_query() -> Select[int, datetime]:
    """The newest tag of each followed name is one seek down the tags index; the maximum over
    a join of every tag of a team's people read each of them, 24 times the time."""
    who = hub_tags().subquery("who")
    newest = (select(func.max(MessageTag.timestamp))
              .where(MessageTag.kind == who.c.kind, MessageTag.name == who.c.name)
              .scalar_subquery())
    per_name = select(who.c.hub_id, newest.label("newest")).subquery("per_name")
    return select(per_name.c.hub_id, func.max(per_name.c.newest)).group_by(per_name.c.hub_id)


WIDGET = Widget(
    name="cobwebs",
    template="cobwebs.html",
    load=cobwebs_many,
    hint=ACTIVITY_HINT,
    should_invalidate=activity_changed,
    arguments=(
        Argument("days", 90, integer(1, 3650),
                 "how many days without activity make the hub idle"),
    ),
    description="A notice when the hub is archived or has been idle for a while.",
    daily=True,
)
