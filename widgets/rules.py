"""Community rules: where a team's guidelines and meetings are, and who to ask (its owners).

The original Fedora Hubs "rules" widget, plus the minutes of the team's latest logged meeting.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hubs.events import Event
from hubs.models import Role, User, WidgetInstance
from hubs.store import StoredMessage, find_messages
from hubs.validators import link, link_or_nothing, text
from hubs.widget import (
    CONFIG_TOPICS,
    Argument,
    DataContext,
    Hint,
    Panel,
    Widget,
    membership_changed,
)

MINUTES_TOPIC = "meetbot.meeting.complete"


def rules_data(ctx: DataContext) -> dict[str, Any]:
    """The configured links, the owners (one query) and the latest minutes (one query)."""
    owners = ctx.hub.usernames(Role.OWNER)
    users = ctx.session.scalars(
        select(User).where(User.username.in_(owners)).order_by(User.username))
    minutes = find_messages(ctx.session, groups=[ctx.hub.name], topics=[MINUTES_TOPIC], limit=1)
    return {
        "link": ctx.config["link"],
        "schedule_text": ctx.config["schedule_text"],
        "schedule_link": ctx.config["schedule_link"],
        "minutes_link": ctx.config["minutes_link"],
        "owners": [{"username": u.username, "fullname": u.fullname} for u in users],
        "last_meeting": _meeting(minutes[0]) if minutes else None,
    }


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
    data=rules_data,
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
