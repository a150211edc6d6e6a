"""The database schema: users, hubs, widget instances, memberships and the message store."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    validates,
)

from hubs.names import check_hub_name
from hubs.roles import Role as Role  # where the models' callers have always found it


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone, PostgreSQL converts it)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Column(enum.StrEnum):
    """Where a widget sits on its hub page: the wide main column or the narrow side one."""

    MAIN = "main"
    SIDE = "side"


class User(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    fullname: Mapped[str] = mapped_column(String(255), default="")
    created: Mapped[datetime]

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Hub(Base):
    __tablename__ = "hubs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    avatar: Mapped[str] = mapped_column(String(512), default="")
    archived: Mapped[bool] = mapped_column(default=False)
    user_hub: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime]
    last_activity: Mapped[datetime]
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    """Bumped by every ORM change to the hub, its widgets or its memberships, so a running
    watch notices edits that no bus message announced."""

    widgets: Mapped[list[WidgetInstance]] = relationship(
        back_populates="hub",
        cascade="all, delete-orphan",
        order_by="(WidgetInstance.column, WidgetInstance.position, WidgetInstance.id)",
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="hub", cascade="all, delete-orphan"
    )

    @validates("name")
    def _check_name(self, _key: str, name: str) -> str:
        return check_hub_name(name)

    def usernames(self, *roles: Role) -> list[str]:
        """Sorted usernames holding any of *roles* on this hub."""
        return sorted({m.username for m in self.memberships if m.role in roles})


class WidgetInstance(Base):
    """One widget on one hub, with its validated configuration."""

    __tablename__ = "widgets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    plugin: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    column: Mapped[str] = mapped_column(String(8), default=Column.MAIN.value)
    position: Mapped[int] = mapped_column(default=0)

    hub: Mapped[Hub] = relationship(back_populates="widgets")

    @property
    def key(self) -> str:
        """How logs and errors name this instance: ``designteam/12``."""
        return f"{self.hub.name}/{self.id}"


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("hub_id", "username", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))

    hub: Mapped[Hub] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class TagKind(enum.StrEnum):
    USER = "user"
    PACKAGE = "package"
    GROUP = "group"


class Message(Base):
    """A bus message kept for the widgets that show history (like datanommer)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(128), unique=True)
    topic: Mapped[str] = mapped_column(String(255), index=True)
    category: Mapped[str] = mapped_column(String(64), default="")
    timestamp: Mapped[datetime] = mapped_column(index=True)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(1024), default="")
    icon: Mapped[str] = mapped_column(String(1024), default="")

    tags: Mapped[list[MessageTag]] = relationship(
        back_populates="message", cascade="all, delete-orphan"
    )

    def names(self, kind: TagKind) -> list[str]:
        return sorted(t.name for t in self.tags if t.kind == kind)


class MessageTag(Base):
    """What a stored message concerns: one row per username, package or group.

    The timestamp is copied from the message so "newest messages about X" is one index scan,
    which the message id at the index's end answers without reading the table.
    """

    __tablename__ = "message_tags"
    __table_args__ = (Index("ix_message_tags_lookup", "kind", "name", "timestamp", "message_id"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    timestamp: Mapped[datetime]

    message: Mapped[Message] = relationship(back_populates="tags")


class HubCount(Base):
    """How many messages concern a hub, per UTC day and category (a message about two of a
    team's members counts once for it): kept as messages arrive, so the widgets that count
    read a table that grows with days, not with messages (hubs/counts.py)."""

    __tablename__ = "hub_counts"

    hub_id: Mapped[int] = mapped_column(
        ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    messages: Mapped[int]


class Position(Base):
    """How far a bus source got, so a restart can report (and backfill) what it missed."""

    __tablename__ = "positions"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(128))
    timestamp: Mapped[datetime]


class QuarantinedMessage(Base):
    """A bus message that could not be handled, kept as it came with the reason, until an
    operator retries it after a fix or purges it (``hubsgen rejected``)."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    """Of kind, topic and payload: a message refused again (a redelivery) stays one row."""
    msg_id: Mapped[str] = mapped_column(String(128), default="")
    topic: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str] = mapped_column(String(16))
    """Where it was refused: decode, check, understand, read, apply, store or handle."""
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    """How to read *payload* again: "envelope" (a JSON envelope) or "amqp" (a delivery's
    body, with *topic* and *headers*)."""
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(index=True)
    seen: Mapped[int] = mapped_column(default=1)


@event.listens_for(Session, "before_flush")
def _bump_revisions(session: Session, _context: object, _instances: object) -> None:
    """Every ORM change to a hub, its widgets or its memberships bumps the hub's revision."""
    hubs: set[Hub] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Hub):
            hubs.add(obj)
        elif isinstance(obj, WidgetInstance | Membership) and obj.hub is not None:
            hubs.add(obj.hub)
    for hub in hubs - set(session.deleted):
        hub.revision = (hub.revision or 0) + 1


@event.listens_for(Session, "after_flush")
def _recount_followers(session: Session, _context: object) -> None:
    """A hub created, renamed or deleted, or whose people joined or left, follows other
    messages now: its counts are made again from the store, whoever changed it (the bus, an
    admin, a test)."""
    hub_ids: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Membership):
            hub_ids.add(obj.hub_id)
        elif isinstance(obj, Hub) and (obj in session.new or obj in session.deleted
                                       or _follows_other_names(obj)):
            hub_ids.add(obj.id)
    if hub_ids:
        from hubs import counts  # counts reads the models

        counts.recount(session.connection(), hub_ids)


def _follows_other_names(hub: Hub) -> bool:
    state = inspect(hub)
    return any(state.attrs[name].history.has_changes() for name in ("name", "user_hub"))


class AliasKind(enum.StrEnum):
    NICK = "nick"
    EMAIL = "email"


def alias_value(value: str) -> str:
    """How an alias is stored and looked up: IRC nicks and e-mail addresses ignore case."""
    return value.strip().lower()


class UserAlias(Base):
    """An IRC nick or e-mail address of a user, for messages that name people by those.

    Fedora's FAS held them; fedmsg-era meetings name people by nick, Bugzilla and mailing
    lists by address.
    """

    __tablename__ = "user_aliases"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(255))

    @validates("value")
    def _normalise(self, _key: str, value: str) -> str:
        return alias_value(value)
