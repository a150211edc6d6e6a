"""The newest bus messages about a hub's people and group, like the Fedora Hubs feed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hubs.activity import ACTIVITY_HINT, activity_changed
from hubs.store import StoredMessage, message_view, newest_of_chunk
from hubs.validators import integer, link_or_nothing, text
from hubs.widget import Argument, BulkContext, ConfiguredInstance, Panel, Widget


def feed_many(ctx: BulkContext, batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """The newest messages of each hub's people and group, up to the data clock: one windowed
    query, tags and all, for the whole chunk, shared with the hubs' Atom feeds."""
    limit = max(item.config["limit"] for item in batch)
    newest = newest_of_chunk(ctx, {item.hub.id for item in batch}, limit)
    icons: dict[str, str] = {}  # a service's icon is on every message it sends
    return {item.id: {"messages": [_item(m, icons)
                                   for m in newest[item.hub.id][:item.config["limit"]]]}
            for item in batch}


def _item(message: StoredMessage, icons: dict[str, str]) -> dict[str, Any]:
    """*message*'s view with its links checked; *icons* holds the icons checked so far."""
    view = message_view(message)
    icon = icons.get(view["icon"])
    if icon is None:
        icon = icons[view["icon"]] = link_or_nothing(view["icon"])
    return view | {"link": link_or_nothing(view["link"]), "icon": icon}


WIDGET = Widget(
    name="feed",
    template="feed.html",
    load=feed_many,
    hint=ACTIVITY_HINT,
    should_invalidate=activity_changed,
    arguments=(
        Argument("limit", 20, integer(1, 100), "how many messages to show, 1 to 100"),
        Argument("title", "Recent activity", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Recent activity"),
    description="The newest messages from Fedora's services about the hub's people.",
)
