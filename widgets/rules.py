"""Community rules: where a team's guidelines and meetings are, and who to ask (its owners).

The original Fedora Hubs "rules" widget, plus the minutes of the team's latest logged meeting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hubs.events import Event
from hubs.models import Role, TagKind, WidgetInstance
from hubs.store import StoredMessage, messages_of_each
from hubs.validators import link, link_or_nothing, text
from hubs.widget import (
    CONFIG_TOPICS,
    Argument,
    BulkContext,
    ConfiguredInstance,
    Hint,
    Panel,
    Widget,
    membership_changed,
)
from widgets._user import known_users

MINUTES_TOPIC = "meetbot.meeting.complete"


def rules_many(ctx: BulkContext, batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """The configured links, the owners and the latest minutes: for the whole chunk, one
    query for the owners (shared with other widgets) and one for the minutes."""
    owners = {item.id: item.hub.usernames(Role.OWNER) for item in batch}
    users = known_users(ctx, (name for names in owners.values() for name in names))
    groups = {item.hub.name for item in batch}
    minutes = messages_of_each(ctx.connection, TagKind.GROUP, groups, topics=[MINUTES_TOPIC],
                               limit=1)
    return {item.id: {
        "link": item.config["link"],
        "schedule_text": item.config["schedule_text"],
        "schedule_link": item.config["schedule_link"],
        "minutes_link": item.config["minutes_link"],
        "owners": [{"username": name, "fullname": users[name].fullname}
                   for name in owners[item.id] if name in users],
        "last_meeting": _meeting(minutes[item.hub.name][0]) if minutes[item.hub.name] else None,
    } for item in batch}


def _meeting(message: StoredMessage) -> dict[str, Any]:
    topic = message.body.get("meeting_topic")
    return {
        "topic": topic if isinstance(topic, str) and topic else message.summary,
        "link": link_or_nothing(message.link),
        "time": message.timestamp.isoformat(),
    }


def rules_invalidated(event: Event, instance: WidgetInstance) -> bool:
    """Config or owners changed, or the team finished a logged meeting."""
    if membership_changed(event, instance):
        return True
    return event.topic == MINUTES_TOPIC and instance.hub.name in event.groups


WIDGET = Widget(
    name="rules",
    template="rules.html",
    load=rules_many,
    hint=Hint(topics=CONFIG_TOPICS, groups=lambda i: [i.hub.name]),
    should_invalidate=rules_invalidated,
    arguments=(
        Argument("link", "", link, "the community's rules or wiki page"),
        Argument("schedule_text", "", text(max_length=200),
                 "when the team meets, e.g. 'Thursdays 15:00 UTC in #design'"),
        Argument("schedule_link", "", link, "the meeting calendar"),
        Argument("minutes_link", "", link, "where past meeting minutes are kept"),
        Argument("title", "Community rules", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Community rules"),
    description="The team's rules, meeting schedule, minutes and owners.",
)
