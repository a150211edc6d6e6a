"""The message store: record bus events, and find the ones that concern users, groups, packages."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Insert,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from hubs.db import dialect_insert
from hubs.events import Event
from hubs.models import Hub, Membership, Message, MessageTag, Role, TagKind

if TYPE_CHECKING:
    from hubs.widget import BulkContext

_DAWN = datetime(1970, 1, 1, tzinfo=UTC)
"""Older than any message: the floor of a name with fewer messages than a query's limit."""

NEWEST_SHARED = 50
"""Messages per hub that the first asker of a chunk loads: the Atom feed's 50 entries, so a
hub's feed widget (20 by default) and its feed share one windowed query."""


def record(session: Session, events: Sequence[Event]) -> list[StoredMessage]:
    """Store the *events* whose ids are not there yet (redeliveries are no-ops); the new rows,
    with their tags.

    Core statements on the session's connection, in its transaction: one INSERT ... ON
    CONFLICT DO NOTHING RETURNING adds the messages not stored yet, one executemany their
    tags. Building ORM objects and flushing them through the unit of work cost more than
    that. A shard worker that stores a message another stored first waits for that worker's
    transaction, then skips the message.
    """
    firsts: dict[str, Event] = {}  # a batch may hold a message twice
    for event in events:
        firsts.setdefault(event.msg_id, event)
    new = list(firsts.values())
    if not new:
        return []
    rows: list[dict[str, Any]] = [{"msg_id": e.msg_id, "topic": e.topic, "category": e.category,
             "timestamp": e.timestamp, "body": dict(e.body), "summary": e.summary,
             "link": e.link, "icon": e.icon} for e in new]
    connection = session.connection()
    inserted: dict[str, int] = {msg_id: message_id for msg_id, message_id in connection.execute(
        _insert_messages(connection.dialect.name), rows)}
    stored = []
    tags = []
    for event, row in zip(new, rows, strict=True):
        message_id = inserted.get(event.msg_id)
        if message_id is None:  # stored already
            continue
        pairs = tuple((kind.value, name) for kind, names in (
            (TagKind.USER, event.usernames), (TagKind.GROUP, event.groups),
            (TagKind.PACKAGE, event.packages)) for name in sorted(names))
        tags += [{"message_id": message_id, "kind": kind, "name": name,
                  "timestamp": event.timestamp} for kind, name in pairs]
        stored.append(StoredMessage(id=message_id, **row, tags=pairs))
    if tags:
        connection.execute(insert(MessageTag), tags)
    return stored


@functools.cache
def _insert_messages(dialect: str) -> Insert:
    """(msg_id, id) of the rows it added: a msg_id stored already is left as it is."""
    return (dialect_insert(Message, dialect)
            .on_conflict_do_nothing(index_elements=[Message.msg_id])
            .returning(Message.msg_id, Message.id))


def prune(session: Session, before: datetime) -> int:
    """Delete messages sent before *before* (their tags and counts go with them); how many
    went."""
    from hubs import counts  # counts reads the store

    old = select(Message.id).where(Message.timestamp < before)
    session.execute(delete(MessageTag).where(MessageTag.message_id.in_(old)))
    result = cast(CursorResult[Any], session.execute(
        delete(Message).where(Message.timestamp < before)))
    if result.rowcount:  # nothing pruned, no count to mend
        counts.forget(session.connection(), before)
    return result.rowcount


def hub_people(hub: Hub) -> list[str]:
    """Whose activity a hub follows: its user for a user hub, owners and members for a team."""
    if hub.user_hub:
        return [hub.name]
    return hub.usernames(Role.OWNER, Role.MEMBER)


@dataclasses.dataclass(frozen=True)
class Concerning:
    """Whose messages a query reads: names by tag kind. Statements take the names as bound
    values, so one statement per combination of kinds serves every hub: SQLAlchemy spent more
    time building and cache-keying a fresh statement per call than SQLite spent running it."""

    names: dict[TagKind, list[str]]

    @classmethod
    def of(cls, usernames: Collection[str] = (), groups: Collection[str] = (),
           packages: Collection[str] = ()) -> Concerning:
        return cls({kind: sorted(given) for kind, given in ((TagKind.USER, usernames),
                                                             (TagKind.GROUP, groups),
                                                             (TagKind.PACKAGE, packages))
                    if given})

    def __bool__(self) -> bool:
        return bool(self.names)

    @property
    def kinds(self) -> tuple[TagKind, ...]:
        return tuple(self.names)

    @property
    def params(self) -> dict[str, Any]:
        return {_names_key(kind): names for kind, names in self.names.items()}


@functools.cache
def concerning_ids(kinds: tuple[TagKind, ...], since: bool = False,
                   until: bool = False) -> Select[int]:
    """Ids of messages tagged with any of the names of a Concerning of these *kinds*; with
    *since* or *until*, only those whose tags' times (their messages') are in the window of
    the bound ``since``/``until``, which the (kind, name, timestamp) index reads alone."""
    if not kinds:
        return select(MessageTag.message_id).where(false())
    window = ([MessageTag.timestamp >= bindparam("since")] if since else []) + (
        [MessageTag.timestamp <= bindparam("until")] if until else [])
    return select(MessageTag.message_id).where(or_(*(
        and_(MessageTag.kind == kind.value,
             MessageTag.name.in_(bindparam(_names_key(kind), expanding=True)), *window)
        for kind in kinds)))


def _names_key(kind: TagKind) -> str:
    return f"{kind.value}_names"


@dataclasses.dataclass(frozen=True, slots=True)
class StoredMessage:
    """A stored message as widgets read it: plain values. Building ORM objects for them cost
    ten times what SQLite took to find them."""

    id: int
    msg_id: str
    topic: str
    category: str
    timestamp: datetime
    body: dict[str, Any]
    summary: str
    link: str
    icon: str
    tags: tuple[tuple[str, str], ...] | None = None
    """(kind, name) pairs, when find_messages was asked for them."""

    def names(self, kind: TagKind) -> list[str]:
        if self.tags is None:
            raise ValueError("this message's tags were not loaded: find_messages(with_tags=True)")
        return sorted(name for tag_kind, name in self.tags if tag_kind == kind)

    def as_event(self) -> Event:
        """The message as the watcher understood it when it arrived: what the widgets'
        checks were asked about then (its tags are the names it concerned)."""
        names = {kind: frozenset(self.names(kind)) for kind in TagKind}
        return Event(self.msg_id, self.topic, self.timestamp, usernames=names[TagKind.USER],
                     groups=names[TagKind.GROUP], packages=names[TagKind.PACKAGE],
                     body=self.body, summary=self.summary, link=self.link, icon=self.icon)


_MESSAGE_COLUMNS = [Message.__table__.c[field.name]
                    for field in dataclasses.fields(StoredMessage) if field.name != "tags"]
_BODILESS_COLUMNS = [column for column in _MESSAGE_COLUMNS if column.name != "body"]
"""What is read when the caller reads no body: decoding the JSON of an empty one, selected
in its place, was a fifth of reading a hub's newest messages."""


def find_messages(session: Session, *, usernames: Collection[str] = (),
                  groups: Collection[str] = (), packages: Collection[str] = (),
                  topics: Collection[str] = (), since: datetime | None = None,
                  until: datetime | None = None, limit: int | None = None,
                  newest_first: bool = True, with_tags: bool = False) -> list[StoredMessage]:
    """Messages concerning any of the names, optionally of some topics and in a time window.

    Ties in time are broken by id so the order, and so the page, is deterministic. With
    *with_tags*, their tags come too (for `message_view`).
    """
    who = Concerning.of(usernames, groups, packages)
    if not who:
        return []
    params = who.params | {"topics": sorted(topics), "since": since, "until": until,
                           "limit": limit}
    query = _messages_query(who.kinds, bool(topics), since is not None, until is not None,
                            limit is not None, newest_first, with_tags)
    # Core on the session's connection: the ORM's execute path cost as much as the query.
    rows = session.connection().execute(
        query, {k: v for k, v in params.items() if v is not None}).all()
    if not with_tags:
        return [StoredMessage(*row) for row in rows]
    return [_with_tags(row) for row in rows]


@functools.cache
def _messages_query(kinds: tuple[TagKind, ...], topics: bool, since: bool, until: bool,
                    limit: bool, newest_first: bool, with_tags: bool) -> Select[Any]:
    """One statement per shape of find_messages call. The time window narrows the tags read
    too: updates_ready's 60 days then cost SQLite a fifth of reading every tag of its people."""
    columns = [*_MESSAGE_COLUMNS, _TAGS_COLUMN] if with_tags else _MESSAGE_COLUMNS
    query = select(*columns).where(Message.id.in_(concerning_ids(kinds, since, until)))
    if topics:
        query = query.where(Message.topic.in_(bindparam("topics", expanding=True)))
    if since:
        query = query.where(Message.timestamp >= bindparam("since"))
    if until:
        query = query.where(Message.timestamp <= bindparam("until"))
    order = (Message.timestamp.desc(), Message.id.desc()) if newest_first else (
        Message.timestamp, Message.id)
    query = query.order_by(*order)
    return query.limit(bindparam("limit")) if limit else query


_TAGS_COLUMN = (
    select(func.aggregate_strings(MessageTag.kind + ":" + func.replace(
        func.replace(MessageTag.name, "%", "%25"), " ", "%20"), " "))
    .where(MessageTag.message_id == Message.id)
    .scalar_subquery().label("tags"))
"""A message's tags as one text, ``kind:name`` words (a name's spaces and percent signs
escaped as in a URL), read with the message: a second statement for the tags of the rows
found, and a Python row per tag, cost a feed as much as finding its messages."""


def _with_tags(row: Any) -> StoredMessage:
    """The StoredMessage of a row of the message columns and _TAGS_COLUMN, in that order."""
    *columns, packed = row
    return StoredMessage(*columns, tags=_unpacked_tags(packed))  # type: ignore[misc]


def _bodiless_with_tags(row: Any) -> StoredMessage:
    """As _with_tags, for a row of _BODILESS_COLUMNS: its body an empty dict of its own."""
    message_id, msg_id, topic, category, timestamp, summary, link, icon, packed = row
    return StoredMessage(message_id, msg_id, topic, category, timestamp, {}, summary, link,
                         icon, _unpacked_tags(packed))


def _unpacked_tags(packed: str | None) -> tuple[tuple[str, str], ...]:
    """_TAGS_COLUMN's words as sorted (kind, name) pairs. Kinds differ from their first
    letter on, so the words sort as their pairs do."""
    if not packed:
        return ()
    words = packed.split(" ")
    words.sort()
    if "%" not in packed:
        return tuple([tuple(word.split(":", 1)) for word in words])  # type: ignore[misc]
    tags = []
    for word in words:
        kind, _, name = word.partition(":")
        tags.append((kind, name.replace("%20", " ").replace("%25", "%")))
    return tuple(sorted(tags))


def messages_before(connection: Connection, before: datetime,
                    chunk: int) -> Iterator[list[StoredMessage]]:
    """The messages sent before *before*, oldest first, with their bodies and tags, *chunk*
    at a time: what pruning would take, read before it goes (a year-old hour of Fedora's bus
    is thousands of messages, too many to hold at once)."""
    after: tuple[datetime, int] = (_DAWN, 0)
    while True:
        rows = connection.execute(_BEFORE_QUERY, {"before": before, "after_time": after[0],
                                                  "after_id": after[1], "chunk": chunk}).all()
        if not rows:
            return
        yield [_with_tags(row) for row in rows]
        after = (rows[-1].timestamp, rows[-1].id)


_BEFORE_QUERY = (select(*_MESSAGE_COLUMNS, _TAGS_COLUMN)
                 .where(Message.timestamp < bindparam("before", type_=Message.timestamp.type),
                        tuple_(Message.timestamp, Message.id) > tuple_(
                            bindparam("after_time", type_=Message.timestamp.type),
                            bindparam("after_id")))
                 .order_by(Message.timestamp, Message.id).limit(bindparam("chunk")))
"""Through the timestamp index, in its order, so an hourly prune that finds a few messages
reads a few rows, not the table."""


def message_view(message: StoredMessage) -> dict[str, Any]:
    """The JSON-able part of a stored message that widgets put in their data."""
    return {
        "msg_id": message.msg_id,
        "topic": message.topic,
        "category": message.category,
        "timestamp": message.timestamp.isoformat(),
        "summary": message.summary,
        "link": message.link,
        "icon": message.icon,
        "usernames": message.names(TagKind.USER),
        "packages": message.names(TagKind.PACKAGE),
    }


def messages_tagged(messages: Sequence[StoredMessage], kind: TagKind,
                    names: Collection[str]) -> dict[str, list[StoredMessage]]:
    """*messages* (loaded with their tags) by the names of *kind* they carry, in their order:
    one find_messages for a whole chunk, shared out per person."""
    wanted = set(names)
    by_name: dict[str, list[StoredMessage]] = {name: [] for name in wanted}
    for message in messages:
        for name in message.names(kind):
            if name in wanted:
                by_name[name].append(message)
    return by_name


def messages_of_each(connection: Connection, kind: TagKind, names: Collection[str], *,
                     topics: Collection[str], since: datetime = _DAWN,
                     limit: int | None = None) -> dict[str, list[StoredMessage]]:
    """What messages_tagged makes of find_messages(with_tags=True) for *names* of one *kind*
    (sent since *since*; by default, all; the newest *limit* of each name if given), in one
    statement, the messages' own tags left unread (their `tags` is None): each name's tags
    in the window join their messages. Reading every tag of every message found, to share
    them out, cost the per-person widgets more than this (a meeting's minutes are tagged with
    everyone who spoke)."""
    by_name: dict[str, list[StoredMessage]] = {name: [] for name in names}
    if not by_name:
        return by_name
    params = {"kind": kind.value, "names": sorted(by_name), "topics": sorted(topics),
              "since": since, "limit": limit}
    query = _MESSAGES_OF_EACH if limit is None else _NEWEST_OF_EACH
    for name, *columns in connection.execute(query, params):
        by_name[name].append(StoredMessage(*columns))
    return by_name


_OF_EACH_WHERE = (
    MessageTag.kind == bindparam("kind"),
    MessageTag.name.in_(bindparam("names", expanding=True)),
    MessageTag.timestamp >= bindparam("since", type_=Message.timestamp.type),
    Message.timestamp >= bindparam("since", type_=Message.timestamp.type),
    Message.topic.in_(bindparam("topics", expanding=True)))

_MESSAGES_OF_EACH = (
    select(MessageTag.name, *_MESSAGE_COLUMNS)
    .join_from(MessageTag, Message, Message.id == MessageTag.message_id)
    .where(*_OF_EACH_WHERE)
    .order_by(Message.timestamp.desc(), Message.id.desc()))

_RANKED_OF_EACH = (
    select(MessageTag.name, Message.id, func.row_number().over(
        partition_by=MessageTag.name, order_by=(Message.timestamp.desc(), Message.id.desc())
    ).label("rank"))
    .join_from(MessageTag, Message, Message.id == MessageTag.message_id)
    .where(*_OF_EACH_WHERE)
    .subquery("ranked"))

_NEWEST_OF_EACH = (
    select(_RANKED_OF_EACH.c.name, *_MESSAGE_COLUMNS)
    .join_from(_RANKED_OF_EACH, Message, Message.id == _RANKED_OF_EACH.c.id)
    .where(_RANKED_OF_EACH.c.rank <= bindparam("limit"))
    .order_by(Message.timestamp.desc(), Message.id.desc()))
"""Ranks ids only and reads the winners' bodies: a team's newest minutes among all of them."""


def hub_tags() -> Select[Any]:
    """(hub_id, kind, name) of what each hub of the bound ``hub_ids`` follows, as hub_people
    and hub_groups say: a user hub its user; a team hub its owners and members, and its group."""
    ids: BindParameter[int] = bindparam("hub_ids", expanding=True)
    team = and_(Hub.id.in_(ids), ~Hub.user_hub)
    people = (select(Hub.id.label("hub_id"), literal(TagKind.USER.value).label("kind"),
                     Membership.username.label("name"))
              .join(Membership, Membership.hub_id == Hub.id)
              .where(team, Membership.role.in_([Role.OWNER.value, Role.MEMBER.value])))
    group = select(Hub.id, literal(TagKind.GROUP.value), Hub.name).where(team)
    user = select(Hub.id, literal(TagKind.USER.value), Hub.name).where(Hub.id.in_(ids),
                                                                        Hub.user_hub)
    return union_all(people, group, user)  # type: ignore[return-value]


def hub_messages() -> Select[Any]:
    """Distinct (hub_id, message_id) of the messages the history of each hub of the bound
    ``hub_ids`` joins; a caller may narrow it by MessageTag.timestamp."""
    who = hub_tags().subquery("who")
    return (select(who.c.hub_id, MessageTag.message_id).distinct()
            .join(MessageTag, and_(MessageTag.kind == who.c.kind, MessageTag.name == who.c.name)))


def newest_per_hub(connection: Connection, hub_ids: Collection[int], until: datetime,
                   limit: int, *, with_bodies: bool = True) -> dict[int, list[StoredMessage]]:
    """Each hub's newest *limit* messages up to *until* with their tags, as find_messages
    gives them per hub, in one statement for all the hubs (ROW_NUMBER() per hub). Without
    *with_bodies*, each body is empty: feeds show summaries, and decoding bodies nobody read
    was a quarter of this."""
    params = {"hub_ids": sorted(hub_ids), "until": until, "limit": limit, "skip": limit - 1}
    newest: dict[int, list[StoredMessage]] = {hub_id: [] for hub_id in hub_ids}
    made: dict[int, StoredMessage] = {}  # a team's message is often its members' too
    of_row = _with_tags if with_bodies else _bodiless_with_tags
    for hub_id, *columns in connection.execute(_newest_per_hub_query(with_bodies), params):
        message = made.get(columns[0])
        if message is None:
            message = made[columns[0]] = of_row(columns)
        newest[hub_id].append(message)
    return newest


def newest_of_chunk(bulk: BulkContext, hub_ids: Collection[int],
                    limit: int) -> dict[int, list[StoredMessage]]:
    """newest_per_hub for a render chunk, loaded once for every asker of the chunk (at least
    NEWEST_SHARED deep) and cut to *limit*; without bodies, as its askers (the feed widget,
    the Atom feeds) show summaries."""
    depth = max(limit, NEWEST_SHARED)
    found = bulk.lookup(f"newest-{depth}", hub_ids, lambda connection, ids: newest_per_hub(
        connection, ids, bulk.now, depth, with_bodies=False))
    return {hub_id: messages[:limit] for hub_id, messages in found.items()}


@functools.cache
def _newest_per_hub_query(with_bodies: bool) -> Select[Any]:
    """Ranks ids and times only, then reads the winners: ranking whole rows (bodies and all)
    cost SQLite more than the per-hub queries it replaces. Only tags since the hub's floor
    are ranked, so the cost does not grow with a store that keeps 400 days of a team's
    messages: each followed name's *limit*-th newest tag is found by an index scan, and the
    newest of those times is the floor, since that name alone has *limit* messages since.
    A team's floor is so its busiest member's, not each member's own: at 10,000 users,
    members' own floors let 2.3 times the rows through, and a team's newest took 1.4 times
    as long to read."""
    until = bindparam("until", type_=Message.timestamp.type)
    who = hub_tags().subquery("who")
    older = aliased(MessageTag)
    floor = (select(older.timestamp)
             .where(older.kind == who.c.kind, older.name == who.c.name, older.timestamp <= until)
             .order_by(older.timestamp.desc()).limit(1).offset(bindparam("skip"))
             .scalar_subquery())
    dawn = bindparam("dawn", _DAWN, type_=Message.timestamp.type)
    floors = select(who, func.coalesce(floor, dawn).label("own_floor")).subquery("floors")
    followed = select(floors.c.hub_id, floors.c.kind, floors.c.name,
                      func.max(floors.c.own_floor).over(partition_by=floors.c.hub_id)
                      .label("floor")).subquery("followed")
    hits = (select(followed.c.hub_id, MessageTag.message_id, MessageTag.timestamp).distinct()
            .join(MessageTag, and_(MessageTag.kind == followed.c.kind,
                                   MessageTag.name == followed.c.name))
            .where(MessageTag.timestamp >= followed.c.floor, MessageTag.timestamp <= until)
            .subquery("hits"))
    rank = func.row_number().over(partition_by=hits.c.hub_id,
                                  order_by=(hits.c.timestamp.desc(), hits.c.message_id.desc()))
    ranked = select(hits.c.hub_id, hits.c.message_id, rank.label("rank")).subquery("ranked")
    columns = _MESSAGE_COLUMNS if with_bodies else _BODILESS_COLUMNS
    return (select(ranked.c.hub_id, *columns, _TAGS_COLUMN)
            .join_from(ranked, Message, Message.id == ranked.c.message_id)
            .where(ranked.c.rank <= bindparam("limit"))
            .order_by(ranked.c.hub_id, ranked.c.rank))
