"""Where bus messages come from: fedmsg (ZeroMQ), fedora-messaging (AMQP), or a replay file.

Every source hands messages over in batches, so a burst is handled in one go (each affected
widget re-rendered once) and an AMQP batch is acknowledged only after its files are written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hubs.events import RawMessage, Rejected


@dataclass
class ReadBatch:
    """A batch from a source that nothing acknowledges (a file, an archive): done() and retry()
    have nothing to tell it; reading again is how to get a message again."""

    messages: list[RawMessage] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def done(self) -> None:
        pass

    def retry(self) -> None:
        pass


class Batch(Protocol):
    @property
    def messages(self) -> Sequence[RawMessage]: ...

    @property
    def rejected(self) -> Sequence[Rejected]: ...

    def done(self) -> None:
        """Everything in the batch is handled and its files are written: acknowledge it."""

    def retry(self) -> None:
        """A transient failure (database down): have the batch delivered again later."""


class Source(Protocol):
    name: str
    keeps_history: bool
    """Whether what was sent while nobody listened still arrives (an AMQP queue, a file);
    fedmsg's ZeroMQ does not, so a restart reports the gap to backfill."""

    def batches(self, max_messages: int, max_wait: float,
                stop: threading.Event) -> Iterator[Batch]:
        """Yield batches of at most *max_messages*: wait at most *max_wait* seconds for a first
        message, then take whatever else is already there, so a lone message goes through at
        once and a burst that piled up meanwhile comes as one batch. When nothing came, yield
        an empty batch, so the caller can run its timers. Return when *stop* is set or, for a
        finite source, when it is exhausted."""
        ...

    def close(self) -> None:
        """Release connections; safe to call twice."""
