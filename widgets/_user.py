"""Whom a per-person widget is about (its ``username`` argument, else a user hub's own user),
and what that person has, read for a whole chunk."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Row, select

from hubs.clock import today
from hubs.errors import ConfigError
from hubs.models import TagKind, User, WidgetInstance
from hubs.store import StoredMessage, messages_of_each
from hubs.widget import BulkContext, ConfiguredInstance

Items = list[dict[str, Any]]


def known_subject(instance: WidgetInstance, config: Mapping[str, Any]) -> str | None:
    """The username, or None on a team hub without one; invalidators use this, never raising."""
    username = config.get("username")
    if username:
        return str(username)
    return instance.hub.name if instance.hub.user_hub else None


def subject(instance: WidgetInstance, config: Mapping[str, Any]) -> str:
    """The username, or a ConfigError naming the instance: a team hub has no user of its own."""
    username = known_subject(instance, config)
    if username is None:
        raise ConfigError(
            f"widget {instance.key} ({instance.plugin}): argument username is required on a "
            "team hub (the Fedora account to show)"
        )
    return username


def subject_names(instance: WidgetInstance) -> list[str]:
    """For a Hint: the one username whose messages may change this instance."""
    username = known_subject(instance, instance.config)
    return [username] if username else []


def users_named(connection: Connection, names: list[str]) -> dict[str, Row[Any]]:
    """The users Hubs knows among *names* (username, fullname, created), in one query."""
    query = select(User.username, User.fullname, User.created).where(User.username.in_(names))
    rows: list[Row[Any]] = list(connection.execute(query))
    return {row.username: row for row in rows}


def known_users(ctx: BulkContext, names: Iterable[str]) -> dict[str, Row[Any]]:
    """Users by name, each read once per chunk whichever widget asks first."""
    return ctx.lookup("user", names, users_named)


def per_person(ctx: BulkContext, batch: Sequence[ConfiguredInstance], *,
               topics: Collection[str], lookback: timedelta,
               from_service: Callable[[BulkContext, str], Items],
               from_store: Callable[[Sequence[StoredMessage], str], Items]
               ) -> dict[int, tuple[str, Items]]:
    """Each instance's person and what *from_service* (web services on: a call per person) or
    *from_store* makes of them: the store's messages of *topics* since *lookback* before the
    data clock's day, read for every person of the chunk in one query."""
    names = {item.id: subject(item.instance, item.config) for item in batch}
    if ctx.services.enabled:
        return {item.id: (names[item.id], from_service(ctx, names[item.id])) for item in batch}
    theirs = messages_of_each(ctx.connection, TagKind.USER, set(names.values()), topics=topics,
                              since=today(ctx.now) - lookback)
    return {item.id: (names[item.id], from_store(theirs[names[item.id]], names[item.id]))
            for item in batch}
