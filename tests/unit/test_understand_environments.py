"""understand() is blind to the environment a topic names: a staging deployment reads stg and dev
messages as a production one reads prod, on every message of the recorded corpus."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from hubs.events import Event, RawMessage
from hubs.understand import legacy, schemas, understand
from hubs.understand.topics import ENVIRONMENTS, PREFIX, environment_of
from tests.messages.accuracy import cases, corpus_directory

DIRECTORY = corpus_directory()
CASES = [case for case in cases() if PREFIX.match(case.raw.topic)]
WORDS = [word for words in ENVIRONMENTS.values() for word in words]


def in_environment(raw: RawMessage, word: str) -> RawMessage:
    """*raw* as its service would have sent it in the environment prefixes call *word*."""
    start, end = PREFIX.match(raw.topic).span(1)  # type: ignore[union-attr]
    return dataclasses.replace(raw, topic=raw.topic[:start] + word + raw.topic[end:])


def what_widgets_see(event: Event) -> tuple[object, ...]:
    return (event.topic, event.usernames, event.groups, event.packages, dict(event.body))


def test_the_corpus_has_messages_of_every_environment():
    """Without stg and dev messages recorded from the bus, the rewriting below would be all."""
    assert len(CASES) >= 440
    assert {environment_of(case.raw.topic) for case in CASES} == set(ENVIRONMENTS)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.origin.rpartition("/")[2])
def test_a_message_means_the_same_in_every_environment(case):
    """Assert the Event of a corpus message is the same whichever environment word its topic
    carries: same bare topic, usernames, groups, packages and body."""
    prod = what_widgets_see(understand(in_environment(case.raw, "prod"), DIRECTORY))
    for word in WORDS:
        message = in_environment(case.raw, word)
        assert what_widgets_see(understand(message, DIRECTORY)) == prod, message.topic


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.origin.rpartition("/")[2])
def test_fedmsg_era_processors_read_a_topic_however_it_spells_its_environment(case):
    """Assert Fedora's fedmsg.meta processors, not the fallback, read a message in every
    environment and spelling whenever they read it on prod, and say the same of it; only its
    link may differ (a stg message links to the stg service)."""
    prod = legacy.read(in_environment(case.raw, "prod"), DIRECTORY)
    for word in WORDS:
        reading = legacy.read(in_environment(case.raw, word), DIRECTORY)
        if prod is None:
            assert reading is None, word
        else:
            assert reading is not None, word
            assert (reading.usernames, reading.packages, reading.summary, reading.icon) == \
                (prod.usernames, prod.packages, prod.summary, prod.icon), word


@pytest.mark.parametrize("word", ["stg", "dev"])
def test_a_fedora_messaging_message_is_read_by_its_schema_class_in_any_environment(word):
    """Assert Noggin's sponsor message on stg or dev is read by its schema class as on prod."""
    body = {"msg": {"agent": "duffy", "user": "newbie", "group": "designteam"}}
    prod = RawMessage(msg_id="m-1", topic="org.fedoraproject.prod.fas.group.member.sponsor",
                      timestamp=datetime(2024, 5, 1, tzinfo=UTC), body=body)
    for headers in ({"fedora_messaging_schema": "noggin.group.member.sponsor.v1"}, {}):
        message = in_environment(dataclasses.replace(prod, headers=headers), word)
        reading = schemas.read(message)
        assert reading is not None and reading.source == "schema MemberSponsorV1"
        assert understand(message) == understand(dataclasses.replace(prod, headers=headers))


@pytest.mark.parametrize("word", ["stg", "dev"])
def test_hubs_own_announcements_are_read_by_their_class_in_any_environment(word):
    """Assert a stg deployment's hubs.membership.update is read as production's is."""
    body = {"hub": "designteam", "user": "ralph", "role": "member", "action": "add"}
    prod = RawMessage(msg_id="m-1", topic="org.fedoraproject.prod.hubs.membership.update",
                      timestamp=datetime(2024, 5, 1, tzinfo=UTC), body=body,
                      headers={"fedora_messaging_schema": "hubs.membership.update.v1"})
    event = understand(in_environment(prod, word))
    assert event == understand(prod)
    assert event.summary == "ralph was added to hub designteam as member"


def test_a_stg_message_keeps_its_stg_link():
    """Assert the environment is not thrown away: askbot's processor links a stg question to
    the stg site."""
    case = next(c for c in CASES if c.origin.endswith(":LegacyTestAskbotNewQuestionStg"))
    assert understand(in_environment(case.raw, "prod")).link == \
        "https://ask.fedoraproject.org/question/3/"
    assert understand(in_environment(case.raw, "stg")).link == \
        "https://ask.stg.fedoraproject.org/question/3/"
