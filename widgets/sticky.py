"""A sticky note: hub owners pin a few lines of Markdown for visitors to read first."""

from __future__ import annotations

from typing import Any

from hubs.markdown import render_markdown
from hubs.validators import text
from hubs.widget import (
    CONFIG_TOPICS,
    REQUIRED,
    Argument,
    DataContext,
    Hint,
    Panel,
    Widget,
    hub_reconfigured,
)


def sticky_data(ctx: DataContext) -> dict[str, Any]:
    return {"html": render_markdown(ctx.config["text"])}


WIDGET = Widget(
    name="sticky",
    template="sticky.html",
    data=sticky_data,
    hint=Hint(topics=CONFIG_TOPICS),
    should_invalidate=hub_reconfigured,
    arguments=(
        Argument("text", REQUIRED, text(max_length=10_000), "the note, in Markdown"),
        Argument("title", "Note", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Note"),
    description="A pinned note in Markdown.",
)
