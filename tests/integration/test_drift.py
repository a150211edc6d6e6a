"""A watched tree equals a clean build of the same database, byte for byte but state numbers.

`hubsgen watch` re-renders only what a message touches, so whatever a fragment shows must depend
on the database alone, and on the data clock only through its UTC day, which the watcher turns
for every widget that declares it. Several days of realistic traffic pin that down: any fragment
that shows "x ago", or counts a window ending at the newest message, differs here.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from hubs.db import create_schema, open_engine
from hubs.events import Event
from hubs.models import Role
from hubs.testing import fedmsg_envelope
from hubsgen.build.stamp import STAMP_FILE
from hubsgen.demo import messages as m
from hubsgen.demo.population import REFERENCE
from hubsgen.demo.synthetic import Spec, World, make_world, populate_synthetic
from tests.integration.watching import run_hubsgen

SPEC = Spec(users=80, groups=6, seed=7)
MESSAGES = 2_000
SPAN = timedelta(days=4, hours=7)
"""From the synthetic data's newest message on: the data clock crosses four UTC midnights."""

PRUNED_MESSAGES = 300
PRUNED_RETENTION_DAYS = 45
"""A retention that takes about a third of the synthetic history, which spans some 80 days."""

WATCH = 300
"""Seconds the replay may take: about 25 of CPU, and a loaded 2-core machine gives a quarter."""

SEQ = {"versions.json": re.compile(rb'^\{"seq":\d+,'),
       "index.html": re.compile(rb' data-seq="\d+"')}
"""The state numbers, which count a tree's own history; nothing else may differ."""
BLANKS = {"versions.json": b'{"seq":_,', "index.html": b' data-seq="_"'}


def test_watched_tree_equals_a_clean_build_after_days_of_traffic(tmp_path: Path) -> None:
    """Assert 2,000 messages over four days, watched into a built tree, leave every file as a
    clean build of the resulting database writes it, but for the state numbers."""
    differing, _ = watched_then_built(tmp_path, MESSAGES)
    assert not differing, (f"{len(differing)} file(s) of the watched tree differ from a clean "
                           f"build: {', '.join(differing[:40])}")


def test_watched_tree_equals_a_clean_build_after_pruning(tmp_path: Path) -> None:
    """Assert a watcher that prunes the store, as it does hourly, takes what went off the
    pages that showed it: badges, feeds, counts, a clean build's tree and its own agree."""
    settings = tmp_path / "hubsgen.toml"
    settings.write_text(f"retention_days = {PRUNED_RETENTION_DAYS}\n")
    differing, summary = watched_then_built(tmp_path, PRUNED_MESSAGES, "--config",
                                            str(settings))
    pruned = re.search(r"(\d+) pruned", summary)
    assert pruned and int(pruned[1]) > 0, f"the watcher pruned nothing: {summary}"
    assert not differing, (f"{len(differing)} file(s) of the watched tree differ from a clean "
                           f"build: {', '.join(differing[:40])}")


def watched_then_built(tmp_path: Path, messages: int, *options: str) -> tuple[list[str], str]:
    """Build the synthetic site, watch *messages* of traffic into it, build the resulting
    database afresh beside it; the files that differ (see tree_differences), and the
    watcher's summary."""
    db_url = f"sqlite:///{tmp_path / 'hubs.db'}"
    engine = open_engine(db_url, create=True)
    create_schema(engine)
    with engine.begin() as conn:
        populate_synthetic(conn, SPEC)
    engine.dispose()
    watched, clean = tmp_path / "watched", tmp_path / "clean"
    run_hubsgen(*options, "--db", db_url, "build", "--out", str(watched), cwd=tmp_path)
    replay = tmp_path / "traffic.jsonl"
    world = make_world(random.Random(SPEC.seed), SPEC)
    replay.write_text("".join(json.dumps(fedmsg_envelope(event)) + "\n"
                              for event in itertools.islice(traffic(world), messages)))

    summary = run_hubsgen(*options, "--db", db_url, "watch", "--out", str(watched), "--source",
                          f"replay:{replay}", "--once", cwd=tmp_path, timeout=WATCH)
    run_hubsgen(*options, "--db", db_url, "build", "--force", "--out", str(clean), cwd=tmp_path)
    return tree_differences(watched, clean), summary


def traffic(world: World) -> Iterator[Event]:
    """MESSAGES messages in time order after the synthetic ones, of every kind widgets read."""
    rng = random.Random(SPEC.seed)
    step = SPAN / MESSAGES
    kinds = [_unrelated, _award, _build, _update, _comment, _pull_request, _meeting, _minutes,
             _sponsor]
    for n in range(MESSAGES):
        when = REFERENCE + step * (n + 1)
        yield rng.choices(kinds, weights=[30, 15, 10, 10, 10, 8, 8, 5, 4])[0](rng, world, when, n)


def _someone(rng: random.Random, world: World) -> str:
    return world.usernames[int(len(world.usernames) * rng.random() ** 2)]


def _unrelated(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    """Most of the bus concerns nobody with a hub, yet it moves the data clock all the same."""
    return m.build_complete(when, f"nobody{n % 97}", f"pkg{n % 113}", "1.0", f"{n}.fc45",
                            6_000_000 + n)


def _award(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    return m.badge_award(when, _someone(rng, world), f"drift-{n % 40}", f"Drift {n % 40}",
                         "Watched a few days go by")


def _build(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    name, version, owners = rng.choice(world.packages)
    return m.build_complete(when, owners[0], name, version, f"{n}.fc45", 5_000_000 + n)


def _update(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    """Ready for stable, or pushed: one alias per package, so a push ends its readiness."""
    name, version, owners = rng.choice(world.packages[:30])
    make = m.update_pushed_stable if rng.random() < 0.3 else m.update_requirements_met
    return make(when, f"FEDORA-2026-drift-{name}", owners[0], [f"{name}-{version}-1.fc45"],
                "F45")


def _comment(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    name, version, owners = rng.choice(world.packages[:30])
    return m.update_comment(when, f"FEDORA-2026-drift-{name}", _someone(rng, world), owners[0],
                            f"{name}-{version}-1.fc45", rng.choice((1, 0, -1)), "Works here.")


def _pull_request(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    name, _version, owners = rng.choice(world.packages[:30])
    number = rng.randrange(1, 40)
    if rng.random() < 0.3:
        return m.pull_request_closed(when, owners[0], _someone(rng, world), "rpms", name,
                                     number, "Fix the build", owners, merged=True)
    return m.pull_request_opened(when, _someone(rng, world), "rpms", name, number,
                                 "Fix the build", owners)


def _meeting(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    """Hours to days ahead, so meetings start, and drop off calendars, as the days turn."""
    team = rng.choice(world.teams)
    start = (when + timedelta(hours=rng.randint(2, 60))).replace(minute=0, second=0,
                                                                 microsecond=0)
    return m.meeting_scheduled(when, team.roles[Role.OWNER][0], team.name, 900_000 + n,
                               f"{team.title} sync", start, 60, f"#fedora-{team.name}", "")


def _minutes(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    team = rng.choice(world.teams)
    chairs = team.roles[Role.OWNER][:2]
    attendees = {u: rng.randint(3, 60) for u in chairs + team.roles[Role.MEMBER][:4]}
    return m.meeting_minutes(when, f"#fedora-{team.name}", team.name, f"{team.title} meeting",
                             chairs, attendees)


def _sponsor(rng: random.Random, world: World, when: datetime, n: int) -> Event:
    team = rng.choice(world.teams)
    return m.group_member_added(when, team.roles[Role.OWNER][0], _someone(rng, world),
                                team.name)


def tree_differences(left: Path, right: Path) -> list[str]:
    """Files present in one tree only, or whose bytes differ once state numbers are blanked;
    the build stamp, which records mtimes, is no part of the site."""
    def files(root: Path) -> dict[str, Path]:
        return {str(p.relative_to(root)): p for p in sorted(root.rglob("*"))
                if p.is_file() and p.name != STAMP_FILE}

    ours, theirs = files(left), files(right)
    return sorted(name for name in ours.keys() | theirs.keys()
                  if name not in ours or name not in theirs
                  or blank_state(ours[name]) != blank_state(theirs[name]))


def blank_state(path: Path) -> bytes:
    """The file's bytes with its state number, if it has one, replaced by "_"."""
    payload = path.read_bytes()
    pattern = SEQ.get(path.name)
    return pattern.sub(BLANKS[path.name], payload, count=1) if pattern else payload
