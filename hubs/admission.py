"""The door every bus message passes before it is stored: what cannot be kept safely is refused.

A refused message is quarantined by the watcher with the reason given here, so nothing stored
can break the database, a template or a widget. The door checks that the body is plain JSON of
bounded size and depth with no control characters or lone surrogates, that the id, topic and
time are sane, that the names it concerns are what an account, group or package can be called
(others are dropped: no hub could show them), and that the readers of its topic (membership,
the widgets' ``reads``) accept its body.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hubs import memberships
from hubs.bodies import BodyError, BodyReader, kind_of
from hubs.db import UNAVAILABLE
from hubs.directory import NO_ALIASES, Directory
from hubs.envelopes import MAX_BODY_BYTES
from hubs.errors import HubsError
from hubs.events import Event, RawMessage
from hubs.understand import understand
from hubs.understand.reading import one_line
from hubs.validators import USERNAME_RE

log = logging.getLogger(__name__)

MAX_DEPTH = 40
"""Nesting of a body; the deepest real ones (Bodhi updates with their comments) nest 7."""

FUTURE_SLACK = timedelta(days=1)
"""How far ahead of this machine's clock a message may be sent: the newest message sets the
data clock every page renders "now" as, so one from the year 3000 would empty every window."""

MSG_ID_RE = re.compile(r"[!-~]{1,128}")
TOPIC_RE = re.compile(r"[A-Za-z0-9_.+:/-]{1,255}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")
"""Groups and packages, as the admin commands' name lists accept them."""
UNSAFE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters (tab and newlines are text) and lone surrogates, which no encoder
writes: in a body they would break a page, a terminal or the database."""
MAX_LINK = 1024


class Refused(HubsError):
    """A message the door will not let in, with the stage that refused it."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


class Door:
    """Admit raw messages as Events, or refuse them saying why."""

    def __init__(self, readers: Mapping[str, Iterable[tuple[str, BodyReader]]] | None = None,
                 directory: Directory = NO_ALIASES,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """*readers*: per topic, (who, reader) pairs whose refusal keeps a message out."""
        self.readers = {topic: list(pairs) for topic, pairs in (readers or {}).items()}
        self.directory = directory
        self.clock = clock

    def admit(self, raw: RawMessage) -> Event:
        """The checked Event for *raw*. Raises Refused, or what the directory raises when its
        database is down (an infrastructure fault, not the message's)."""
        check_raw(raw, self.clock() + FUTURE_SLACK)
        try:
            event = understand(raw, self.directory)
        except UNAVAILABLE:
            raise
        except Exception as e:  # noqa: BLE001 - a reader's bug must not let the message stop us
            raise Refused("understand", f"not understood: {type(e).__name__}: {e}") from e
        try:
            event = checked_names(memberships.naming_the_member(event))
        except BodyError as e:
            raise Refused("read", f"hub membership cannot read this {event.topic}: {e}") from e
        for who, reader in self.readers.get(event.topic, ()):
            try:
                reader(event.body)
            except BodyError as e:
                raise Refused("read", f"{who} cannot read this {event.topic}: {e}") from e
        return event


def check_raw(raw: RawMessage, latest: datetime) -> None:
    """Refuse an id, topic, time or body that could not be stored and shown safely."""
    if not isinstance(raw.msg_id, str) or not MSG_ID_RE.fullmatch(raw.msg_id):
        raise Refused("check", "the message id must be 1 to 128 printable ASCII characters, "
                               f"got {shown(raw.msg_id)}")
    if not isinstance(raw.topic, str) or not TOPIC_RE.fullmatch(raw.topic):
        raise Refused("check", "the topic must be 1 to 255 letters, digits and '_.+:/-', "
                               f"got {shown(raw.topic)}")
    if raw.timestamp > latest:
        raise Refused("check", f"it was sent at {raw.timestamp.isoformat()}, in the future: "
                               "this machine's clock says otherwise")
    problem = body_problem(raw.body)
    if problem:
        raise Refused("check", f"body {problem}")


def body_problem(body: Any) -> str:
    """What makes *body* unfit to store, or "": it must be a JSON object of at most
    MAX_BODY_BYTES and MAX_DEPTH levels holding only clean text and finite numbers."""
    if not isinstance(body, Mapping):
        return "is not an object"
    if _fit(body):
        return ""
    return _first_problem(body)


def _fit(body: Mapping[str, Any]) -> bool:
    """Whether ``_first_problem`` finds nothing, found several times faster: no path is
    built, and all the text is searched for unsafe characters at once."""
    size = 0
    texts: list[str] = []
    stack: list[tuple[Mapping[str, Any] | list[Any], int]] = [(body, 1)]
    while stack:
        container, depth = stack.pop()
        if isinstance(container, Mapping):
            for key in container:
                if not isinstance(key, str):
                    return False
                texts.append(key)
                size += len(key) + 4
            items: Iterable[Any] = container.values()
        else:
            items = container
        for item in items:
            if isinstance(item, str):
                texts.append(item)
                size += len(item) + 2
            elif isinstance(item, Mapping | list):
                if depth >= MAX_DEPTH:
                    return False
                stack.append((item, depth + 1))
            elif item is None or isinstance(item, bool | int) or (
                    isinstance(item, float) and math.isfinite(item)):
                size += 8
            else:
                return False
        if size > MAX_BODY_BYTES:
            return False
    return UNSAFE_RE.search("".join(texts)) is None


def _first_problem(body: Mapping[str, Any]) -> str:
    """The problem ``body_problem`` reports: the first met, walking depth first, with its
    path."""
    size = 0
    stack: list[tuple[Any, str, int]] = [(body, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, Mapping | list):
            if depth > MAX_DEPTH:
                return f"nests deeper than {MAX_DEPTH} levels at {path or 'the top'}"
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, item in items:
                if isinstance(value, Mapping):
                    if not isinstance(key, str):
                        return f"has a key that is not text at {path or 'the top'}"
                    if UNSAFE_RE.search(key):
                        return f"has a key with {_unsafe(key)} at {path or 'the top'}"
                    size += len(key) + 4
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, str):
            if UNSAFE_RE.search(value):
                return f"holds {_unsafe(value)} at {path}"
            size += len(value) + 2
        elif isinstance(value, float) and not math.isfinite(value):
            return f"holds {value}, which JSON has no number for, at {path}"
        elif value is None or isinstance(value, bool | int | float):
            size += 8
        else:
            return f"holds a {type(value).__name__}, which JSON has no type for, at {path}"
        if size > MAX_BODY_BYTES:
            return f"is over the {MAX_BODY_BYTES} byte limit"
    return ""


def checked_names(event: Event) -> Event:
    """*event* keeping only names an account, group or package can have, with its feed line,
    link and icon bounded. Readers guess names from free text; a name no hub can have is
    dropped rather than stored."""
    usernames = frozenset(n for n in event.usernames if USERNAME_RE.fullmatch(n))
    groups = frozenset(n for n in event.groups if NAME_RE.fullmatch(n))
    packages = frozenset(n for n in event.packages if NAME_RE.fullmatch(n))
    dropped = (event.usernames - usernames) | (event.groups - groups) | (
        event.packages - packages)
    if dropped:
        log.debug("Message %s: dropped names %s", event.msg_id,
                  ", ".join(shown(n) for n in sorted(dropped)))
    return dataclasses.replace(
        event, usernames=usernames, groups=groups, packages=packages,
        summary=one_line(UNSAFE_RE.sub("", event.summary)),
        link=event.link if len(event.link) <= MAX_LINK else "",
        icon=event.icon if len(event.icon) <= MAX_LINK else "")


def shown(value: Any, limit: int = 80) -> str:
    """*value* for a log line or a terminal: quoted, escaped, cut."""
    text = repr(value[:limit]) if isinstance(value, str) else kind_of(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _unsafe(text: str) -> str:
    found = UNSAFE_RE.search(text)
    assert found is not None
    return f"the character U+{ord(found.group()):04X}"
