"""fedora-messaging schema classes of the ``hubs.*`` topics that hubsgen's admin commands publish.

Registered in setup.cfg's ``fedora.messages`` entry point group, so whoever receives an
announcement with hubsgen installed validates its body and reads whom it concerns, as it does a
message of any Fedora service. The bodies are those of ``hubs.admin``'s notices.
"""

from __future__ import annotations

from fedora_messaging.message import Message

from hubs.admin import HUB_TOPIC, MEMBERSHIP_TOPIC, WIDGET_TOPIC
from hubs.roles import ROLES

SCHEMA = "http://json-schema.org/draft-07/schema#"
_HUB = {"type": "string", "minLength": 1, "description": "The hub's name"}


class HubsMessage(Message):
    """What every announcement has: the hub it changed."""

    @property
    def app_name(self) -> str:
        return "hubs"

    @property
    def hub(self) -> str:
        return str(self.body["hub"])

    @property
    def usernames(self) -> list[str]:
        return []

    @property
    def groups(self) -> list[str]:
        return []  # a hub is not a FAS group, even when they share a name

    def __str__(self) -> str:
        return self.summary


class HubUpdateV1(HubsMessage):
    """A hub's settings, people or archived state changed: its page re-renders."""

    topic = HUB_TOPIC
    body_schema = {
        "$schema": SCHEMA, "id": "https://fedoraproject.org/message-schema/hubs#hub.update",
        "description": "A hub was created, archived or reconfigured",
        "type": "object", "required": ["hub"], "properties": {"hub": _HUB},
    }

    @property
    def summary(self) -> str:
        return f"Hub {self.hub} was updated"

class WidgetUpdateV1(HubsMessage):
    """One widget instance on a hub was added, configured, moved or removed."""

    topic = WIDGET_TOPIC
    body_schema = {
        "$schema": SCHEMA, "id": "https://fedoraproject.org/message-schema/hubs#widget.update",
        "description": "A widget instance on a hub changed",
        "type": "object", "required": ["hub", "widget"],
        "properties": {"hub": _HUB, "widget": {"type": "integer", "minimum": 1}},
    }

    @property
    def summary(self) -> str:
        return f"Widget {self.hub}/{self.body['widget']} was updated"

class MembershipUpdateV1(HubsMessage):
    """Someone was given a role on a hub, or lost one."""

    topic = MEMBERSHIP_TOPIC
    body_schema = {
        "$schema": SCHEMA,
        "id": "https://fedoraproject.org/message-schema/hubs#membership.update",
        "description": "A user was added to or removed from a hub in a role",
        "type": "object", "required": ["hub", "user", "role", "action"],
        "properties": {
            "hub": _HUB, "user": {"type": "string", "minLength": 1},
            "role": {"enum": list(ROLES)}, "action": {"enum": ["add", "remove"]},
        },
    }

    @property
    def usernames(self) -> list[str]:
        return [str(self.body["user"])]

    @property
    def summary(self) -> str:
        done = "added to" if self.body["action"] == "add" else "removed from"
        return f"{self.body['user']} was {done} hub {self.hub} as {self.body['role']}"


CLASSES: dict[str, type[HubsMessage]] = {
    cls.topic: cls for cls in (HubUpdateV1, WidgetUpdateV1, MembershipUpdateV1)}
"""Schema class by topic, for publishing."""
