"""Quarantined messages as a source, for ``hubsgen rejected retry`` after a fix.

Each message goes through the watcher again as if it had just arrived; ``done()`` then forgets
the entries that were not quarantined again meanwhile (the watcher counts those as seen once
more), so a message that still fails stays, with its new reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from hubs import quarantine
from hubs.envelopes import MalformedMessage, parse_line
from hubs.events import RawMessage, Rejected
from hubs.models import QuarantinedMessage

log = logging.getLogger(__name__)


class QuarantineBatch:
    def __init__(self, engine: Engine, handed: dict[int, int], messages: list[RawMessage],
                 rejected: list[Rejected]) -> None:
        self.messages = messages
        self.rejected = rejected
        self._engine = engine
        self._handed = handed  # entry id -> its count of refusals when handed out

    def done(self) -> None:
        with Session(self._engine) as session:
            for entry_id, seen in self._handed.items():
                session.execute(delete(QuarantinedMessage).where(
                    QuarantinedMessage.id == entry_id, QuarantinedMessage.seen == seen))
            session.commit()

    def retry(self) -> None:
        """The entries stay in quarantine until a retry gets through."""


class QuarantineSource:
    """The entries with *ids* (all when empty), oldest refusal first, in batches."""

    keeps_history = True

    def __init__(self, engine: Engine, ids: Sequence[int] = ()) -> None:
        self.name = "quarantine"
        self.engine = engine
        self.ids = list(ids)

    def batches(self, max_messages: int, max_wait: float,
                stop: threading.Event) -> Iterator[QuarantineBatch]:
        with Session(self.engine) as session:
            order = (QuarantinedMessage.last_seen, QuarantinedMessage.id)
            query = select(QuarantinedMessage.id).order_by(*order)
            if self.ids:
                query = query.where(QuarantinedMessage.id.in_(self.ids))
            ids = list(session.scalars(query))
        for start in range(0, len(ids), max_messages):
            if stop.is_set():
                return
            with Session(self.engine) as session:  # closed before the watcher writes
                entries = quarantine.entries(session, ids[start:start + max_messages])
                batch = self._batch(sorted(entries, key=lambda e: (e.last_seen, e.id)))
            yield batch

    def _batch(self, entries: Sequence[QuarantinedMessage]) -> QuarantineBatch:
        messages: list[RawMessage] = []
        rejected: list[Rejected] = []
        for entry in entries:
            parsed = read_again(entry)
            if isinstance(parsed, Rejected):
                rejected.append(parsed)
            else:
                messages.append(parsed)
        return QuarantineBatch(self.engine, {e.id: e.seen for e in entries}, messages, rejected)

    def close(self) -> None:
        """Nothing is held between batches."""


def read_again(entry: QuarantinedMessage) -> RawMessage | Rejected:
    """*entry* parsed as its source parsed it, or refused as it was: the same bytes, so
    quarantine counts it as the same message."""
    if entry.kind == "amqp":
        from hubsgen.watch.sources.amqp import reparse  # pika is needed only for these

        return reparse(entry.msg_id, entry.topic, entry.headers, entry.payload)
    try:
        return parse_line(entry.payload)
    except MalformedMessage as e:
        return Rejected(entry.msg_id, str(e), entry.payload, entry.kind, entry.topic,
                        entry.headers)
