"""Cobwebs: warn visitors that a hub is archived or has gone quiet, before they ask into the void.

A notice-only widget: on a live hub it renders an empty, hidden element rather than the usual
"nothing here" sentence, because an "all is well" panel on every active hub would be noise.
The notice follows the data clock, so a hub that goes quiet without any message about it is
flagged at the next build, and activity concerning its people or group lifts it on the spot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hubs.activity import ACTIVITY_HINT, activity_changed, hub_groups
from hubs.clock import today
from hubs.models import Hub, MessageTag, TagKind
from hubs.store import hub_people
from hubs.validators import integer
from hubs.widget import Argument, DataContext, Widget


def cobwebs_data(ctx: DataContext) -> dict[str, Any]:
    """The hub's state: archived, idle since a date, or active (with nothing else, so it's stable).

    An active hub's data holds no date, so new activity leaves its fragment byte-identical.
    """
    hub = ctx.hub
    if hub.archived:
        return {"state": "archived", "last_activity": hub.last_activity.isoformat()}
    threshold = today(ctx.now) - timedelta(days=ctx.config["days"])
    if hub.last_activity >= threshold or _newest_activity(ctx.session, hub, threshold):
        return {"state": "active"}
    newest = _newest_activity(ctx.session, hub)
    last = max(hub.last_activity, newest) if newest else hub.last_activity
    return {"state": "idle", "days": ctx.config["days"], "last_activity": last.isoformat()}


def _newest_activity(session: Session, hub: Hub,
                     since: datetime | None = None) -> datetime | None:
    """When the newest stored message about the hub's people or group was sent (index scans)."""
    query = select(MessageTag.timestamp).where(or_(
        and_(MessageTag.kind == TagKind.USER.value, MessageTag.name.in_(hub_people(hub))),
        and_(MessageTag.kind == TagKind.GROUP.value, MessageTag.name.in_(hub_groups(hub)))))
    if since is not None:
        query = query.where(MessageTag.timestamp >= since)
    return session.scalar(query.order_by(MessageTag.timestamp.desc()).limit(1))


WIDGET = Widget(
    name="cobwebs",
    template="cobwebs.html",
    data=cobwebs_data,
    hint=ACTIVITY_HINT,
    should_invalidate=activity_changed,
    arguments=(
        Argument("days", 90, integer(1, 3650),
                 "how many days without activity make the hub idle"),
    ),
    description="A notice when the hub is archived or has been idle for a while.",
    daily=True,
)
