"""Both envelope shapes become RawMessages; anything else is refused, naming id and fault."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hubs.envelopes import MAX_BODY_BYTES, MalformedMessage, parse_envelope, parse_line

FEDMSG = {"topic": "org.fedoraproject.prod.bodhi.update.comment", "msg": {"comment": {}},
          "msg_id": "2019-abc", "timestamp": 1563000000.5, "i": 1, "username": "apache"}
FEDORA_MESSAGING = {"id": "5b6e-uuid", "topic": "org.fedoraproject.prod.bodhi.update.comment",
                    "headers": {"sent-at": "2024-05-01T10:00:00+00:00",
                                "fedora_messaging_schema": "bodhi.update.comment.v1"},
                    "body": {"comment": {}}}


def test_fedmsg_envelope_keeps_id_time_body_and_sender_fields():
    raw = parse_envelope(FEDMSG)
    assert (raw.msg_id, raw.topic, raw.body) == ("2019-abc", FEDMSG["topic"], {"comment": {}})
    assert raw.timestamp == datetime.fromtimestamp(1563000000.5, tz=UTC)
    assert raw.headers == {"i": 1, "username": "apache"}


def test_fedora_messaging_envelope_reads_sent_at_and_keeps_headers():
    raw = parse_envelope(FEDORA_MESSAGING)
    assert raw.msg_id == "5b6e-uuid"
    assert raw.timestamp == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert raw.headers["fedora_messaging_schema"] == "bodhi.update.comment.v1"


def test_datagrepper_headers_are_merged_into_fedmsg_shape():
    raw = parse_envelope({**FEDMSG, "headers": {"fedora_messaging_schema": "x.v1"}})
    assert raw.headers["fedora_messaging_schema"] == "x.v1"


def test_old_fedmsg_message_without_id_gets_a_stable_derived_one():
    doc = {k: v for k, v in FEDMSG.items() if k != "msg_id"}
    first, again = parse_envelope(doc), parse_envelope(dict(doc))
    assert first.msg_id == again.msg_id and first.msg_id.startswith("2019-")
    assert parse_envelope({**doc, "msg": {"other": 1}}).msg_id != first.msg_id


def test_integer_timestamp_is_accepted():
    assert parse_envelope({**FEDMSG, "timestamp": 1563000000}).timestamp.year == 2019


def test_parse_line_reads_one_json_line():
    assert parse_line(json.dumps(FEDORA_MESSAGING)).msg_id == "5b6e-uuid"


@pytest.mark.parametrize(("line", "problem"), [
    ("{not json", "message (no id): not JSON"),
    ("[1, 2]", "message (no id): not a JSON object but a list"),
    ('{"topic": "a.b"}', "message (no id): neither a fedmsg envelope"),
])
def test_unreadable_lines_say_what_is_wrong(line, problem):
    with pytest.raises(MalformedMessage, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_line(line)


@pytest.mark.parametrize(("change", "problem"), [
    ({"topic": None}, "message 2019-abc: field 'topic' is null, not text"),
    ({"msg": [1]}, "message 2019-abc: field 'msg' is a list, not an object"),
    ({"timestamp": "yesterday"}, "message 2019-abc: field 'timestamp' is text, not a number"),
    ({"timestamp": True}, "message 2019-abc: field 'timestamp' is true or false, not a number"),
    ({"timestamp": 1e20}, "message 2019-abc: timestamp 1e\\+20 is out of range"),
    ({"msg_id": 7}, "'msg_id' is a number, not text"),
    ({"headers": "x"}, "message 2019-abc: field 'headers' is text, not an object"),
])
def test_mistyped_fedmsg_fields_are_named(change, problem):
    with pytest.raises(MalformedMessage, match=problem):
        parse_envelope({**FEDMSG, **change})


def test_missing_fedmsg_field_is_named():
    doc = {k: v for k, v in FEDMSG.items() if k != "topic"}
    with pytest.raises(MalformedMessage, match="message 2019-abc: missing field 'topic'"):
        parse_envelope(doc)


@pytest.mark.parametrize(("change", "problem"), [
    ({"id": None}, "message \\(no id\\): field 'id' is null, not text"),
    ({"headers": {}}, "message 5b6e-uuid: missing header 'sent-at'"),
    ({"headers": {"sent-at": "soon"}}, "message 5b6e-uuid: header 'sent-at' is not an ISO time"),
    ({"body": "text"}, "message 5b6e-uuid: field 'body' is text, not an object"),
])
def test_fedora_messaging_faults_are_named(change, problem):
    with pytest.raises(MalformedMessage, match=problem):
        parse_envelope({**FEDORA_MESSAGING, **change})


def test_huge_body_is_refused_with_its_size():
    body = {"text": "x" * MAX_BODY_BYTES}
    with pytest.raises(MalformedMessage, match=r"message 2019-abc: body is \d+ bytes serialized"):
        parse_envelope({**FEDMSG, "msg": body})
