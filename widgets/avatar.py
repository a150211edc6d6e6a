"""Avatar: a person's picture, names and Fedora account, heading their hub."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from hubs.validators import optional, username
from hubs.widget import (
    CONFIG_TOPICS,
    Argument,
    BulkContext,
    ConfiguredInstance,
    Hint,
    Widget,
    hub_reconfigured,
)
from widgets._user import known_users, subject

ACCOUNTS = "https://accounts.fedoraproject.org/user/{}/"


def avatar_many(ctx: BulkContext,
                batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """The account's names and join date; a user Hubs has not seen still gets avatar and link.
    The users of the whole chunk in one query, shared with the about widget."""
    names = {item.id: subject(item.instance, item.config) for item in batch}
    users = known_users(ctx, names.values())
    return {item.id: _avatar(names[item.id], users.get(names[item.id])) for item in batch}


def _avatar(name: str, user: Row[Any] | None) -> dict[str, Any]:
    return {
        "username": name,
        "fullname": user.fullname if user is not None else "",
        "joined": user.created.isoformat() if user is not None else None,
        "profile": ACCOUNTS.format(name),
    }


WIDGET = Widget(
    name="avatar",
    template="avatar.html",
    load=avatar_many,
    hint=Hint(topics=CONFIG_TOPICS),
    should_invalidate=hub_reconfigured,
    arguments=(
        Argument("username", "", optional(username),
                 "the Fedora account to show; defaults to a user hub's own user"),
    ),
    description="A person's avatar, names, join date and Fedora account link.",
)
