"""Messages per hub, UTC day and category, kept as messages arrive: the widgets that count
(activity, message_stats) read this small table instead of the whole store.

A message counts once for each hub whose history it joins (`hubs.store.hub_messages`).
`add` counts a batch just recorded; `recount` makes a hub's counts again from the store when
the people it follows change; `forget` follows the store's pruning.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Insert,
    Select,
    bindparam,
    delete,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from hubs.db import dialect_insert
from hubs.models import Hub, HubCount, Membership, Message, MessageTag, Role, TagKind
from hubs.store import StoredMessage, hub_messages

CHUNK = 500
"""Hubs recounted per statement: each is one bound value, and SQLite caps their number."""


def add(session: Session, messages: Sequence[StoredMessage],
        followers: Mapping[tuple[str, str], set[int]] | None = None) -> None:
    """Count *messages*, just recorded, for the hubs they concern: one query finds those hubs
    (unless *followers* of their tags are given), one grouped upsert adds to their days. Call
    it before people change in the same flush: a hub recounted from the store holds these
    messages already."""
    if not messages:
        return
    session.flush()
    connection = session.connection()
    if followers is None:
        followers = hub_followers(connection, {tag for message in messages
                                               for tag in message.tags or ()})
    added: Counter[tuple[int, date, str]] = Counter()
    for message in messages:
        hubs = set().union(*(followers.get(tag, ()) for tag in message.tags or ()))
        for hub_id in hubs:
            added[hub_id, message.timestamp.astimezone(UTC).date(), message.category] += 1
    if added:
        rows = [{"hub_id": hub_id, "day": day, "category": category, "messages": n}
                for (hub_id, day, category), n in sorted(added.items())]
        connection.execute(_increment(connection.dialect.name), rows)


def hub_followers(connection: Connection,
                  tags: Collection[tuple[str, str]]) -> dict[tuple[str, str], set[int]]:
    """The hubs following each (kind, name) tag, as `hubs.store.hub_tags` says they do: the
    hubs whose history a message with these tags joins."""
    usernames = sorted(name for kind, name in tags if kind == TagKind.USER)
    groups = sorted(name for kind, name in tags if kind == TagKind.GROUP)
    user = literal(TagKind.USER.value)
    people = (select(Membership.hub_id, user, Membership.username)
              .join(Hub, Hub.id == Membership.hub_id)
              .where(~Hub.user_hub, Membership.username.in_(usernames),
                     Membership.role.in_([Role.OWNER.value, Role.MEMBER.value])))
    group = select(Hub.id, literal(TagKind.GROUP.value), Hub.name).where(
        ~Hub.user_hub, Hub.name.in_(groups))
    own = select(Hub.id, user, Hub.name).where(Hub.user_hub, Hub.name.in_(usernames))
    followers: dict[tuple[str, str], set[int]] = {}
    for hub_id, kind, name in connection.execute(union_all(people, group, own)):
        followers.setdefault((kind, name), set()).add(hub_id)
    return followers


@functools.cache
def _increment(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO UPDATE adding to the day's count, in either dialect."""
    insert = dialect_insert(HubCount, dialect)
    return insert.on_conflict_do_update(
        index_elements=[HubCount.hub_id, HubCount.day, HubCount.category],
        set_={"messages": HubCount.messages + insert.excluded.messages})


def recount(connection: Connection, hub_ids: Iterable[int]) -> None:
    """Make the counts of *hub_ids* again from the store: one grouped query per chunk of
    hubs. A hub that is gone loses its counts."""
    ids = sorted(set(hub_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        connection.execute(delete(HubCount).where(HubCount.hub_id.in_(chunk)))
        connection.execute(_refill(), {"hub_ids": chunk})


def recount_all(connection: Connection) -> int:
    """Make every hub's counts again from the store (a database filled before they were
    kept, or by bulk inserts); how many hubs."""
    connection.execute(delete(HubCount))
    ids = list(connection.scalars(select(Hub.id).order_by(Hub.id)))
    for start in range(0, len(ids), CHUNK):
        connection.execute(_refill(), {"hub_ids": ids[start:start + CHUNK]})
    return len(ids)


def forget(connection: Connection, before: datetime) -> None:
    """Follow a pruning of the messages sent before *before*: days wholly before it go, and
    the day it falls in, pruned in part, is counted again from what is left of it."""
    day = before.astimezone(UTC).date()
    connection.execute(delete(HubCount).where(HubCount.day < day))
    if before == datetime.combine(day, time(), UTC):
        return
    connection.execute(delete(HubCount).where(HubCount.day == day))
    ids = list(connection.scalars(select(Hub.id).order_by(Hub.id)))
    start_of_day = datetime.combine(day, time(), UTC)
    params = {"since": start_of_day, "until": start_of_day + timedelta(days=1)}
    for start in range(0, len(ids), CHUNK):
        connection.execute(_refill(within_day=True), params | {"hub_ids": ids[start:start + CHUNK]})


@functools.cache
def _refill(within_day: bool = False) -> Insert:
    """INSERT ... SELECT of the bound ``hub_ids``' counts from the store (of the day bound by
    ``since`` and ``until`` if *within_day*)."""
    return (HubCount.__table__.insert()  # type: ignore[attr-defined,no-any-return]
            .from_select(["hub_id", "day", "category", "messages"], _grouped(within_day)))


def _grouped(within_day: bool) -> Select[Any]:
    """Within a day, the tags' own times narrow what is read, through the (kind, name,
    timestamp) index: filtering on the messages' times read every tag of every hub's people
    first, 20 seconds at 10,000 users for each hourly pruning."""
    messages = hub_messages()
    if within_day:
        messages = messages.where(
            MessageTag.timestamp >= bindparam("since", type_=MessageTag.timestamp.type),
            MessageTag.timestamp < bindparam("until", type_=MessageTag.timestamp.type))
    hits = messages.subquery("hits")
    day = func.date(Message.timestamp, type_=Date)  # UTC: the store keeps naive UTC times
    query = (select(hits.c.hub_id, day, Message.category, func.count())
             .select_from(hits.join(Message, Message.id == hits.c.message_id)))
    return query.group_by(hits.c.hub_id, day, Message.category)
