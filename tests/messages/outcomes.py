"""What the ingest path makes of every recorded message, from the bytes on the wire to the
Event the door admits (or the reason it refuses), on fedmsg and on AMQP alike.

``outcomes.json`` holds these outcomes as the code had them when they were last written; a
change meant to make ingest faster must leave them equal. Regenerate only after a change
meant to alter what is understood:

    .venv/bin/python -m tests.messages.outcomes --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
from fedora_messaging.message import get_name

from hubs.admission import Door, Refused
from hubs.events import Event, RawMessage, Rejected
from hubs.plugins import load_widgets
from hubs.understand.schemas import topic_index
from hubsgen.watch.sources.amqp import parse_delivery
from hubsgen.watch.sources.fedmsg import parse_frames
from tests.messages.accuracy import CORPUS, corpus_directory

OUTCOMES = Path(__file__).parent / "outcomes.json"
NOW = datetime(2026, 12, 1, tzinfo=UTC)  # after every recorded message, so none is "future"
SENT_AT = "2020-01-01T00:00:00+00:00"


def envelopes() -> Iterator[tuple[str, dict[str, Any]]]:
    """Each recorded envelope with its origin, as fedmsg put it on the wire."""
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            yield doc["origin"], {"timestamp": 0, **doc["envelope"]}


def crafted() -> Iterator[tuple[str, dict[str, Any]]]:
    """Envelopes no service sent, each unfit in one way the door or a source must refuse."""
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(45):
        inner["a"] = {}
        inner = inner["a"]
    bodies = {"control character": {"user": "ralph", "comment": "bell\x07"},
              "nested too deeply": deep, "over the size limit": {"log": "x" * (1 << 20)},
              "bad username": {"user": "ralph smith", "package": "../etc"},
              "unreadable badge": {"user": {"username": "ralph"}, "badge": "not an object"}}
    topics = {"unreadable badge": "org.fedoraproject.prod.fedbadges.badge.award"}
    for fault, body in bodies.items():
        yield f"crafted: {fault}", {"topic": topics.get(fault, "org.fedoraproject.prod.x.y"),
                                    "msg": body, "msg_id": crafted_id(fault),
                                    "timestamp": 1.6e9}


def crafted_id(fault: str) -> str:
    return "crafted-" + fault.replace(" ", "-")


def fedmsg_frames(envelope: dict[str, Any]) -> list[bytes]:
    return [envelope["topic"].encode(), json.dumps(envelope).encode()]


def amqp_delivery(envelope: dict[str, Any]) -> tuple[str, pika.BasicProperties, bytes]:
    """The same message as a fedora-messaging publisher would deliver it: its headers, the
    base schema when it names none, its body as the payload."""
    headers = {"fedora_messaging_schema": "base.message", "fedora_messaging_severity": 20,
               "sent-at": SENT_AT, **envelope.get("headers", {})}
    properties = pika.BasicProperties(message_id=envelope.get("msg_id") or "no-id",
                                      headers=headers, content_encoding="utf-8")
    return envelope["topic"], properties, json.dumps(envelope["msg"]).encode()


def outcome(door: Door, parsed: RawMessage | Rejected) -> dict[str, Any]:
    """What became of one message, in JSON: rejected by its source, refused, or admitted."""
    if isinstance(parsed, Rejected):
        return {"rejected": parsed.reason}
    try:
        event = door.admit(parsed)
    except Refused as e:
        return {"refused": [e.stage, e.reason]}
    return {"admitted": shown(event)}


def shown(event: Event) -> dict[str, Any]:
    body = json.dumps(event.body, sort_keys=True, default=str).encode()
    return {"msg_id": event.msg_id, "topic": event.topic,
            "timestamp": event.timestamp.isoformat(), "usernames": sorted(event.usernames),
            "groups": sorted(event.groups), "packages": sorted(event.packages),
            "summary": event.summary, "link": event.link, "icon": event.icon,
            "body_sha256": hashlib.sha256(body).hexdigest()}


def outcomes() -> dict[str, dict[str, Any]]:
    """Every recorded message's outcome on each source, by "<source> <origin>"."""
    door = Door(load_widgets().readers(), corpus_directory(), clock=lambda: NOW)
    found: dict[str, dict[str, Any]] = {}
    for origin, envelope in [*envelopes(), *crafted()]:
        found[f"fedmsg {origin}"] = outcome(door, parse_frames(fedmsg_frames(envelope),
                                                               "tcp://recorded"))
        found[f"amqp {origin}"] = outcome(door, parse_delivery(*amqp_delivery(envelope)))
    for fault, delivery in bad_deliveries():
        found[f"amqp crafted: {fault}"] = outcome(door, parse_delivery(*delivery))
    return found


def bad_deliveries() -> Iterator[tuple[str, tuple[str, pika.BasicProperties, bytes]]]:
    """AMQP deliveries fedora-messaging refuses: bytes that are no JSON object, a body its
    schema class rejects, headers the base schema rejects."""
    topic = "org.fedoraproject.prod.bodhi.update.comment"
    schema = get_name(topic_index()["bodhi.update.comment"][0])
    payloads = {"not UTF-8": (b"\xff{}", "base.message"), "not JSON": (b"{", "base.message"),
                "a list": (b"[]", "base.message"), "rejected by its schema": (b"{}", schema),
                "unknown schema": (b"{}", "no.such.schema"),
                "severity out of range": (b"{}", "base.message")}
    for fault, (payload, name) in payloads.items():
        headers = {"fedora_messaging_schema": name, "sent-at": SENT_AT,
                   "fedora_messaging_severity": 25 if "severity" in fault else 20}
        yield fault, (topic, pika.BasicProperties(message_id=crafted_id(fault),
                                                  headers=headers, content_encoding="utf-8"),
                      payload)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.messages.outcomes --write")
    lines = (f"{json.dumps(key)}: {json.dumps(value, sort_keys=True, ensure_ascii=False)}"
             for key, value in sorted(outcomes().items()))
    OUTCOMES.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
