"""About: what a hub is for, in its owners' Markdown or its summary, and who a person is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from hubs.markdown import render_markdown
from hubs.validators import text
from hubs.widget import (
    CONFIG_TOPICS,
    Argument,
    BulkContext,
    ConfiguredInstance,
    Hint,
    Panel,
    Widget,
    hub_reconfigured,
)
from widgets._user import known_users


def about_many(ctx: BulkContext, batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """The text (falling back to the hub's summary) and, on a user hub, the user's name and
    age: the users of the whole chunk in one query."""
    users = known_users(ctx, [item.hub.name for item in batch if item.hub.user_hub])
    return {item.id: _about(item, users.get(item.hub.name) if item.hub.user_hub else None)
            for item in batch}


def _about(item: ConfiguredInstance, user: Row[Any] | None) -> dict[str, Any]:
    source = item.config["text"] or item.hub.summary
    person = None
    if user is not None:
        person = {"username": user.username, "fullname": user.fullname,
                  "joined": user.created.isoformat()}
    return {"html": render_markdown(source) if source.strip() else "", "person": person}


WIDGET = Widget(
    name="about",
    template="about.html",
    load=about_many,
    hint=Hint(topics=CONFIG_TOPICS),
    should_invalidate=hub_reconfigured,
    arguments=(
        Argument("text", "", text(max_length=10_000),
                 "what the hub is about, in Markdown; empty shows the hub's summary"),
        Argument("title", "About", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("About"),
    description="What the hub is about, and for a person, who they are.",
)
