"""Whose bus activity a hub shows, and which messages change it: shared by the widgets that
read the message store (feed, activity, message_stats)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hubs.events import Event
from hubs.models import Hub, Membership, Role, WidgetInstance
from hubs.store import hub_people
from hubs.widget import CONFIG_TOPICS, MEMBERSHIP_TOPICS, Hint, membership_changed


def hub_groups(hub: Hub) -> list[str]:
    """The group tag a hub's messages carry: a team hub is named after its group; a user hub
    has none (a group may share its name)."""
    return [] if hub.user_hub else [hub.name]


def concerned_hubs(session: Session, usernames: Collection[str],
                   groups: Collection[str]) -> list[int]:
    """Ids of the hubs whose history messages about these people and groups join, in one
    query: the user hubs of the people, the team hubs of the groups and of their members."""
    members = select(Membership.hub_id).where(Membership.username.in_(sorted(usernames)),
                                              Membership.role.in_([Role.OWNER, Role.MEMBER]))
    query = select(Hub.id).where(or_(
        and_(Hub.user_hub, Hub.name.in_(sorted(usernames))),
        and_(~Hub.user_hub, or_(Hub.name.in_(sorted(groups)), Hub.id.in_(members)))))
    return list(session.scalars(query.order_by(Hub.id)))


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
