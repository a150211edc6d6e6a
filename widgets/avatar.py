"""Avatar: a person's picture, names and Fedora account, heading their hub."""

from __future__ import annotations

from typing import Any

from hubs.models import User
from hubs.validators import optional, username
from hubs.widget import CONFIG_TOPICS, Argument, DataContext, Hint, Widget, hub_reconfigured
from widgets._user import subject

ACCOUNTS = "https://accounts.fedoraproject.org/user/{}/"


def avatar_data(ctx: DataContext) -> dict[str, Any]:
    """The account's names and join date; a user Hubs has not seen still gets avatar and link."""
    name = subject(ctx.instance, ctx.config)
    user = ctx.session.get(User, name)
    return {
        "username": name,
        "fullname": user.fullname if user is not None else "",
        "joined": user.created.isoformat() if user is not None else None,
        "profile": ACCOUNTS.format(name),
    }


WIDGET = Widget(
    name="avatar",
    template="avatar.html",
    data=avatar_data,
    hint=Hint(topics=CONFIG_TOPICS),
    should_invalidate=hub_reconfigured,
    arguments=(
        Argument("username", "", optional(username),
                 "the Fedora account to show; defaults to a user hub's own user"),
    ),
    description="A person's avatar, names, join date and Fedora account link.",
)
