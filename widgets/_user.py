"""Whom a per-person widget is about: its ``username`` argument, else a user hub's own user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubs.errors import ConfigError
from hubs.models import WidgetInstance


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
