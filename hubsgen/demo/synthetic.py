"""A synthetic population at scale, for benchmarks: users, teams, memberships and bus messages.

Rows go in by batched bulk inserts (one executemany per batch): ORM objects added one by one
would take minutes for 100,000 users. The same seed always gives the same rows, ids included.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate, islice
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from hubs import counts as hub_counts
from hubs.clock import EPOCH
from hubs.defaults import WidgetSpec, team_widgets, user_widgets
from hubs.events import Event
from hubs.models import (
    Base,
    Hub,
    Membership,
    Message,
    MessageTag,
    Role,
    TagKind,
    User,
    WidgetInstance,
)
from hubsgen.demo import messages as m
from hubsgen.demo.population import BADGES, COMMENTS, PULL_REQUESTS, REFERENCE, team_activity

log = logging.getLogger(__name__)

DEFAULT_MESSAGES_PER_USER = 2
"""Keeps 100,000 users (about 200,000 messages) well under a minute on SQLite."""

BATCH = 10_000
WINDOW_SECONDS = 12 * 7 * 24 * 3600

FIRST = ("Adam", "Aisha", "Alba", "Ana", "Anders", "Arjun", "Beatriz", "Bilal", "Carlos", "Chen",
         "Chiara", "Daniel", "Dmitri", "Elena", "Emeka", "Emma", "Farah", "Felix", "Hana",
         "Hugo", "Ines", "Ivan", "Jakub", "Jana", "Jorge", "Julia", "Kai", "Kenji", "Lars",
         "Leila", "Lucas", "Maya", "Mei", "Miguel", "Nadia", "Nikos", "Noor", "Olga", "Omar",
         "Pablo", "Priya", "Rahul", "Rosa", "Sara", "Sofia", "Tariq", "Tomas", "Vera", "Yuki",
         "Zara")
LAST = ("Andersson", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
        "Ivanova", "Jensen", "Kowalski", "Kumar", "Lambert", "Li", "Martin", "Moreau", "Nakamura",
        "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Quinn", "Rossi", "Santos", "Schmidt",
        "Silva", "Singh", "Tanaka", "Torres", "Usman", "Varga", "Wagner", "Wang", "Weber",
        "Yilmaz", "Young", "Zhang", "Ziegler", "Horvat")
TOPICS = ("python", "rust", "golang", "java", "perl", "ruby", "kde", "gnome", "xfce", "cinnamon",
          "docs", "websites", "qa", "cloud", "server", "iot", "atomic", "silverblue", "kinoite",
          "games", "astronomy", "neuro", "robotics", "science", "security", "releng", "i3",
          "sway", "budgie", "lxqt", "containers", "podman", "mentors", "ambassadors",
          "magazine", "podcast", "badges", "commops", "l10n", "accessibility")
KINDS = ("sig", "team", "wg")
PREFIXES = ("", "python-", "perl-", "rust-", "golang-", "nodejs-", "ghc-", "R-")
WORDS = ("aurora", "basalt", "cedar", "delta", "ember", "fjord", "granite", "harbor", "indigo",
         "juniper", "kestrel", "lumen", "meadow", "nimbus", "onyx", "pebble", "quartz", "raven",
         "sierra", "tundra", "umber", "vertex", "willow", "xenon", "yarrow", "zephyr")


@dataclass(frozen=True)
class Spec:
    users: int
    groups: int
    seed: int
    messages_per_user: int = DEFAULT_MESSAGES_PER_USER


@dataclass
class Counts:
    """Rows written per table, for the command's summary line."""

    users: int = 0
    hubs: int = 0
    widgets: int = 0
    memberships: int = 0
    messages: int = 0
    tags: int = 0

    def summary(self) -> str:
        return (f"{self.users} users, {self.hubs} hubs, {self.widgets} widgets, "
                f"{self.memberships} memberships, {self.messages} messages, {self.tags} tags")


@dataclass(frozen=True)
class Team:
    name: str
    title: str
    roles: dict[Role, list[str]]
    archived: bool


@dataclass(frozen=True)
class World:
    """Who exists: the people, the teams and the packages messages are about."""

    people: list[tuple[str, str]]
    teams: list[Team]
    packages: list[tuple[str, str, list[str]]]  # name, version, owners
    usernames: list[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "usernames", [u for u, _ in self.people])


def populate_synthetic(conn: Connection, spec: Spec) -> Counts:
    """Write *spec*'s population into an empty schema through *conn*, in one transaction."""
    rng = random.Random(spec.seed)
    world = make_world(rng, spec)
    if conn.dialect.name == "sqlite":
        _sqlite_bulk_mode(conn)
    indexes = [index for table in Base.metadata.sorted_tables for index in table.indexes]
    for index in indexes:  # building an index once at the end beats updating it per row
        index.drop(conn)
    writer = Writer(conn)
    counts = Counts(users=_insert_people(writer, rng, world))
    events = synthetic_events(rng, world, spec.users * spec.messages_per_user)
    latest = _insert_messages(writer, counts, events)
    _insert_hubs(writer, counts, world, latest)
    for index in indexes:
        index.create(conn)
    hub_counts.recount_all(conn)
    return counts


def _sqlite_bulk_mode(conn: Connection) -> None:
    """Speed-ups for loading a fresh database: a write-ahead log would take every page twice
    (WAL returns with the next connection), and a big page cache keeps the unique indexes in
    memory. Leaving WAL needs the only connection; if another is open, the load goes slower."""
    try:
        conn.exec_driver_sql("PRAGMA journal_mode=MEMORY")
    except OperationalError:
        log.info("Another connection holds %s open; loading in WAL mode", conn.engine.url)
    for pragma in ("synchronous=OFF", "cache_size=-524288"):
        conn.exec_driver_sql(f"PRAGMA {pragma}")


def make_world(rng: random.Random, spec: Spec) -> World:
    people = _people(rng, spec.users)
    usernames = [u for u, _ in people]
    teams = [Team(name, title, _roles(rng, usernames), archived=rng.random() < 0.05)
             for name, title in _teams(spec.groups)]
    packages = [(name, f"{rng.randrange(1, 9)}.{rng.randrange(30)}.{rng.randrange(10)}",
                 rng.sample(usernames, min(len(usernames), 1 + (rng.random() < 0.3))))
                for name in _package_names(rng, max(1, spec.users // 3))]
    return World(people, teams, packages)


def _people(rng: random.Random, n: int) -> list[tuple[str, str]]:
    taken: dict[str, int] = {}
    people = []
    for _ in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        base = (first[0] + last).lower()
        taken[base] = taken.get(base, 0) + 1
        people.append((base if taken[base] == 1 else f"{base}{taken[base]}", f"{first} {last}"))
    return people


def _teams(n: int) -> Iterator[tuple[str, str]]:
    """Team names always hold a dash, user names never do, so hub names cannot collide."""
    for i in range(n):
        topic, kind = TOPICS[i % len(TOPICS)], KINDS[i // len(TOPICS) % len(KINDS)]
        rounds = i // (len(TOPICS) * len(KINDS))
        name = f"{topic}-{kind}" + (f"-{rounds + 1}" if rounds else "")
        yield name, f"The Fedora {topic.title()} {kind.upper() if kind == 'wg' else kind.title()}"


def _roles(rng: random.Random, usernames: Sequence[str]) -> dict[Role, list[str]]:
    sizes = {Role.OWNER: rng.randint(1, 3), Role.MEMBER: rng.randint(2, 15),
             Role.SUBSCRIBER: rng.randint(0, 40), Role.STARGAZER: rng.randint(0, 10)}
    chosen = rng.sample(usernames, min(len(usernames), sum(sizes.values())))
    roles, start = {}, 0
    for role, size in sizes.items():
        roles[role] = sorted(chosen[start:start + size])
        start += size
    return roles


def _package_names(rng: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        name = rng.choice(PREFIXES) + rng.choice(WORDS)
        names.add(name if name not in names else f"{name}{rng.randrange(10_000)}")
    return sorted(names)


def synthetic_events(rng: random.Random, world: World, total: int) -> Iterator[Event]:
    """About *total* messages of every service the widgets read, over twelve weeks."""
    kinds: list[Callable[[random.Random, World, datetime, int], list[Event]]] = [
        _badge, _build, _update, _comment, _pull_request, _wiki]
    weights = [15, 20, 12, 12, 10, 10]
    if world.teams:
        kinds += [_minutes, _meeting, _sponsor]
        weights += [5, 5, 3]
    cumulative = list(accumulate(weights))
    made = 0
    while made < total:
        when = REFERENCE - timedelta(seconds=rng.randrange(1, WINDOW_SECONDS))
        kind = rng.choices(kinds, cum_weights=cumulative)[0]
        for event in kind(rng, world, when, made):
            if event.timestamp <= REFERENCE:
                made += 1
                yield event


def _someone(rng: random.Random, world: World) -> str:
    """A user, the first ones far more active than the rest, as on the real bus."""
    return world.usernames[int(len(world.usernames) * rng.random() ** 2)]


def _badge(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    badge_id = rng.choice(sorted(BADGES))
    name, description = BADGES[badge_id]
    return [m.badge_award(when, _someone(rng, world), badge_id, name, description)]


def _build(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    name, version, owners = rng.choice(world.packages)
    return [m.build_complete(when, owners[0], name, version, f"{1 + n % 5}.fc45", 3_000_000 + n)]


def _update(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    """An update meets its requirements; most are pushed to stable a day later."""
    name, version, owners = rng.choice(world.packages)
    nvr, alias = f"{name}-{version}-{1 + n % 5}.fc45", f"FEDORA-2026-{n:010x}"
    events = [m.update_requirements_met(when, alias, owners[0], [nvr], "F45")]
    if rng.random() < 0.6:
        events.append(m.update_pushed_stable(when + timedelta(days=1), alias, owners[0], [nvr],
                                             "F45"))
    return events


def _comment(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    name, version, owners = rng.choice(world.packages)
    karma = rng.choice((1, 1, 1, 0, -1))
    return [m.update_comment(when, f"FEDORA-2026-{n:010x}", _someone(rng, world), owners[0],
                             f"{name}-{version}-1.fc45", karma, rng.choice(COMMENTS))]


def _pull_request(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    """A dist-git pull request; two in five get merged or closed within days."""
    name, _version, owners = rng.choice(world.packages)
    author, title = _someone(rng, world), rng.choice(PULL_REQUESTS)
    events = [m.pull_request_opened(when, author, "rpms", name, n, title, owners)]
    if rng.random() < 0.4:
        events.append(m.pull_request_closed(when + timedelta(days=rng.randint(1, 5)), owners[0],
                                            author, "rpms", name, n, title, owners,
                                            merged=rng.random() < 0.8))
    return events


def _wiki(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    page = f"{rng.choice(TOPICS).title()}/{rng.choice(WORDS).title()}"
    return [m.wiki_edit(when, _someone(rng, world), page)]


def _minutes(rng: random.Random, world: World, when: datetime, n: int) -> list[Event]:
    team = rng.choice(world.teams)
    chairs = team.roles[Role.OWNER][:2]
    attendees = {u: rng.randint(3, 60) for u in chairs + team.roles[Role.MEMBER][:6]}
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


def _memoized(bind: Callable[[Any], Any]) -> Callable[[dict[str, Any]], Any]:
    """Bind each distinct widget config once: a user's widgets share ``{"username": ...}``."""
    cache: dict[tuple[tuple[str, Any], ...], Any] = {}

    def bound(config: dict[str, Any]) -> Any:
        try:
            key = tuple(sorted(config.items()))
            return cache[key] if key in cache else cache.setdefault(key, bind(config))
        except TypeError:  # a list value, so not hashable
            return bind(config)

    return bound


class Writer:
    """Batched executemany INSERTs of plain tuples straight to the DBAPI: SQLAlchemy's per-row
    parameter handling would take most of a 100,000-user run."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.quote = conn.dialect.identifier_preparer.quote

    def binder(self, model: type[Any], column: str) -> Callable[[Any], Any]:
        """How SQLAlchemy would convert a value of *column*: aware datetimes, JSON."""
        dialect = self.conn.dialect
        impl = model.__table__.c[column].type.dialect_impl(dialect)
        processor: Callable[[Any], Any] | None = impl.bind_processor(dialect)
        return processor or (lambda value: value)

    def insert(self, model: type[Any], columns: Sequence[str], rows: Iterable[tuple[Any, ...]],
               ) -> int:
        """Insert *rows* (values in *columns* order, already bound); returns how many."""
        sql = (f"INSERT INTO {self.quote(model.__tablename__)} "
               f"({', '.join(self.quote(c) for c in columns)}) "
               f"VALUES ({', '.join([self.mark] * len(columns))})")
        count, iterator = 0, iter(rows)
        while batch := list(islice(iterator, BATCH)):
            self.conn.exec_driver_sql(sql, batch)
            count += len(batch)
        return count


MESSAGE_COLUMNS = ("id", "msg_id", "topic", "category", "timestamp", "body", "summary", "link",
                   "icon")
TAG_COLUMNS = ("message_id", "kind", "name", "timestamp")
USER, GROUP, PACKAGE = TagKind.USER.value, TagKind.GROUP.value, TagKind.PACKAGE.value


def _insert_people(writer: Writer, rng: random.Random, world: World) -> int:
    when = writer.binder(User, "created")
    return writer.insert(User, ("username", "fullname", "created"), [
        (username, fullname, when(REFERENCE - timedelta(days=rng.randrange(3000))))
        for username, fullname in world.people])


def _insert_messages(writer: Writer, counts: Counts,
                     events: Iterable[Event]) -> dict[tuple[str, str], datetime]:
    """Store the events with their tags, skipping repeated ids; returns ``newest_by_name``."""
    when, body = writer.binder(Message, "timestamp"), writer.binder(Message, "body")
    seen: set[str] = set()
    latest: dict[tuple[str, str], datetime] = {}
    messages: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []

    def flush() -> None:
        counts.messages += writer.insert(Message, MESSAGE_COLUMNS, messages)
        counts.tags += writer.insert(MessageTag, TAG_COLUMNS, tags)
        messages.clear()
        tags.clear()

    for event in events:
        if event.msg_id in seen:
            continue
        seen.add(event.msg_id)
        message_id, stamp = len(seen), when(event.timestamp)
        messages.append((message_id, event.msg_id, event.topic, event.category, stamp,
                         body(event.body), event.summary, event.link, event.icon))
        for kind, names in ((USER, event.usernames), (GROUP, event.groups),
                            (PACKAGE, event.packages)):
            for name in names:
                tags.append((message_id, kind, name, stamp))
                if kind != PACKAGE and latest.get((kind, name), EPOCH) < event.timestamp:
                    latest[(kind, name)] = event.timestamp
        if len(messages) == BATCH:
            flush()
    flush()
    return latest


def _insert_hubs(writer: Writer, counts: Counts, world: World,
                 latest: dict[tuple[str, str], datetime]) -> None:
    """Team hubs, then a hub per user, each with the default widgets; team memberships."""
    when, config = writer.binder(Hub, "created"), _memoized(writer.binder(WidgetInstance,
                                                                          "config"))
    created = REFERENCE - timedelta(days=400)
    bound_created = when(created)
    hubs: list[tuple[Any, ...]] = []
    widgets: list[tuple[Any, ...]] = []
    memberships: list[tuple[Any, ...]] = []

    def add_hub(name: str, summary: str, archived: bool, user_hub: bool,
                last: datetime | None, specs: list[WidgetSpec]) -> int:
        hub_id = len(hubs) + 1
        hubs.append((hub_id, name, summary, "", archived, user_hub, bound_created,
                     bound_created if last is None else when(last)))
        positions: dict[str, int] = {}
        for plugin, settings, column in specs:
            positions[column] = positions.get(column, -1) + 1
            widgets.append((len(widgets) + 1, hub_id, plugin, config(settings), column,
                            positions[column]))
        return hub_id

    for team in world.teams:
        wiki = f"https://fedoraproject.org/wiki/{team.name.split('-')[0].title()}"
        last = team_activity(latest, team.name,
                             [*team.roles[Role.OWNER], *team.roles[Role.MEMBER]], team.archived)
        hub_id = add_hub(team.name, team.title, team.archived, False, last,
                         team_widgets(team.name, rules={"link": wiki}))
        for role, usernames in team.roles.items():
            for username in usernames:
                memberships.append((len(memberships) + 1, hub_id, username, role.value))
    for username, fullname in world.people:
        add_hub(username, fullname, False, True, latest.get((USER, username)),
                user_widgets(username))
    counts.hubs = writer.insert(Hub, ("id", "name", "summary", "avatar", "archived", "user_hub",
                                      "created", "last_activity"), hubs)
    counts.widgets = writer.insert(WidgetInstance, ("id", "hub_id", "plugin", "config", "column",
                                                    "position"), widgets)
    counts.memberships = writer.insert(Membership, ("id", "hub_id", "username", "role"),
                                       memberships)
