"""A message store that looks like production's, for the benchmarks: a synthetic population
whose users have about a hundred stored messages each, spread over 400 days, cached on disk.

    .venv/bin/python bench/store.py --users 10000 [--messages-per-user 100] [--days 400]

The people, teams, hubs and widgets are populate.py's synthetic population (hubsgen.demo.synthetic);
the history is generated here, from the same message builders (hubsgen.demo.messages), over a longer
window and in the shares of Fedora's bus: Koji builds, Bodhi updates and comments, Pagure pull
requests, badge awards, wiki edits, meetings and their minutes, group sponsorships. Messages and
their tag rows go in through SQLAlchemy Core on the real tables, so every value is encoded by the
same column types the store's ORM path uses (`same_as_ingest` checks that on a small store).
Generating a million messages takes minutes, so each store is kept in a cache directory under a
name made of its parameters and a digest of the code that made it; later runs copy it.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate, islice
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection, bindparam, select, text, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The project, run from a checkout.
from hubs.counts import recount_all  # noqa: E402
from hubs.db import create_schema, open_engine  # noqa: E402
from hubs.events import Event  # noqa: E402
from hubs.models import Base, Hub, Message, MessageTag, Role, TagKind  # noqa: E402
from hubs.store import record  # noqa: E402
from hubsgen.demo import messages as m  # noqa: E402
from hubsgen.demo.population import (  # noqa: E402
    BADGES,
    COMMENTS,
    PULL_REQUESTS,
    REFERENCE,
    team_activity,
)
from hubsgen.demo.synthetic import TOPICS, WORDS, Spec, World, make_world, populate_synthetic  # noqa: E402

CACHE_ENV = "HUBSGEN_BENCH_CACHE"
DEFAULT_CACHE = Path.home() / ".cache" / "hubsgen-bench"
BATCH = 20_000
MADE_BY = [Path(__file__), ROOT / "hubs" / "models.py", ROOT / "hubs" / "counts.py",
           ROOT / "hubsgen" / "demo" / "messages.py", ROOT / "hubsgen" / "demo" / "synthetic.py",
           ROOT / "hubsgen" / "demo" / "population.py", ROOT / "hubs" / "defaults.py"]
"""The code a store's rows come from: a change to any of it makes a new store."""


@dataclass(frozen=True)
class StoreSpec:
    users: int
    groups: int
    messages_per_user: int = 100
    days: int = 400
    seed: int = 1

    @property
    def messages(self) -> int:
        return self.users * self.messages_per_user

    def file_name(self) -> str:
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in MADE_BY)).hexdigest()[:12]
        return (f"store-{self.users}u-{self.groups}g-{self.messages_per_user}m-{self.days}d-"
                f"s{self.seed}-{digest}.db")

    def describe(self) -> str:
        return (f"{self.users:,} users, {self.groups:,} teams, {self.messages:,} messages "
                f"({self.messages_per_user} per user) over {self.days} days")


def cached_store(spec: StoreSpec, cache: Path | None = None) -> Path:
    """The SQLite file of *spec*'s store, generated into the cache on first use."""
    cache = cache or Path(os.environ.get(CACHE_ENV, DEFAULT_CACHE))
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / spec.file_name()
    if not path.exists():
        fd, scratch = tempfile.mkstemp(dir=cache, prefix=f".{path.name}.")
        os.close(fd)
        try:
            write_store(f"sqlite:///{scratch}", spec)
            os.replace(scratch, path)  # a run killed half-way leaves no store behind
        except BaseException:
            os.unlink(scratch)
            raise
    return path


def copy_store(spec: StoreSpec, to: Path, cache: Path | None = None) -> str:
    """A private copy of *spec*'s store at *to* (builds write their stamp into it); its URL."""
    shutil.copyfile(cached_store(spec, cache), to)
    return f"sqlite:///{to}"


def write_store(url: str, spec: StoreSpec) -> None:
    """Fill the empty database at *url* (a new SQLite file, or PostgreSQL) with *spec*'s
    population and its history."""
    engine = open_engine(url, create=True)
    population = Spec(users=spec.users, groups=spec.groups, seed=spec.seed, messages_per_user=0)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            populate_synthetic(conn, population)  # on SQLite, also the bulk-load pragmas
            world = make_world(random.Random(spec.seed), population)
            indexes = [*Message.__table__.indexes, *MessageTag.__table__.indexes]
            for index in indexes:  # one build at the end beats updating them per row
                index.drop(conn)
            events = bus_history(random.Random(spec.seed + 1), world, spec.messages, spec.days)
            latest = insert_events(conn, events)
            for index in indexes:
                index.create(conn)
            date_hubs(conn, world, latest)
            recount_all(conn)  # the per-hub counts ingest keeps, for the history put in here
            advance_sequences(conn)
    finally:
        engine.dispose()


def advance_sequences(conn: Connection) -> None:
    """The rows carry explicit ids; PostgreSQL's sequences must move past them, or the
    watcher's first stored message would take an id that is already there."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))


def bus_history(rng: random.Random, world: World, total: int, days: int) -> Iterator[Event]:
    """*total* messages over the *days* before the data clock, oldest-first not guaranteed."""
    kinds: list[Callable[[random.Random, World, datetime, int], list[Event]]] = [
        _build, _update, _comment, _pull_request, _badge, _wiki]
    weights = [24, 14, 12, 10, 14, 8]
    if world.teams:
        kinds += [_minutes, _meeting, _sponsor]
        weights += [4, 4, 3]
    cumulative = list(accumulate(weights))
    window = days * 24 * 3600
    made = 0
    while True:
        when = REFERENCE - timedelta(seconds=rng.randrange(1, window))
        kind = rng.choices(kinds, cum_weights=cumulative)[0]
        for event in kind(rng, world, when, made):
            if event.timestamp <= REFERENCE:
                if made == total:
                    return
                made += 1
                yield event


def _someone(rng: random.Random, world: World) -> str:
    """A user, the first ones far more active than the rest, as on the real bus."""
    return world.usernames[int(len(world.usernames) * rng.random() ** 2)]


def _package(rng: random.Random, world: World) -> tuple[str, str, list[str]]:
    return world.packages[int(len(world.packages) * rng.random() ** 2)]


def _build(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    name, version, owners = _package(rng, world)
    return [m.build_complete(when, owners[0], name, version, f"{1 + n % 9}.fc45",
                             3_000_000 + n)]


def _update(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    """An update meets its requirements; most are pushed to stable a day later."""
    name, version, owners = _package(rng, world)
    nvr, alias = f"{name}-{version}-{1 + n % 9}.fc45", f"FEDORA-2026-{n:010x}"
    events = [m.update_requirements_met(when, alias, owners[0], [nvr], "F45")]
    if rng.random() < 0.6:
        events.append(m.update_pushed_stable(when + timedelta(days=1), alias, owners[0], [nvr],
                                             "F45"))
    return events


def _comment(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    name, version, owners = _package(rng, world)
    return [m.update_comment(when, f"FEDORA-2026-{n:010x}", _someone(rng, world), owners[0],
                             f"{name}-{version}-1.fc45", rng.choice((1, 1, 1, 0, -1)),
                             rng.choice(COMMENTS))]


def _pull_request(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    """A dist-git pull request; two in five get merged or closed within days."""
    name, _version, owners = _package(rng, world)
    author, title = _someone(rng, world), rng.choice(PULL_REQUESTS)
    events = [m.pull_request_opened(when, author, "rpms", name, n, title, owners)]
    if rng.random() < 0.4:
        events.append(m.pull_request_closed(when + timedelta(days=rng.randint(1, 5)), owners[0],
                                            author, "rpms", name, n, title, owners,
                                            merged=rng.random() < 0.8))
    return events


def _badge(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    badge_id = rng.choice(sorted(BADGES))
    name, description = BADGES[badge_id]
    return [m.badge_award(when, _someone(rng, world), badge_id, name, description)]


def _wiki(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    page = f"{rng.choice(TOPICS).title()}/{rng.choice(WORDS).title()}"
    return [m.wiki_edit(when, _someone(rng, world), page)]


def _minutes(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    team = rng.choice(world.teams)
    chairs = team.roles[Role.OWNER][:2]
    attendees = {u: rng.randint(3, 60) for u in chairs + team.roles[Role.MEMBER][:12]}
    return [m.meeting_minutes(when, f"#fedora-{team.name}", team.name, f"{team.title} meeting",
                              chairs, attendees)]


def _meeting(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    """A fedocal meeting days to weeks ahead, so some start after the data clock."""
    team = rng.choice(world.teams)
    start = (when + timedelta(days=rng.randint(1, 28))).replace(minute=0, second=0)
    return [m.meeting_scheduled(when, team.roles[Role.OWNER][0], team.name, 100_000 + n,
                                f"{team.title} meeting", start, 60,
                                f"#fedora-{team.name}@irc.libera.chat",
                                "Agenda on discussion.fedoraproject.org")]


def _sponsor(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    team = rng.choice(world.teams)
    newcomer = rng.choice(team.roles[Role.MEMBER] or world.usernames)
    return [m.group_member_added(when, team.roles[Role.OWNER][0], newcomer, team.name)]


TAGGED = ((TagKind.USER, "usernames"), (TagKind.GROUP, "groups"), (TagKind.PACKAGE, "packages"))


def insert_events(conn: Connection, events: Iterable[Event]) -> dict[tuple[str, str], datetime]:
    """Store *events* as hubs.store.record would, ids from 1 in order and repeated msg_ids
    skipped, in batched Core inserts; the newest message time per (tag kind, name)."""
    seen: set[str] = set()
    latest: dict[tuple[str, str], datetime] = {}
    iterator = iter(events)
    while batch := list(islice(iterator, BATCH)):
        messages: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        for event in batch:
            if event.msg_id in seen:
                continue
            seen.add(event.msg_id)
            messages.append({"id": len(seen), "msg_id": event.msg_id, "topic": event.topic,
                             "category": event.category, "timestamp": event.timestamp,
                             "body": dict(event.body), "summary": event.summary,
                             "link": event.link, "icon": event.icon})
            for kind, field in TAGGED:
                for name in sorted(getattr(event, field)):
                    tags.append({"message_id": len(seen), "kind": kind.value, "name": name,
                                 "timestamp": event.timestamp})
                    key = (kind.value, name)
                    if latest.get(key, event.timestamp) <= event.timestamp:
                        latest[key] = event.timestamp
        if messages:
            conn.execute(Message.__table__.insert(), messages)
        if tags:
            conn.execute(MessageTag.__table__.insert(), tags)
    return latest


def date_hubs(conn: Connection, world: World, latest: dict[tuple[str, str], datetime]) -> None:
    """Each hub's last activity from its history, as populate.py dates its own."""
    hubs = Hub.__table__
    dates = [{"hub": username, "when": latest[(TagKind.USER.value, username)]}
             for username in world.usernames if (TagKind.USER.value, username) in latest]
    for team in world.teams:
        when = team_activity(latest, team.name,
                             [*team.roles[Role.OWNER], *team.roles[Role.MEMBER]], team.archived)
        if when is not None:
            dates.append({"hub": team.name, "when": when})
    if dates:
        conn.execute(update(hubs).where(hubs.c.name == bindparam("hub"))
                     .values(last_activity=bindparam("when")), dates)


def same_as_ingest(events: list[Event], work: Path) -> bool:
    """Whether insert_events stores *events* row for row as hubs.store.record does."""
    stores = {}
    for way in ("bulk", "record"):
        engine = open_engine(f"sqlite:///{work / f'{way}.db'}", create=True)
        try:
            create_schema(engine)
            if way == "bulk":
                with engine.begin() as conn:
                    insert_events(conn, events)
            else:
                with Session(engine) as session, session.begin():
                    record(session, events)
            with engine.connect() as conn:
                stores[way] = (
                    conn.execute(select(Message.__table__).order_by(Message.id)).all(),
                    conn.execute(select(MessageTag.__table__).order_by(
                        MessageTag.message_id, MessageTag.kind, MessageTag.name)).all())
        finally:
            engine.dispose()
    return stores["bulk"] == stores["record"]


@click.command()
@click.option("--users", default=10_000, show_default=True)
@click.option("--groups", type=int, help="Team hubs [default: one per ten users].")
@click.option("--messages-per-user", default=100, show_default=True)
@click.option("--days", default=400, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path),
              help=f"Where stores are kept [default: ${CACHE_ENV}, else {DEFAULT_CACHE}].")
def main(users: int, groups: int | None, messages_per_user: int, days: int, seed: int,
         cache: Path | None) -> None:
    """Generate (or find) a realistic store and print its path."""
    spec = StoreSpec(users, max(1, users // 10) if groups is None else groups,
                     messages_per_user, days, seed)
    started = time.perf_counter()
    path = cached_store(spec, cache)
    click.echo(f"{path}: {spec.describe()}, {path.stat().st_size / 2**20:.0f} MB, "
               f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
