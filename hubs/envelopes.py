"""Read a bus message from either envelope Fedora has used into a RawMessage.

fedmsg and datagrepper wrap a body as ``{"topic", "msg", "msg_id", "timestamp", ...}``;
fedora-messaging serialises one as ``{"id", "topic", "headers", "body"}``. Anything else, or
a body too large to be a real message, is a ``MalformedMessage`` naming the id and the fault.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hubs.bodies import kind_of, kinds_named
from hubs.errors import HubsError
from hubs.events import RawMessage

MAX_BODY_BYTES = 1024 * 1024  # serialized; the largest real bodies (koji, pagure) are ~100 KiB
FEDMSG_HEADERS = ("i", "username", "crypto", "certificate", "signature", "source_name",
                  "source_version")


class MalformedMessage(HubsError):
    """A message that is not JSON, not an envelope, or has a missing or mistyped field."""


def parse_line(text: str | bytes) -> RawMessage:
    """One JSON line (a replay file, a datagrepper dump, a fedmsg frame) as a RawMessage."""
    return parse_envelope(load_json(text))


def load_json(text: str | bytes) -> Any:
    """Decoded JSON, or a MalformedMessage: invalid UTF-8 and nesting deeper than Python's
    recursion limit are the message's fault like any other syntax error."""
    try:
        return json.loads(text)
    except ValueError as e:  # UnicodeDecodeError too
        raise MalformedMessage(f"message (no id): not JSON: {e}") from e
    except RecursionError as e:
        raise MalformedMessage("message (no id): not JSON this program can read: nested too "
                               "deeply") from e


def envelope_bytes(raw: RawMessage) -> bytes:
    """*raw* as a fedora-messaging envelope that ``parse_line`` reads back: how a message
    refused after parsing is kept in quarantine."""
    headers = {**raw.headers, "sent-at": raw.timestamp.isoformat()}
    doc = {"id": raw.msg_id, "topic": raw.topic, "headers": headers, "body": raw.body}
    try:
        return json.dumps(doc, default=str).encode()
    except (ValueError, RecursionError):  # a circular or too deep body: keep what is certain
        return json.dumps({**doc, "body": {}}, default=str).encode()


def parse_envelope(doc: Any) -> RawMessage:
    """A fedmsg/datagrepper or a fedora-messaging envelope, already decoded, as a RawMessage."""
    if not isinstance(doc, Mapping):
        raise MalformedMessage(f"message (no id): not a JSON object but {kind_of(doc)}")
    if "msg" in doc:
        return _fedmsg(doc)
    if "body" in doc:
        return _fedora_messaging(doc)
    raise MalformedMessage(f"message {_label(doc)}: neither a fedmsg envelope (no 'msg') nor "
                           "a fedora-messaging one (no 'body')")


def _fedmsg(doc: Mapping[str, Any]) -> RawMessage:
    msg_id = doc.get("msg_id")
    if msg_id is not None and not isinstance(msg_id, str):
        raise MalformedMessage(f"message (no id): 'msg_id' is {kind_of(msg_id)}, not text")
    label = msg_id or _label(doc)
    topic = _field(doc, "topic", str, label)
    body = _body(doc, "msg", label)
    when = _field(doc, "timestamp", (int, float), label)
    headers = dict(_optional_mapping(doc, "headers", label))
    headers.update((key, doc[key]) for key in FEDMSG_HEADERS if key in doc)
    return RawMessage(msg_id=msg_id or _derived_id(topic, when, body), topic=topic,
                      timestamp=_from_epoch(when, label), body=body, headers=headers)


def _fedora_messaging(doc: Mapping[str, Any]) -> RawMessage:
    label = _label(doc)
    msg_id = _field(doc, "id", str, label)
    topic = _field(doc, "topic", str, msg_id)
    body = _body(doc, "body", msg_id)
    headers = _optional_mapping(doc, "headers", msg_id)
    sent_at = _field(headers, "sent-at", str, msg_id, where="header")
    try:
        when = datetime.fromisoformat(sent_at)
    except ValueError as e:
        raise MalformedMessage(f"message {msg_id}: header 'sent-at' is not an ISO time: "
                               f"{sent_at!r}") from e
    return RawMessage(msg_id=msg_id, topic=topic, body=body, headers=dict(headers),
                      timestamp=when if when.tzinfo else when.replace(tzinfo=UTC))


def _field(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], label: str,
           where: str = "field") -> Any:
    if key not in doc:
        raise MalformedMessage(f"message {label}: missing {where} '{key}'")
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise MalformedMessage(f"message {label}: {where} '{key}' is {kind_of(value)}, "
                               f"not {kinds_named(kind)}")
    return value


def _optional_mapping(doc: Mapping[str, Any], key: str, label: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"message {label}: field '{key}' is {kind_of(value)}, not an object")
    return value


def _body(doc: Mapping[str, Any], key: str, label: str) -> Mapping[str, Any]:
    body: Mapping[str, Any] = _field(doc, key, Mapping, label)
    size = len(json.dumps(body, separators=(",", ":"), default=str).encode())
    if size > MAX_BODY_BYTES:
        raise MalformedMessage(f"message {label}: body is {size} bytes serialized, over the "
                               f"{MAX_BODY_BYTES} byte limit")
    return body


def _from_epoch(when: float, label: str) -> datetime:
    try:
        return datetime.fromtimestamp(when, tz=UTC)
    except (OverflowError, OSError, ValueError) as e:
        raise MalformedMessage(f"message {label}: timestamp {when!r} is out of range") from e


def _derived_id(topic: str, when: float, body: Mapping[str, Any]) -> str:
    """A stable id for fedmsg messages from before msg_id existed (2012-2013)."""
    seed = json.dumps([topic, when, body], sort_keys=True, default=str).encode()
    when_year = _from_epoch(when, topic).year
    return f"{when_year}-{hashlib.sha256(seed).hexdigest()[:32]}"


def _label(doc: Mapping[str, Any]) -> str:
    for key in ("msg_id", "id"):
        if isinstance(doc.get(key), str) and doc[key]:
            return str(doc[key])
    return "(no id)"
