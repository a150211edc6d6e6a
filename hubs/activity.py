"""Whose bus activity a hub shows, and which messages change it: shared by the widgets that
read the message store (feed, activity, message_stats)."""

from __future__ import annotations

from hubs.events import Event
from hubs.models import Hub, WidgetInstance
from hubs.store import hub_people
from hubs.widget import CONFIG_TOPICS, MEMBERSHIP_TOPICS, Hint, membership_changed


def hub_groups(hub: Hub) -> list[str]:
    """The group tag a hub's messages carry: a team hub is named after its group; a user hub
    has none (a group may share its name)."""
    return [] if hub.user_hub else [hub.name]


def concerns_hub(event: Event, instance: WidgetInstance) -> bool:
    """Whether *event* is about one of the hub's people or its group, so it joins the history."""
    hub = instance.hub
    if not event.groups.isdisjoint(hub_groups(hub)):
        return True
    return not event.usernames.isdisjoint(hub_people(hub))


def activity_changed(event: Event, instance: WidgetInstance) -> bool:
    """The check of these widgets: new history, new people to follow, or new arguments."""
    return concerns_hub(event, instance) or membership_changed(event, instance)


def _people(instance: WidgetInstance) -> list[str]:
    return hub_people(instance.hub)


def _groups(instance: WidgetInstance) -> list[str]:
    return hub_groups(instance.hub)


ACTIVITY_HINT = Hint(topics=CONFIG_TOPICS | MEMBERSHIP_TOPICS, usernames=_people,
                     groups=_groups)
"""Any topic may concern the hub's people or group, so they are matched by name; the
config and membership topics cover reconfiguration and people joining or leaving."""
