"""Keep hub memberships in step with Fedora's groups, from Noggin's bus messages."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs import bodies
from hubs.events import Event
from hubs.models import Hub, Membership, Role, User
from hubs.validators import username as valid_username
from hubs.widget import GROUP_JOINED, GROUP_LEFT

log = logging.getLogger(__name__)

GROUP_CHANGES = GROUP_JOINED | GROUP_LEFT
"""The topics this module applies."""


def read_membership(body: Mapping[str, Any]) -> tuple[str, str]:
    """(username, group). Noggin sends {"msg": {"user", "group", "agent"}}; FAS put them at
    the top, as names or as {"username"} and {"name"} objects. A username is checked as the
    admin commands check it, since it becomes a member of a hub."""
    inner = bodies.field(body, "msg", Mapping, body)
    user: str | Mapping[str, Any] = bodies.field(inner, "user", (str, Mapping))
    group: str | Mapping[str, Any] = bodies.field(inner, "group", (str, Mapping))
    username = user if isinstance(user, str) else bodies.text(user, "username")
    name = group if isinstance(group, str) else bodies.text(group, "name")
    try:
        valid_username(username)
    except ValueError as e:
        raise bodies.BodyError(f"the user {e}") from e
    return username, name


def naming_the_member(event: Event) -> Event:
    """*event* concerning the person a membership message adds or removes, and the group,
    whatever its reader made of it: the fedmsg-era processors read Noggin's add and remove
    messages for the group alone, so the person's own hub (the hubs they belong to, their
    feed) did not hear of it and drifted from a build. Raises BodyError for a body that does
    not read: the door quarantines the message rather than store what it cannot apply."""
    if event.topic not in GROUP_CHANGES:
        return event
    username, group = read_membership(event.body)
    return dataclasses.replace(event, usernames=event.usernames | {username},
                               groups=event.groups | {group})


def apply_membership(session: Session, event: Event) -> Hub | None:
    """Add or remove the member a group message names; return the hub it changed, if any."""
    if event.topic not in GROUP_CHANGES:
        return None
    username, group = read_membership(event.body)
    hub = session.scalar(select(Hub).where(Hub.name == group, Hub.user_hub.is_(False)))
    if hub is None:
        return None
    if event.topic in GROUP_LEFT:
        leaving = [m for m in hub.memberships if m.username == username
                   and m.role in (Role.OWNER.value, Role.MEMBER.value)]
        for membership in leaving:
            # Out of the collection too (delete-orphan deletes the row), so a second removal
            # in the same session finds nothing to delete; through the ORM, so the hub's
            # revision moves.
            hub.memberships.remove(membership)
        if leaving:
            log.info("Removed %s from %s (msg %s)", username, hub.name, event.msg_id)
        return hub if leaving else None
    held = {m.role for m in hub.memberships if m.username == username}
    if held & {Role.OWNER.value, Role.MEMBER.value}:
        return None
    if session.get(User, username) is None:
        session.add(User(username=username, fullname="", created=event.timestamp))
    hub.memberships.append(Membership(username=username, role=Role.MEMBER.value))
    log.info("Added %s to %s (msg %s)", username, hub.name, event.msg_id)
    return hub
