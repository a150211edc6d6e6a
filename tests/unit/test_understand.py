"""understand(): each reader, the fallback, prefixes, and accuracy on real recorded messages."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from functools import partial

import pytest

from hubs.events import RawMessage
from hubs.understand import fallback, legacy, schemas, understand
from hubs.understand.topics import strip_prefix
from tests.messages.accuracy import CORPUS, corpus_directory, score, total

T = datetime(2024, 5, 1, tzinfo=UTC)


def raw(topic: str, body: dict, **headers: object) -> RawMessage:
    return RawMessage(msg_id="m-1", topic=topic, timestamp=T, body=body, headers=headers)


def corpus_message(service: str, origin_suffix: str) -> RawMessage:
    for line in (CORPUS / f"{service}.jsonl").read_text().splitlines():
        doc = json.loads(line)
        if doc["origin"].endswith(origin_suffix):
            env = doc["envelope"]
            return raw(env["topic"], env["msg"])
    raise LookupError(origin_suffix)


@pytest.mark.parametrize(("topic", "bare"), [
    ("org.fedoraproject.prod.bodhi.update.comment", "bodhi.update.comment"),
    ("org.fedoraproject.stg.buildsys.tag", "buildsys.tag"),
    ("org.centos.stage.ci.pipeline.complete", "ci.pipeline.complete"),
    ("io.pagure.prod.pagure.issue.new", "pagure.issue.new"),
    ("org.release-monitoring.prod.anitya.project.add", "anitya.project.add"),
    ("bodhi.update.comment", "bodhi.update.comment"),
])
def test_topic_loses_its_environment_prefix(topic, bare):
    assert strip_prefix(topic) == bare
    assert understand(raw(topic, {})).topic == bare


def test_fedmsg_era_message_is_read_by_fedmsg_meta():
    message = corpus_message("bodhi", ":LegacyTestBodhiUpdateComplete")
    reading = legacy.read(message)
    assert reading is not None and reading.usernames == {"ralph"}
    event = understand(message)
    assert (event.usernames, event.packages) == ({"ralph"}, {"fedmsg"})
    assert event.link.startswith("https://bodhi.fedoraproject.org/updates/")
    assert "\n" not in event.summary and event.summary


def test_fedora_messaging_message_is_read_by_its_schema_class():
    body = {"msg": {"agent": "duffy", "user": "newbie", "group": "designteam"}}
    message = raw("org.fedoraproject.prod.fas.group.member.sponsor", body,
                  fedora_messaging_schema="noggin.group.member.sponsor.v1")
    reading = schemas.read(message)
    assert reading is not None and reading.source == "schema MemberSponsorV1"
    event = understand(message)
    assert (event.usernames, event.groups) == ({"duffy", "newbie"}, {"designteam"})
    assert event.summary.startswith("Sponsor duffy added newbie")


def test_schema_class_is_found_by_topic_without_the_header():
    body = {"msg": {"agent": "duffy", "user": "newbie", "group": "designteam"}}
    assert schemas.read(raw("org.fedoraproject.prod.fas.group.member.sponsor", body))
    assert "fas.group.member.sponsor" in schemas.topic_index()


def test_without_schema_packages_the_log_says_what_to_install(monkeypatch, caplog):
    """Assert a watcher without the schemas extra says once how to get richer readings."""
    from importlib.metadata import entry_points

    own = [ep for ep in entry_points(group="fedora.messages")
           if ep.dist is not None and ep.dist.name.replace("_", "-") == "fedora-messaging"]
    monkeypatch.setattr(schemas, "entry_points", lambda group: own)
    schemas.topic_index.cache_clear()
    try:
        schemas.topic_index()
        schemas.topic_index()
    finally:
        schemas.topic_index.cache_clear()
    lines = [r.getMessage() for r in caplog.records if r.name == schemas.log.name]
    assert len(lines) == 1 and "pip install 'hubsgen[schemas]'" in lines[0]
    monkeypatch.undo()
    caplog.clear()
    schemas.topic_index()  # the real packages: nothing to say
    assert not caplog.records


def test_body_a_schema_rejects_falls_through_to_the_next_reader():
    message = raw("org.fedoraproject.prod.fas.group.member.sponsor", {"msg": {"agent": 3}},
                  fedora_messaging_schema="noggin.group.member.sponsor.v1")
    assert schemas.read(message) is None
    understand(message)  # no exception: some reader or the fallback answers


def test_unknown_topic_falls_back_to_well_known_keys():
    body = {"agent": "duffy", "package": {"name": "inkscape"}, "group": "designteam",
            "owner": "someone@example.com", "url": "https://example.org/x"}
    message = raw("org.fedoraproject.prod.newservice.thing.done", body)
    assert legacy.read(message) is None and schemas.read(message) is None
    event = understand(message)
    assert (event.usernames, event.packages, event.groups) == (
        {"duffy"}, {"inkscape"}, {"designteam"})
    assert event.summary == "duffy newservice.thing.done"
    assert event.link == "https://example.org/x"


def test_fallback_reads_one_level_down_and_lists():
    reading = fallback.read(raw("x.y", {"update": {"user": {"name": "bob"},
                                                   "packages": ["a", {"name": "b"}]}}))
    assert (reading.usernames, reading.packages) == ({"bob"}, {"a", "b"})


def test_links_and_icons_must_be_web_addresses():
    event = understand(raw("org.fedoraproject.prod.newservice.x", {"url": "javascript:alert(1)"}))
    assert event.link == "" and event.icon == ""


def test_a_body_the_processor_did_not_expect_does_not_raise():
    event = understand(raw("org.fedoraproject.prod.bodhi.update.comment", {"comment": None}))
    assert event.topic == "bodhi.update.comment"


TODAYS_MINUTES = {
    "start_time": "2026-12-07T10:00:00+00:00", "start_user": "ralph",
    "end_time": "2026-12-07T11:00:00+00:00", "end_user": "ralph",
    "meeting_name": "design weekly", "location": "#fedora-design",
    "url": "https://meetbot.fedoraproject.org/fedora-design/2026-12-07/",
    "attendees": [{"name": "ralph", "lines_said": 10}, {"name": "mattdm", "lines_said": 3}],
    "chairs": ["ralph"], "logs": []}


@pytest.mark.parametrize("headers", [{"fedora_messaging_schema": "meetbot.meeting.complete"},
                                     {}], ids=["with its schema header", "without"])
def test_todays_minutes_name_their_attendees_whatever_the_fedmsg_era_processor_makes_of_them(
        headers):
    """The fedmsg-era processor takes today's attendee objects for IRC nicks and asks the
    directory about them: that must not refuse the message, with a directory or without."""
    message = raw("org.fedoraproject.prod.meetbot.meeting.complete", TODAYS_MINUTES, **headers)
    for read in (understand, partial(understand, directory=corpus_directory())):
        event = read(message)
        assert event.usernames == {"ralph", "mattdm"}
        assert event.summary == "Meeting 'design weekly' in #fedora-design finished"


def test_corpus_accuracy_stays_at_least_98_percent_and_offline(monkeypatch):
    """Exact usernames and packages on every real message, with the directory the corpus's
    upstream tests assumed (as Fedora had FAS); the worst services are printed."""
    def no_network(*args: object) -> None:
        raise AssertionError(f"understand() tried to open a connection to {args[1:]}")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    scores = score(partial(understand, directory=corpus_directory()))
    worst = sorted(scores.items(), key=lambda item: item[1].percent(item[1].both))[:5]
    print("worst:", ", ".join(f"{name} {s.percent(s.both):.0f}% of {s.messages}"
                             for name, s in worst))
    everything = total(scores)
    assert everything.messages >= 400
    assert everything.percent(everything.both) >= 98.0, [
        m for s in scores.values() for m in s.misses]
