"""The newest bus messages about a hub's people and group, like the Fedora Hubs feed."""

from __future__ import annotations

from typing import Any

from hubs.activity import ACTIVITY_HINT, activity_changed, hub_groups
from hubs.store import find_messages, hub_people, message_view
from hubs.validators import integer, link_or_nothing, text
from hubs.widget import Argument, DataContext, Panel, Widget


def feed_data(ctx: DataContext) -> dict[str, Any]:
    messages = find_messages(ctx.session, usernames=hub_people(ctx.hub),
                             groups=hub_groups(ctx.hub), until=ctx.now,
                             limit=ctx.config["limit"], with_tags=True)
    items = []
    for message in messages:
        view = message_view(message)
        items.append(view | {"link": link_or_nothing(view["link"]),
                             "icon": link_or_nothing(view["icon"])})
    return {"messages": items}


WIDGET = Widget(
    name="feed",
    template="feed.html",
    data=feed_data,
    hint=ACTIVITY_HINT,
    should_invalidate=activity_changed,
    arguments=(
        Argument("limit", 20, integer(1, 100), "how many messages to show, 1 to 100"),
        Argument("title", "Recent activity", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Recent activity"),
    description="The newest messages from Fedora's services about the hub's people.",
)
