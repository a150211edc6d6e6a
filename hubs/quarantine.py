"""Keep the messages that could not be handled, and find, read back and forget them.

A quarantined message is never lost and never in the way: the watcher records it here, goes
on with its batch, and an operator sees it with ``hubsgen rejected`` and retries it after a fix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from hubs.admission import UNSAFE_RE
from hubs.envelopes import envelope_bytes
from hubs.events import RawMessage, Rejected
from hubs.models import QuarantinedMessage

MAX_REASON = 2000


def keep(session: Session, rejected: Rejected, stage: str, source: str,
         now: datetime | None = None) -> QuarantinedMessage:
    """Record *rejected*, or count it again, with its new reason, if the same message is
    there already (its source stays the first one's)."""
    now = now or datetime.now(UTC)
    digest = _digest(rejected)
    entry = session.scalar(select(QuarantinedMessage).where(QuarantinedMessage.digest == digest))
    if entry is None:
        entry = QuarantinedMessage(
            digest=digest, msg_id=_cut(rejected.msg_id, 128), topic=_cut(rejected.topic, 255),
            kind=rejected.kind, payload=rejected.payload, source=_cut(source, 255),
            headers=json.loads(json.dumps(dict(rejected.headers), default=str)),
            first_seen=now, seen=0)
        session.add(entry)
    entry.stage = stage
    entry.reason = _cut(rejected.reason, MAX_REASON)
    entry.last_seen = now
    entry.seen += 1
    return entry


def entries(session: Session, ids: Sequence[int] = (), stage: str | None = None,
            limit: int | None = None) -> list[QuarantinedMessage]:
    """Quarantined messages, the most recently refused first; only *ids* if given."""
    query = select(QuarantinedMessage).order_by(QuarantinedMessage.last_seen.desc(),
                                                QuarantinedMessage.id.desc())
    if ids:
        query = query.where(QuarantinedMessage.id.in_(ids))
    if stage:
        query = query.where(QuarantinedMessage.stage == stage)
    return list(session.scalars(query.limit(limit)))


def forget(session: Session, ids: Sequence[int] = (), before: datetime | None = None) -> int:
    """Delete the entries with *ids*, or last refused before *before*, or all; how many."""
    statement = delete(QuarantinedMessage)
    if ids:
        statement = statement.where(QuarantinedMessage.id.in_(ids))
    if before is not None:
        statement = statement.where(QuarantinedMessage.last_seen < before)
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def rejected_of(raw: RawMessage, reason: str) -> Rejected:
    """A parsed message refused later, kept as an envelope to read again."""
    return Rejected(raw.msg_id, reason, envelope_bytes(raw), "envelope", raw.topic)


def _digest(rejected: Rejected) -> str:
    seed = hashlib.sha256()
    for part in (rejected.kind.encode(), rejected.topic.encode("utf-8", "replace"),
                 rejected.payload):
        seed.update(len(part).to_bytes(8, "big"))
        seed.update(part)
    return seed.hexdigest()


def _cut(text: str, limit: int) -> str:
    """*text* fit for a text column (no NUL, no lone surrogate), at most *limit* characters:
    such characters are written as their escapes."""
    text = UNSAFE_RE.sub(lambda m: m.group().encode("unicode_escape").decode(), text[:limit])
    return text if len(text) <= limit else text[:limit - 1] + "…"
