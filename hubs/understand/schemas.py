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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from hubs.events import RawMessage
from hubs.understand.reading import Reading, names, one_line, web_url
from hubs.understand.topics import strip_prefix

if TYPE_CHECKING:
    from fedora_messaging.message import Message

log = logging.getLogger(__name__)


@cache
def topic_index() -> dict[str, tuple[type[Message], ...]]:
    """Schema classes by topic without prefix, newest version first; built on first use."""
    index: defaultdict[str, set[type[Message]]] = defaultdict(set)
    group = entry_points(group="fedora.messages")
    if not any(_from_schema_package(entry_point) for entry_point in group):
        log.warning("No fedora-messaging schema packages installed, today's topics are read "
                    "with less detail: pip install 'hubsgen[schemas]'")
    for entry_point in group:
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


def _from_schema_package(entry_point: EntryPoint) -> bool:
    """Whether *entry_point* comes from a service's schema package, not fedora-messaging itself."""
    dist = entry_point.dist
    return dist is not None and dist.name.replace("_", "-").lower() not in _NOT_SCHEMA_PACKAGES


_NOT_SCHEMA_PACKAGES = frozenset({"fedora-messaging", "hubsgen"})


def read(raw: RawMessage) -> Reading | None:
    """What the first schema class that accepts the body says, or None if none does."""
    for cls in _candidates(raw):
        message = _validated(cls, raw)
        if message is not None:
            return _reading(message, raw)
    return None


def _candidates(raw: RawMessage) -> tuple[type[Message], ...]:
    schema = raw.headers.get("fedora_messaging_schema")
    if isinstance(schema, str) and schema:
        from fedora_messaging.message import Message, get_class
        cls = get_class(schema)
        if cls is not Message:
            return (cls,)
    return topic_index().get(strip_prefix(raw.topic), ())


def _validated(cls: type[Message], raw: RawMessage) -> Any:
    try:
        for validator in _validators(cls).body:
            if not validator.is_valid(raw.body):
                if log.isEnabledFor(logging.DEBUG):
                    error = next(validator.iter_errors(raw.body))
                    log.debug("Schema %s rejects %s: %s", cls.__name__, raw.msg_id,
                              error.message)
                return None
        with warnings.catch_warnings():  # old versions of a schema warn they are deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            return cls(body=dict(raw.body), topic=raw.topic)
    except Exception as e:  # noqa: BLE001 - a broken class or schema
        log.debug("Schema %s failed on %s: %r", cls.__name__, raw.msg_id, e)
        return None


def validate(message: Message, headers: Mapping[str, Any]) -> None:
    """Check *message* as ``Message.validate()`` does, raising the same errors, with
    validators built once per class: ``validate()`` first re-checks each schema against its
    metaschema, on every message, about 2 ms of the AMQP source's 2.6 ms a message.

    *headers* are the message's AMQP headers (``Message.validate()`` reads them privately).
    """
    from jsonschema.exceptions import best_match

    validators = _validators(type(message))
    for validator in validators.headers:
        error = best_match(validator.iter_errors(headers))
        if error is not None:
            raise error
    for validator in validators.body:
        error = best_match(validator.iter_errors(message.body))
        if error is not None:
            raise error


@dataclass(frozen=True)
class _Validators:
    headers: tuple[Any, ...]  # the class's header schema's, then the base one's
    body: tuple[Any, ...]


def _validators(cls: type[Message]) -> _Validators:
    """The class's validators, built once; a SchemaError, as ``Message.validate()`` raises,
    for a class whose schema is not valid."""
    if cls not in _VALIDATORS:
        from fedora_messaging.message import Message
        from jsonschema.validators import validator_for

        def built(schema: Mapping[str, Any]) -> Any:
            kind = validator_for(schema)
            kind.check_schema(schema)
            return kind(schema)

        def distinct(own: Mapping[str, Any], base: Mapping[str, Any]) -> tuple[Any, ...]:
            # The base class would check its schema twice: once as its own, once as the base.
            return (built(own),) if own is base else (built(own), built(base))

        _VALIDATORS[cls] = _Validators(
            headers=distinct(cls.headers_schema, Message.headers_schema),
            body=distinct(cls.body_schema, Message.body_schema))
    return _VALIDATORS[cls]


_VALIDATORS: dict[type[Message], _Validators] = {}


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
