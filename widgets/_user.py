"""Whom a per-person widget is about: its ``username`` argument, else a user hub's own user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, select

from hubs.errors import ConfigError
from hubs.models import User, WidgetInstance
from hubs.widget import BulkContext


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
