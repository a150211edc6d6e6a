"""Helpers for tests, here and in third-party widget packages: real databases, real renders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hubs import counts
from hubs.db import create_schema, open_engine
from hubs.events import Event
from hubs.models import Hub, Membership, Role, User, WidgetInstance
from hubs.plugins import Registry, load_widgets
from hubs.render import Fragment, Renderer
from hubs.services import Services, ServiceSettings
from hubs.store import record

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
"""A fixed moment for test data, so renders are reproducible."""


def make_engine(url: str) -> Engine:
    """Open *url* and create the schema in it."""
    engine = open_engine(url, create=True)
    create_schema(engine)
    return engine


def add_user(session: Session, username: str, fullname: str = "",
             created: datetime = T0) -> User:
    user = session.get(User, username)
    if user is None:
        user = User(username=username, fullname=fullname or username.title(), created=created)
        session.add(user)
    return user


def add_hub(session: Session, name: str, *, summary: str = "", user_hub: bool = False,
            archived: bool = False, created: datetime = T0,
            last_activity: datetime | None = None,
            members: Mapping[str, Iterable[str]] | None = None,
            widgets: Iterable[tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], str]]
            = ()) -> Hub:
    """A hub with its members (``{"owner": ["ralph"]}``) and widgets (plugin, config[, column]).

    Users named in *members* are created as needed; a user hub's own user too.
    """
    hub = Hub(name=name, summary=summary, user_hub=user_hub, archived=archived,
              created=created, last_activity=last_activity or created)
    session.add(hub)
    if user_hub:
        add_user(session, name)
    for role, usernames in (members or {}).items():
        for username in usernames:
            add_user(session, username)
            hub.memberships.append(Membership(username=username, role=Role(role).value))
    for position, spec in enumerate(widgets):
        plugin, config, *rest = spec
        hub.widgets.append(WidgetInstance(plugin=plugin, config=dict(config),
                                          column=rest[0] if rest else "main",
                                          position=position))
    session.flush()
    return hub


def add_events(session: Session, events: Iterable[Event]) -> None:
    counts.add(session, record(session, list(events)))
    session.flush()


def make_renderer(now: datetime = T0, registry: Registry | None = None,
                  services: Services | None = None) -> Renderer:
    """A renderer over the installed plugins, with web services off unless given."""
    static = {"hubs.css": "static/hubs.css", "hubs-logo.svg": "static/hubs-logo.svg",
              "live.js": "static/live.js"}
    return Renderer(registry or load_widgets(), services or Services(ServiceSettings()), now,
                    static)


def render_widget(session: Session, hub: Hub, plugin: str, now: datetime = T0,
                  services: Services | None = None) -> Fragment:
    """Render the first instance of *plugin* on *hub*; raises WidgetError if it fails."""
    instance = next(w for w in hub.widgets if w.plugin == plugin)
    return make_renderer(now, services=services).render_instance(session, instance)


def fedmsg_envelope(event: Event, env: str = "prod") -> dict[str, Any]:
    """*event* as fedmsg put it on the wire (and datagrepper returns it)."""
    return {"topic": f"org.fedoraproject.{env}.{event.topic}", "msg": dict(event.body),
            "msg_id": event.msg_id, "timestamp": event.timestamp.timestamp(), "i": 1,
            "username": "apache", "crypto": "x509"}
