"""One shape for a bus message, whatever source it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RawMessage:
    """A bus message as a source received it, before it is understood."""

    msg_id: str
    topic: str  # as published: "org.fedoraproject.prod.bodhi.update.comment"
    timestamp: datetime
    body: Mapping[str, Any]
    headers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """A message that could not be parsed, kept as it came so it can be quarantined and
    read again after a fix: *payload* is an envelope ``parse_line`` reads (kind "envelope")
    or an AMQP delivery's body, with its topic and headers beside it (kind "amqp")."""

    msg_id: str
    reason: str
    payload: bytes = b""
    kind: str = "envelope"
    topic: str = ""
    headers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """A bus message reduced to what invalidators and the message store need."""

    msg_id: str
    topic: str  # without "org.fedoraproject.<env>."
    timestamp: datetime
    usernames: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    packages: frozenset[str] = frozenset()
    body: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    link: str = ""
    icon: str = ""

    @property
    def category(self) -> str:
        """The service that sent it: ``bodhi`` for ``bodhi.update.comment``."""
        return self.topic.split(".", 1)[0]
