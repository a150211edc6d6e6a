"""Say what the project understands of messages, and which widgets they would refresh."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hubs.admission import Refused
from hubs.envelopes import MalformedMessage, parse_envelope, parse_line
from hubs.events import Event, RawMessage, Rejected
from hubsgen.watch.pipeline import Pipeline


@dataclass(frozen=True)
class Explanation:
    event: Event
    refreshes: list[tuple[str, str]]  # (instance key, plugin)

    def as_dict(self) -> dict[str, Any]:
        e = self.event
        return {"msg_id": e.msg_id, "topic": e.topic, "usernames": sorted(e.usernames),
                "packages": sorted(e.packages), "groups": sorted(e.groups),
                "summary": e.summary, "link": e.link,
                "refreshes": [{"widget": key, "plugin": plugin}
                              for key, plugin in self.refreshes]}

    def line(self) -> str:
        e = self.event
        names = "; ".join(f"{label} {', '.join(sorted(values)) or '-'}" for label, values in (
            ("users", e.usernames), ("packages", e.packages), ("groups", e.groups)))
        widgets = ", ".join(f"{key} ({plugin})" for key, plugin in self.refreshes)
        return (f"{e.msg_id} {e.topic}: {names} | {e.summary or '-'} {e.link or ''}".rstrip()
                + f" -> {widgets or 'refreshes nothing'}")


def read_messages(text: bytes) -> Iterator[RawMessage | Rejected]:
    """One JSON document (an object or a list of them), or JSON lines."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        document = None
    if isinstance(document, (dict, list)):
        for number, item in enumerate(document if isinstance(document, list) else [document], 1):
            try:
                yield parse_envelope(item)
            except MalformedMessage as e:
                yield Rejected(f"item {number}", str(e))
        return
    for number, line in enumerate(text.split(b"\n"), 1):
        if line.strip():
            try:
                yield parse_line(line)
            except MalformedMessage as e:
                yield Rejected(f"line {number}", str(e))


def explain(pipeline: Pipeline, text: bytes) -> Iterator[Explanation | Rejected]:
    """Admit and match each message as the pipeline would; nothing is stored or written."""
    with pipeline.sessions() as session:
        for item in read_messages(text):
            if isinstance(item, Rejected):
                yield item
                continue
            try:
                event = pipeline.door.admit(item)
            except Refused as e:
                yield Rejected(item.msg_id, f"{e.stage}: {e.reason}")
                continue
            hits = pipeline.affected(session, [event])[event.msg_id]
            yield Explanation(event, [(i.key, i.plugin) for i in hits])
