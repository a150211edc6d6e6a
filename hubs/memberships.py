"""Keep hub memberships in step with Fedora's groups, from Noggin's bus messages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.events import Event
from hubs.models import Hub, Membership, Role, User

log = logging.getLogger(__name__)

JOINED = frozenset({"fas.group.member.sponsor", "fas.group.member.add"})
LEFT = frozenset({"fas.group.member.remove"})


def _member_and_group(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """Noggin sends {"msg": {"user", "group", "agent"}}; older FAS put them at the top."""
    inner = body.get("msg", body)
    user, group = inner.get("user"), inner.get("group")
    if isinstance(user, Mapping):
        user = user.get("username")
    if isinstance(group, Mapping):
        group = group.get("name")
    if isinstance(user, str) and isinstance(group, str):
        return user, group
    return None


def apply_membership(session: Session, event: Event) -> Hub | None:
    """Add or remove the member a group message names; return the hub it changed, if any."""
    if event.topic not in JOINED | LEFT:
        return None
    parsed = _member_and_group(event.body)
    if parsed is None:
        return None
    username, group = parsed
    hub = session.scalar(select(Hub).where(Hub.name == group, Hub.user_hub.is_(False)))
    if hub is None:
        return None
    if event.topic in LEFT:
        leaving = [m for m in hub.memberships if m.username == username
                   and m.role in (Role.OWNER.value, Role.MEMBER.value)]
        for membership in leaving:
            session.delete(membership)  # through the ORM, so the hub's revision moves
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
