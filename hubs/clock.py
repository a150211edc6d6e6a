"""The data clock: the time a build renders "now" as.

Taken from the newest stored message, never from the wall clock, so the same database always
renders byte-identical pages; on a live bus it advances with every message. Widgets see it only
through its UTC day (`today`): a window counted back from the newest message would move with
every message, and the watcher re-renders only what a message touches.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubs.models import Hub, Message

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def data_now(session: Session) -> datetime:
    newest = session.scalar(select(func.max(Message.timestamp)))
    if newest is None:
        newest = session.scalar(select(func.max(Hub.last_activity)))
    if newest is None:
        return EPOCH
    # func.max bypasses the column type on SQLite; normalise to aware UTC either way.
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest)
    return newest if newest.tzinfo else newest.replace(tzinfo=UTC)


def today(now: datetime) -> datetime:
    """Midnight UTC starting the data clock's day: windows like "the last 30 days" count back
    from it, so their fragments change only when the day turns, and the watcher re-renders
    every daily widget then."""
    return datetime.combine(now.astimezone(UTC).date(), time(), UTC)
