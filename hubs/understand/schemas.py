"""Read a message with its fedora-messaging schema class, as today's Fedora services publish it.

The class comes from the ``fedora_messaging_schema`` header when the message has one, else from
the classes the installed schema packages register in the ``fedora.messages`` entry point
group, matched on the topic (without prefix). A class whose schema rejects the body, or that
raises on it (fedmsg-era bodies often do), gives no reading.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from hubs.events import RawMessage
from hubs.understand.reading import Reading, names, one_line, web_url
from hubs.understand.topics import strip_prefix

log = logging.getLogger(__name__)


@cache
def topic_index() -> dict[str, tuple[type[Any], ...]]:
    """Schema classes by topic without prefix, newest version first; built on first use."""
    index: defaultdict[str, set[type[Any]]] = defaultdict(set)
    for entry_point in entry_points(group="fedora.messages"):
        try:
            cls = entry_point.load()
        except Exception:  # noqa: BLE001 - one broken schema package must not hide the others
            log.exception("Could not load fedora.messages schema %s", entry_point.name)
            continue
        topic = getattr(cls, "topic", "")
        if isinstance(topic, str) and topic:
            index[strip_prefix(topic)].add(cls)
    return {topic: tuple(sorted(classes, key=lambda c: (c.__module__, c.__name__),
                                reverse=True))
            for topic, classes in index.items()}


def read(raw: RawMessage) -> Reading | None:
    """What the first schema class that accepts the body says, or None if none does."""
    for cls in _candidates(raw):
        message = _validated(cls, raw)
        if message is not None:
            return _reading(message, raw)
    return None


def _candidates(raw: RawMessage) -> tuple[type[Any], ...]:
    schema = raw.headers.get("fedora_messaging_schema")
    if isinstance(schema, str) and schema:
        from fedora_messaging.message import Message, get_class
        cls = get_class(schema)
        if cls is not Message:
            return (cls,)
    return topic_index().get(strip_prefix(raw.topic), ())


def _validated(cls: type[Any], raw: RawMessage) -> Any:
    try:
        with warnings.catch_warnings():  # old versions of a schema warn they are deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            message = cls(body=dict(raw.body), topic=raw.topic)
        message.validate()
    except Exception as e:  # noqa: BLE001 - jsonschema's ValidationError, or a broken class
        log.debug("Schema %s rejects %s: %s", cls.__name__, raw.msg_id, str(e).split("\n")[0])
        return None
    return message


def _reading(message: Any, raw: RawMessage) -> Reading:
    def ask(attribute: str) -> Any:
        return _ask(lambda: getattr(message, attribute), attribute, raw)

    summary = ask("summary") or _ask(lambda: str(message), "__str__", raw)
    return Reading(source=f"schema {type(message).__name__}", usernames=names(ask("usernames")),
                   packages=names(ask("packages")), groups=names(ask("groups")),
                   summary=one_line(summary), link=web_url(ask("url")),
                   icon=web_url(ask("app_icon")))


def _ask(get: Callable[[], Any], what: str, raw: RawMessage) -> Any:
    try:
        return get()
    except Exception as e:  # noqa: BLE001 - schema properties assume bodies they validated
        log.debug("Schema property %s failed on %s: %r", what, raw.msg_id, e)
        return None
