"""Understand a bus message: what it concerns (users, packages, groups) and its feed line.

Three readers, each in its own module: ``schemas`` (today's fedora-messaging schema classes),
``legacy`` (fedmsg.meta with the processors Fedora ran in the fedmsg era) and ``fallback`` (the
body's well-known keys). A message that carries a ``fedora_messaging_schema`` header was sent
by today's bus, so its schema class reads it first; any other message is read by fedmsg.meta
first. The first reader that names anyone or anything decides the usernames and packages; a
reader that handles the topic but names nothing still counts (a message may concern no one);
only when no reader handles the topic does the fallback speak. Measured on the recorded
corpus (tests/messages/), this beats a union of readers and schema-first for every era.

The environment a topic's prefix names (prod, stg, dev, however spelt) changes nothing of what
it concerns: a staging deployment understands stg messages as production does prod ones.

A ``Directory`` turns the IRC nicks and e-mail addresses that messages name people by into
usernames, as FAS did for Fedora; without one they stay as the message has them.
"""

from __future__ import annotations

from collections.abc import Callable

from hubs.directory import NO_ALIASES, Directory
from hubs.events import Event, RawMessage
from hubs.understand import fallback, legacy, schemas
from hubs.understand.reading import Reading
from hubs.understand.topics import strip_prefix

NOT_PEOPLE = frozenset({"anonymous"})  # fedmsg.meta's tagger reports it on Python 3


def understand(raw: RawMessage, directory: Directory = NO_ALIASES) -> Event:
    """The Event for *raw*; never raises for a body a reader did not expect.

    Raises what *directory* raises when it cannot be read (its database is down).
    """
    answered = _answered(raw, directory)
    guess = fallback.read(raw, directory)
    primary = next((r for r in answered if r.names_anything), answered[0] if answered else guess)
    ordered = [primary, *answered, guess]
    return Event(
        msg_id=raw.msg_id, topic=strip_prefix(raw.topic), timestamp=raw.timestamp,
        usernames=primary.usernames - NOT_PEOPLE, packages=primary.packages,
        groups=primary.groups or guess.groups, body=raw.body,
        summary=_first(ordered, "summary"), link=_first(ordered, "link"),
        icon=_first(ordered, "icon"))


def load_readers() -> None:
    """Load now what the first message would make each reader load: fedmsg.meta's processors
    and the schema classes, half a second of imports."""
    legacy.processors()
    schemas.topic_index()


def _answered(raw: RawMessage, directory: Directory) -> list[Reading]:
    """The readers' answers in order, up to the first that names anything once every feed
    field is known: no later reader could change what ``understand`` makes of them, so a
    message its first reader reads fully skips the second (often a schema validation)."""
    readers: list[Callable[[], Reading | None]] = [
        lambda: schemas.read(raw), lambda: legacy.read(raw, directory)]
    if not raw.headers.get("fedora_messaging_schema"):
        readers.reverse()
    answered: list[Reading] = []
    for read in readers:
        reading = read()
        if reading is not None:
            answered.append(reading)
        if _decided(answered):
            break
    return answered


def _decided(answered: list[Reading]) -> bool:
    return any(r.names_anything for r in answered) and all(
        any(getattr(r, field) for r in answered) for field in ("summary", "link", "icon"))


def _first(readings: list[Reading], attribute: str) -> str:
    return next((str(getattr(r, attribute)) for r in readings if getattr(r, attribute)), "")
