"""Generated bus traffic: real messages, and every way a message can be malformed.

``traffic(count, seed)`` mixes valid messages (badge awards for the test site's people, old
shapes, unknown topics, redeliveries) with malformed ones of many kinds, each unique, and says
of each whether the watcher must quarantine it. ``replay_line`` and ``amqp_delivery`` put a
message on the wire as the replay and AMQP sources receive it; where the two differ (a fedmsg
envelope derives a missing id, an AMQP delivery needs one), the kind says so per source.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hubs.testing import T0
from hubsgen.demo import messages

PEOPLE = ("ralph", "decause", "duffy")
SENT = T0 - timedelta(days=1)


@dataclass(frozen=True)
class Generated:
    kind: str
    msg_id: str
    topic: str  # without the "org.fedoraproject.prod." prefix
    body: bytes  # the body's JSON, or bytes that are not
    bad_in: frozenset[str] = frozenset({"replay", "amqp"})
    """The sources through which the watcher must quarantine it."""
    sent: datetime = SENT
    extra: dict[str, Any] = field(default_factory=dict)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _award(n: int, person: str = "ralph") -> dict[str, Any]:
    return dict(messages.badge_award(SENT, person, f"fuzz-{n}", f"Fuzz {n}", "Generated").body)


def _update(n: int) -> dict[str, Any]:
    return dict(messages.update_requirements_met(
        SENT, f"FEDORA-2026-{n:06x}", "ralph", [f"pkg{n}-1.0-1.fc43"], "F43").body)


def _meeting(n: int) -> dict[str, Any]:
    return dict(messages.meeting_scheduled(SENT, "duffy", "designteam", n, f"Sync {n}",
                                           T0 + timedelta(days=2), 60, "#design", "").body)


def _pull_request(n: int) -> dict[str, Any]:
    return dict(messages.pull_request_opened(SENT, "decause", "rpms", "python-foo", n, "Fix",
                                             ["ralph"]).body)


READ = {  # topic -> (a real body, the fields its readers need with the kind of each)
    "fedbadges.badge.award": (_award, {"badge": "object", "badge.name": "text",
                                       "user.username": "text"}),
    "bodhi.update.requirements_met.stable": (_update, {
        "update": "object", "update.date_submitted": "date", "update.user": "object",
        "update.builds": "list"}),
    "fedocal.meeting.new": (_meeting, {
        "meeting": "object", "meeting.meeting_id": "number", "meeting.meeting_date": "date",
        "meeting.calendar_name": "text", "meeting.meeting_time_start": "date"}),
    "pagure.pull-request.new": (_pull_request, {
        "pullrequest": "object", "pullrequest.id": "number", "pullrequest.user": "object",
        "pullrequest.date_created": "number", "pullrequest.project": "object"}),
}
WRONG: dict[str, list[Any]] = {  # values of another kind than the reader needs
    "text": [[], {}, 3, 2.5, True, ["a"], {"x": None}],
    "object": [[], 3, "text", True, 2.5],
    "number": ["abc", [], {}, 2.5, True, "1e5", None],
    "date": ["not a date", "2026-13-45 99:99:99", 3, [], None],
    "list": [3, "text", {"a": 1}, [1, 2]],  # absent, a list is empty: not malformed
}


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        body = body[key]
    if value is _DROP:
        del body[last]
    else:
        body[last] = value


_DROP = object()


def _valid(rng: random.Random, n: int) -> Generated:
    choice = rng.random()
    if choice < 0.3:
        return Generated("award", f"ok-{n}", "fedbadges.badge.award",
                         _json(_award(n, rng.choice(PEOPLE))), frozenset())
    if choice < 0.4:
        old = {"user": {"username": rng.choice(PEOPLE), "badges_user_id": n},
               "badge": {"name": f"Old {n}", "description": "fedmsg era",
                         "image_url": "https://badges.fedoraproject.org/pngs/old.png"}}
        return Generated("old_award", f"ok-{n}", "fedbadges.badge.award", _json(old),
                         frozenset())
    if choice < 0.5:
        topic, (make, _) = rng.choice(sorted(READ.items()))
        return Generated("read_topic", f"ok-{n}", topic, _json(make(n)), frozenset())
    return Generated("unknown_topic", f"ok-{n}", f"fuzz.service{n % 7}.happened",
                     _json({"n": n, "user": rng.choice(PEOPLE), "note": "•" * (n % 30)}),
                     frozenset())


def _wrong_type(rng: random.Random, n: int) -> Generated:
    topic, (make, fields) = rng.choice(sorted(READ.items()))
    body = make(n)
    path, kind = rng.choice(sorted(fields.items()))
    _set(body, path, rng.choice(WRONG[kind]))
    return Generated("wrong_type", f"bad-{n}", topic, _json(body))


def _missing(rng: random.Random, n: int) -> Generated:
    topic, (make, fields) = rng.choice(sorted(READ.items()))
    body = make(n)
    _set(body, rng.choice(sorted(f for f, kind in fields.items() if kind != "list")), _DROP)
    return Generated("missing_field", f"bad-{n}", topic, _json(body))


def _member(rng: random.Random, n: int) -> Generated:
    user = rng.choice(["", "ralph\n", "ral\u200bph", "r" * 5000, "Ralph Bean", "-x", "1abc"])
    body = {"msg": {"agent": "duffy", "user": f"{user}{n}",
                    "group": "designteam"}}
    if rng.random() < 0.3:
        body = {"msg": f"x{n}"}
    return Generated("bad_member", f"bad-{n}", "fas.group.member.sponsor", _json(body))


MALFORMED: dict[str, Callable[[random.Random, int], Generated]] = {
    "not_utf8": lambda rng, n: Generated(
        "not_utf8", f"bad-{n}", "fuzz.bytes", b'{"n": %d, "a": "\xff\xfe\xc3"}' % n),
    "not_json": lambda rng, n: Generated("not_json", f"bad-{n}", "fuzz.text",
                                         b"{not json %d" % n),
    "too_deep_to_parse": lambda rng, n: Generated(
        "too_deep_to_parse", f"bad-{n}", "fuzz.deep", b"{\"n\": %d, \"a\": " % n
        + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "too_deep": lambda rng, n: Generated(
        "too_deep", f"bad-{n}", "fuzz.deep", b'{"n": %d, "a": ' % n + b"[" * 60 + b"]" * 60
        + b"}"),
    "huge": lambda rng, n: Generated(
        "huge", f"bad-{n}", "fedbadges.badge.award", _json({"n": n, "blob": "x" * 1_100_000})),
    "surrogate": lambda rng, n: Generated(
        "surrogate", f"bad-{n}", "fedbadges.badge.award",
        _json({**_award(n, "ralph"), "user": {"username": "\ud800"}})),
    "control": lambda rng, n: Generated(
        "control", f"bad-{n}", "wiki.article.edit",
        _json({"user": "ralph", "title": f"\x1b[2J{n}", "url": "https://x"})),
    "nul": lambda rng, n: Generated("nul", f"bad-{n}", "fuzz.nul", _json({"a": f"\x00{n}"})),
    "nan": lambda rng, n: Generated("nan", f"bad-{n}", "fuzz.nan",
                                    b'{"n": %d, "a": NaN, "b": Infinity}' % n),
    "not_object": lambda rng, n: Generated("not_object", f"bad-{n}", "fuzz.list",
                                           _json([n, "a list"])),
    "wrong_type": _wrong_type,
    "missing_field": _missing,
    "bad_member": _member,
    "future": lambda rng, n: Generated(
        "future", f"bad-{n}", "fuzz.future", _json({"n": n}),
        sent=datetime(2999, 1, 1, tzinfo=UTC)),
    "long_id": lambda rng, n: Generated("long_id", f"bad-{n}-" + "i" * 150, "fuzz.id",
                                        _json({"n": n})),
    "bad_topic": lambda rng, n: Generated("bad_topic", f"bad-{n}", f"fuzz topic {n} ☃",
                                          _json({"n": n})),
    "no_id": lambda rng, n: Generated("no_id", "", "fuzz.noid", _json({"n": n}),
                                      frozenset({"amqp"})),  # fedmsg envelopes derive one
}
WEIGHTS = {"huge": 0.02, "too_deep_to_parse": 0.05}
"""Relative to 1 for the other kinds: each of these is large on the wire."""


def traffic(count: int, seed: int = 7) -> Iterator[Generated]:
    """*count* messages, about half of them malformed, every malformed kind present; some
    valid ones are sent twice (a redelivery)."""
    rng = random.Random(seed)
    kinds = sorted(MALFORMED)
    weights = [WEIGHTS.get(kind, 1.0) for kind in kinds]
    sent: list[Generated] = []
    for n in range(count):
        if n < len(kinds):
            yield MALFORMED[kinds[n]](rng, n)
        elif rng.random() < 0.5:
            yield MALFORMED[rng.choices(kinds, weights)[0]](rng, n)
        elif sent and rng.random() < 0.05:
            yield rng.choice(sent)
        else:
            message = _valid(rng, n)
            sent.append(message)
            yield message


def replay_line(message: Generated) -> bytes:
    """A fedmsg envelope line, with the body's bytes spliced in as they are."""
    head = {"topic": f"org.fedoraproject.prod.{message.topic}",
            "timestamp": message.sent.timestamp(), "i": 1}
    if message.msg_id:
        head["msg_id"] = message.msg_id
    return _json(head)[:-1] + b', "msg": ' + message.body + b"}"


def amqp_headers(message: Generated) -> dict[str, Any]:
    return {"fedora_messaging_schema": "base.message", "fedora_messaging_severity": 20,
            "sent-at": message.sent.isoformat()}
