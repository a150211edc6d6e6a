"""Hub administration: create and archive hubs, place and configure widgets, manage members.

Each function changes the session and flushes it, leaving the commit to the caller, and
returns a ``Change``: a sentence for whoever asked, the hubs whose files it changes, and the
bus messages that make a running ``hubsgen watch`` rewrite exactly those files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubs.defaults import team_widgets, user_widgets
from hubs.errors import ConfigError
from hubs.models import Column, Hub, Membership, Role, User, WidgetInstance
from hubs.plugins import Registry
from hubs.roles import ROLES
from hubs.validators import username as valid_username
from hubs.widget import Widget

HUB_TOPIC = "hubs.hub.update"
WIDGET_TOPIC = "hubs.widget.update"
MEMBERSHIP_TOPIC = "hubs.membership.update"
COLUMNS = tuple(column.value for column in Column)


@dataclass(frozen=True)
class Notice:
    """A bus message announcing a change: *topic* without the ``org.fedoraproject.prod.``
    prefix, and a body naming the hub, as ``hubs.widget.hub_reconfigured`` reads it."""

    topic: str
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """What a command did: *what* to tell whoever asked, the *hubs* whose files it changes
    (rewritten on the spot when there is no bus) and the *notices* to publish instead."""

    what: str
    hubs: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()


def one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    """*value* if it is allowed, else an error naming *name* and what is allowed."""
    choices = tuple(allowed)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def find_hub(session: Session, name: str) -> Hub:
    hub = session.scalar(select(Hub).where(Hub.name == name))
    if hub is None:
        raise ConfigError(f"no hub named {name}; hubsgen hub list shows them")
    return hub


def find_widget(session: Session, ref: str) -> WidgetInstance:
    """The instance *ref* names: ``designteam/12`` as ``hubsgen hub show`` lists it, or ``12``."""
    hub_name, _, number = ref.rpartition("/")
    if not re.fullmatch(r"[0-9]+", number):
        raise ConfigError(f"widget {ref!r}: give HUB/ID or ID, as hubsgen hub show lists them")
    instance = session.get(WidgetInstance, int(number))
    if instance is None or hub_name not in ("", instance.hub.name):
        raise ConfigError(f"no widget {ref}; hubsgen hub show {hub_name or 'HUB'} lists them")
    return instance


def create_hub(session: Session, registry: Registry, name: str, *, user_hub: bool = False,
               summary: str = "", default_widgets: bool = True) -> Change:
    """A team hub, or a contributor's (named after their account, created if need be), with
    the widgets of ``hubs.defaults`` unless *default_widgets* is false."""
    now = datetime.now(UTC)
    hub = Hub(name=name, summary=summary, user_hub=user_hub, created=now, last_activity=now)
    if session.scalar(select(Hub.id).where(Hub.name == name)) is not None:
        raise ConfigError(f"hub {name} already exists")
    if user_hub:
        _account(session, name)
    specs = (user_widgets(name) if user_hub else team_widgets(name)) if default_widgets else []
    for plugin, config, column in specs:
        _place(hub, _new_instance(registry, plugin, config, f"on {name}"), column, None)
    session.add(hub)
    session.flush()
    kind = "user" if user_hub else "team"
    return Change(f"Created {kind} hub {name} with {len(specs)} widgets", (name,),
                  (Notice(HUB_TOPIC, {"hub": name}),))


def archive_hub(session: Session, name: str, archived: bool = True) -> Change:
    """Archive (or bring back) a hub. Its page, the directory and the subscriptions of
    everyone holding a role there show it, so their own hubs are announced too."""
    hub = find_hub(session, name)
    state = "archived" if archived else "not archived"
    if hub.archived == archived:
        return Change(f"Hub {name} is already {state}")
    hub.archived = archived
    session.flush()
    people = {m.username for m in hub.memberships}
    hubs = (name, *_own_hubs(session, people - {name}))
    return Change(f"Hub {name} is now {state}", hubs,
                  tuple(Notice(HUB_TOPIC, {"hub": h}) for h in hubs))


def describe_hub(hub: Hub) -> dict[str, Any]:
    """The hub, its people by role and its widgets in page order; JSON-able."""
    return {
        "name": hub.name, "kind": "user" if hub.user_hub else "team", "summary": hub.summary,
        "archived": hub.archived, "created": hub.created.isoformat(), "revision": hub.revision,
        "members": {role: hub.usernames(Role(role)) for role in ROLES},
        "widgets": [{"id": w.id, "plugin": w.plugin, "column": w.column,
                     "position": w.position, "config": w.config}
                    for w in sorted(hub.widgets, key=lambda w: (w.column, w.position, w.id))],
    }


def list_hubs(session: Session) -> list[dict[str, Any]]:
    """Every hub, teams first as the directory lists them, with counts; JSON-able."""
    widgets: dict[int, int] = dict(session.execute(
        select(WidgetInstance.hub_id, func.count()).group_by(WidgetInstance.hub_id)).all())
    people: dict[int, int] = dict(session.execute(
        select(Membership.hub_id, func.count(func.distinct(Membership.username)))
        .group_by(Membership.hub_id)).all())
    return [{"name": hub.name, "kind": "user" if hub.user_hub else "team",
             "archived": hub.archived, "summary": hub.summary,
             "widgets": widgets.get(hub.id, 0), "people": people.get(hub.id, 0)}
            for hub in session.scalars(select(Hub).order_by(Hub.user_hub, Hub.name))]


def add_widget(session: Session, registry: Registry, hub_name: str, plugin: str,
               config: Mapping[str, Any], *, column: str = Column.MAIN.value,
               position: int | None = None) -> Change:
    """Place a new *plugin* instance at *position* of *column* (its end when None)."""
    hub = find_hub(session, hub_name)
    one_of("column", column, COLUMNS)
    instance = _new_instance(registry, plugin, config, f"on {hub_name}")
    _place(hub, instance, column, position)
    session.flush()
    return _widget_change(f"Added widget {instance.key} ({plugin})", instance)


def configure_widget(session: Session, registry: Registry, ref: str,
                     values: Mapping[str, Any], *, unset: Iterable[str] = (),
                     replace: bool = False) -> Change:
    """Merge *values* into the configuration (or replace it), dropping *unset* keys so their
    defaults apply again; the result must pass the plugin's validators, as the build's does."""
    instance = find_widget(session, ref)
    widget = registry.get(instance.plugin, instance.key)
    config = {} if replace else dict(instance.config)
    for key in unset:
        if key not in config and key not in widget.argument_names:
            raise ConfigError(
                f"widget {instance.key} ({instance.plugin}): cannot unset {key}, not an "
                f"argument; valid arguments: {', '.join(sorted(widget.argument_names))}")
        config.pop(key, None)
    config.update(values)
    cleaned = _clean(widget, config, instance.key)
    if cleaned == instance.config:
        return Change(f"Widget {instance.key} ({instance.plugin}) is unchanged")
    instance.config = cleaned
    session.flush()
    return _widget_change(f"Configured widget {instance.key} ({instance.plugin})", instance)


def move_widget(session: Session, ref: str, *, column: str | None = None,
                position: int | None = None) -> Change:
    """Move an instance to *column* and/or *position* (the column's end when None); both
    columns are numbered again from 0."""
    instance = find_widget(session, ref)
    if column is None and position is None:
        raise ConfigError(f"widget {instance.key}: nothing to move; give a column or a position")
    old = instance.column
    _place(instance.hub, instance, one_of("column", column or old, COLUMNS), position)
    if instance.column != old:
        _renumber(_siblings(instance.hub, old, without=instance))
    session.flush()
    return _widget_change(f"Moved widget {instance.key} ({instance.plugin}) to the "
                          f"{instance.column} column, position {instance.position}", instance)


def remove_widget(session: Session, ref: str) -> Change:
    instance = find_widget(session, ref)
    hub, key = instance.hub, instance.key
    hub.widgets.remove(instance)  # delete-orphan deletes it; the hub's revision moves
    _renumber(_siblings(hub, instance.column))
    session.flush()
    return Change(f"Removed widget {key} ({instance.plugin})", (hub.name,),
                  (Notice(WIDGET_TOPIC, {"hub": hub.name, "widget": instance.id}),))


def add_member(session: Session, hub_name: str, username: str, role: str) -> Change:
    """Give *username* (created if unknown) *role* on the hub."""
    hub = find_hub(session, hub_name)
    one_of("role", role, ROLES)
    if any(m.username == username and m.role == role for m in hub.memberships):
        return Change(f"{username} already holds {role} on {hub_name}")
    _account(session, username)
    hub.memberships.append(Membership(username=username, role=role))
    session.flush()
    return _membership_change(session, hub, username, [role], "add")


def remove_member(session: Session, hub_name: str, username: str,
                  role: str | None = None) -> Change:
    """Take *role* (every role when None) on the hub away from *username*."""
    hub = find_hub(session, hub_name)
    if role is not None:
        one_of("role", role, ROLES)
    held = [m for m in hub.memberships if m.username == username and role in (None, m.role)]
    if not held:
        holds = sorted(m.role for m in hub.memberships if m.username == username)
        if not holds:
            raise ConfigError(f"{username} holds no role on {hub_name}")
        raise ConfigError(f"{username} does not hold {role} on {hub_name}; holds: "
                          f"{', '.join(holds)}")
    for membership in held:
        hub.memberships.remove(membership)  # delete-orphan deletes it; the revision moves
    session.flush()
    return _membership_change(session, hub, username, sorted(m.role for m in held), "remove")


def _membership_change(session: Session, hub: Hub, username: str, roles: list[str],
                       action: str) -> Change:
    """hub.update refreshes the hub's own widgets at once; membership.update names the
    person, for the widgets elsewhere that list their hubs (subscriptions)."""
    done = "Added" if action == "add" else "Removed"
    preposition = "to" if action == "add" else "from"
    notices = (Notice(HUB_TOPIC, {"hub": hub.name}),
               *(Notice(MEMBERSHIP_TOPIC, {"hub": hub.name, "user": username, "role": role,
                                           "action": action}) for role in roles))
    hubs = (hub.name, *_own_hubs(session, {username} - {hub.name}))
    return Change(f"{done} {username} {preposition} {hub.name} as {', '.join(roles)}", hubs,
                  notices)


def _widget_change(what: str, instance: WidgetInstance) -> Change:
    hub = instance.hub.name
    return Change(what, (hub,), (Notice(WIDGET_TOPIC, {"hub": hub, "widget": instance.id}),))


def _own_hubs(session: Session, usernames: set[str]) -> list[str]:
    """The user hubs of *usernames* that exist."""
    return list(session.scalars(select(Hub.name).where(
        Hub.user_hub.is_(True), Hub.name.in_(sorted(usernames))).order_by(Hub.name)))


def _account(session: Session, username: str) -> User:
    """The user named *username*, added (as a bus message would add them) if unknown."""
    try:
        valid_username(username)
    except ValueError as e:
        raise ConfigError(f"username {e}") from e
    user = session.get(User, username)
    if user is None:
        user = User(username=username, fullname="", created=datetime.now(UTC))
        session.add(user)
    return user


def _new_instance(registry: Registry, plugin: str, config: Mapping[str, Any],
                  where: str) -> WidgetInstance:
    widget = registry.get(plugin, where)
    return WidgetInstance(plugin=plugin, config=_clean(widget, config, ""))


def _clean(widget: Widget, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The validated values of the arguments *raw* sets, checked as the build checks them.

    Defaults are not stored, so a plugin's new default reaches instances that never chose.
    """
    valid = widget.validate_config(raw, where)
    return {key: valid[key] for key in raw}


def _place(hub: Hub, instance: WidgetInstance, column: str, position: int | None) -> None:
    """Put *instance* at *position* of *column* on *hub* and number that column 0, 1, ..."""
    siblings = _siblings(hub, column, without=instance)
    if position is None:
        position = len(siblings)
    if not 0 <= position <= len(siblings):
        raise ConfigError(f"position must be from 0 to {len(siblings)} in the {column} column "
                          f"of {hub.name}, got {position}")
    instance.column = column
    if instance not in hub.widgets:
        hub.widgets.append(instance)
    siblings.insert(position, instance)
    _renumber(siblings)


def _siblings(hub: Hub, column: str,
              without: WidgetInstance | None = None) -> list[WidgetInstance]:
    """The widgets of *column*, top to bottom, leaving out *without*."""
    return sorted((w for w in hub.widgets if w.column == column and w is not without),
                  key=lambda w: (w.position, w.id or 0))


def _renumber(widgets: list[WidgetInstance]) -> None:
    for position, instance in enumerate(widgets):
        if instance.position != position:
            instance.position = position
