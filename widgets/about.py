"""About: what a hub is for, in its owners' Markdown or its summary, and who a person is."""

from __future__ import annotations

from typing import Any

from hubs.markdown import render_markdown
from hubs.models import User
from hubs.validators import text
from hubs.widget import CONFIG_TOPICS, Argument, DataContext, Hint, Panel, Widget, hub_reconfigured


def about_data(ctx: DataContext) -> dict[str, Any]:
    """The text (falling back to the hub's summary) and, on a user hub, the user's name and age."""
    source = ctx.config["text"] or ctx.hub.summary
    person = None
    if ctx.hub.user_hub:
        user = ctx.session.get(User, ctx.hub.name)
        if user is not None:
            person = {"username": user.username, "fullname": user.fullname,
                      "joined": user.created.isoformat()}
    return {"html": render_markdown(source) if source.strip() else "", "person": person}


WIDGET = Widget(
    name="about",
    template="about.html",
    data=about_data,
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
