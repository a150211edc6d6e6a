"""The bus messages the watch benchmarks publish, and the mix of them the throughput phases
send: topics and bodies, and the fedmsg frames that carry them (bench/amqp_bench.py publishes
the same bodies with fedora-messaging)."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hubsgen.demo.messages import meeting_minutes

TOPIC_PREFIX = "org.fedoraproject.prod."
MIX = {"unrelated": 850, "award": 145, "meeting": 5}
"""Kind -> messages of that kind per 1,000 in the throughput phases. On Fedora's bus most
messages (CI results, builds, repository composes) concern nobody with a hub; a few percent
concern one contributor; meeting minutes, which concern a whole team, come some tens a day
among hundreds of thousands, so half a percent overstates them."""
MIX_TEXT = ("85% Koji builds concerning nobody with a hub, 14.5% badge awards, 0.5% meeting "
            "minutes with up to 20 attendees from one team")
MEETING_ATTENDEES = 20


def message_id(n: int) -> str:
    """Unique per run and per message: the watcher drops a msg_id it has already stored."""
    return f"bench-{n}-{random.getrandbits(48):x}"


def envelope(topic: str, body: dict[str, Any], n: int) -> list[bytes]:
    """A fedmsg wire message: [topic, JSON envelope]."""
    full = TOPIC_PREFIX + topic
    doc = {"topic": full, "msg": body, "msg_id": message_id(n),
           "timestamp": time.time(), "i": n, "username": "bench", "crypto": "x509"}
    return [full.encode(), json.dumps(doc).encode()]


Body = tuple[str, dict[str, Any]]
"""A message's topic (without the "org.fedoraproject.prod." prefix) and body."""


def award_body(username: str, n: int) -> Body:
    badge = f"bench-badge-{n}"
    return "fedbadges.badge.award", {
        "user": {"username": username},
        "badge": {"badge_id": badge, "name": f"Bench badge {n}", "description": "",
                  "image": f"https://badges.fedoraproject.org/pngs/{badge}.png"}}


def award(username: str, n: int) -> list[bytes]:
    return envelope(*award_body(username, n), n)


def unrelated_build_body(n: int) -> Body:
    return "buildsys.build.state.change", {
        "owner": f"nobody{n % 97}", "name": f"pkg{n % 113}", "version": "1.0",
        "release": f"{n}.fc43", "epoch": None, "build_id": n, "instance": "primary",
        "old": 0, "new": 1}


def meeting_body(team: str, attendees: list[str]) -> Body:
    """Minutes of *team*'s meeting, as meetbot put them on the bus."""
    event = meeting_minutes(datetime.now(UTC), f"#fedora-{team}", team, f"{team} meeting",
                            attendees[:2], dict.fromkeys(attendees, 12))
    return event.topic, dict(event.body)


def team_attendees(db: Path) -> dict[str, list[str]]:
    """Each live team hub's likely meeting attendees: owners first, all with a user hub."""
    rows = sqlite3.connect(db).execute(
        "SELECT t.name, m.username FROM memberships m "
        "JOIN hubs t ON t.id = m.hub_id AND NOT t.user_hub AND NOT t.archived "
        "JOIN hubs u ON u.name = m.username AND u.user_hub "
        "ORDER BY t.name, m.role != 'owner', m.role != 'member', m.username").fetchall()
    teams: dict[str, list[str]] = {}
    for team, username in rows:
        people = teams.setdefault(team, [])
        if username not in people and len(people) < MEETING_ATTENDEES:
            people.append(username)
    return teams


class Mix:
    """The throughput phases' messages: MIX's kinds in a fixed shuffled cycle."""

    def __init__(self, users: list[str], teams: dict[str, list[str]], seed: int) -> None:
        if not teams:
            raise ValueError("the mix's meetings need team hubs: populate with groups")
        self.users, self.teams = sorted(users), teams
        self.team_names = sorted(teams)
        self.rng = random.Random(seed)
        self.cycle = [kind for kind, share in MIX.items() for _ in range(share)]
        self.rng.shuffle(self.cycle)

    def kind(self, n: int) -> str:
        return self.cycle[n % len(self.cycle)]

    def body(self, n: int) -> Body:
        """The *n*-th message's topic and body, whatever bus carries it."""
        kind = self.kind(n)
        if kind == "award":
            return award_body(self.rng.choice(self.users), n)
        if kind == "meeting":
            team = self.rng.choice(self.team_names)
            return meeting_body(team, self.teams[team])
        return unrelated_build_body(n)

    def message(self, n: int) -> list[bytes]:
        """The *n*-th message as fedmsg put it on the wire."""
        return envelope(*self.body(n), n)

    def concerning(self, numbers: range) -> int:
        """How many of these messages concern someone with a hub."""
        return sum(self.kind(n) != "unrelated" for n in numbers)


