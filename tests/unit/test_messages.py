"""The hubs.* schema classes, found through the fedora.messages entry points as receivers do."""

from __future__ import annotations

import pytest
from fedora_messaging.message import Message, get_class, get_name
from jsonschema import ValidationError

from hubs.admin import HUB_TOPIC, MEMBERSHIP_TOPIC, WIDGET_TOPIC, Notice
from hubs.messages import CLASSES
from hubs.understand import understand
from tests.unit.test_understand import raw

NOTICES = (
    Notice(HUB_TOPIC, {"hub": "designteam"}),
    Notice(WIDGET_TOPIC, {"hub": "designteam", "widget": 12}),
    Notice(MEMBERSHIP_TOPIC, {"hub": "designteam", "user": "ralph", "role": "member",
                              "action": "add"}),
)


@pytest.mark.parametrize("notice", NOTICES, ids=lambda n: n.topic)
def test_each_announcement_validates_with_the_class_its_entry_point_names(notice):
    """Assert the class loads by its entry point name and accepts what admin commands publish."""
    cls = get_class(f"{notice.topic}.v1")
    assert cls is CLASSES[notice.topic] and cls is not Message
    assert get_name(cls) == f"{notice.topic}.v1"
    message = cls(topic=notice.topic, body=dict(notice.body))
    message.validate()
    assert message.app_name == "hubs" and "designteam" in message.summary


@pytest.mark.parametrize("notice, body", [
    (NOTICES[0], {"name": "designteam"}),
    (NOTICES[1], {"hub": "designteam", "widget": "twelve"}),
    (NOTICES[2], {"hub": "designteam", "user": "ralph", "role": "boss", "action": "add"}),
], ids=["no hub", "widget not a number", "unknown role"])
def test_a_malformed_announcement_is_rejected(notice, body):
    with pytest.raises(ValidationError):
        CLASSES[notice.topic](topic=notice.topic, body=body).validate()


def test_the_watcher_reads_a_membership_announcement_through_its_class():
    """Assert the same people and no groups as before the class existed, with a summary."""
    message = raw(f"org.fedoraproject.prod.{MEMBERSHIP_TOPIC}", dict(NOTICES[2].body),
                  fedora_messaging_schema=f"{MEMBERSHIP_TOPIC}.v1")
    event = understand(message)
    assert (event.usernames, event.groups) == ({"ralph"}, frozenset())
    assert event.summary == "ralph was added to hub designteam as member"
