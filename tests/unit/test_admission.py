"""The door: every real message gets in unchanged; what could not be kept safely is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubs import memberships
from hubs.admission import MAX_DEPTH, Door, Refused, _first_problem, body_problem, checked_names
from hubs.envelopes import MAX_BODY_BYTES
from hubs.events import RawMessage
from hubs.plugins import load_widgets
from hubs.testing import T0
from hubs.understand import understand
from hubs.widget import MEMBERSHIP_TOPICS
from hubsgen.demo.messages import badge_award
from tests.messages.accuracy import cases, corpus_directory

DOOR = Door(load_widgets().readers(), corpus_directory())


def test_every_recorded_message_gets_in_with_the_names_it_is_understood_to_concern():
    for case in cases():
        assert DOOR.admit(case.raw) == understand(case.raw, corpus_directory()), case.origin


def raw(body: object, msg_id: str = "m-1", topic: str = "org.fedoraproject.prod.a.b",
        when: datetime = T0) -> RawMessage:
    return RawMessage(msg_id=msg_id, topic=topic, timestamp=when, body=body)  # type: ignore[arg-type]


@pytest.mark.parametrize(("body", "problem"), [
    ([], "is not an object"),
    ({"a": {"b": "\x00"}}, "holds the character U+0000 at a.b"),
    ({"a": ["ok", "\x9b"]}, "holds the character U+009B at a.1"),
    ({"k\x07": 1}, "has a key with the character U+0007 at the top"),
    ({"a": float("inf")}, "holds inf, which JSON has no number for, at a"),
    ({"a": {1, 2}}, "holds a set, which JSON has no type for, at a"),
    ({"a": "x" * (MAX_BODY_BYTES + 1)}, f"is over the {MAX_BODY_BYTES} byte limit"),
])
def test_a_body_unfit_to_store_is_described(body, problem):
    assert body_problem(body) == problem


def test_depth_is_bounded_without_recursion():
    body: dict[str, object] = {}
    inner = body
    for _ in range(50_000):
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    assert body_problem(body).startswith(f"nests deeper than {MAX_DEPTH} levels at a.a.a")


def test_text_with_tabs_newlines_and_any_printable_script_is_fine():
    assert body_problem({"comment": "Works\tfine.\r\nMerci 👍🏽 — 日本語 \u200d"}) == ""


def test_a_message_from_the_future_is_refused_by_this_machines_clock():
    door = Door(clock=lambda: T0)
    door.admit(raw({}, when=T0 + timedelta(hours=23)))
    with pytest.raises(Refused, match="in the future") as refused:
        door.admit(raw({}, when=T0 + timedelta(hours=25)))
    assert refused.value.stage == "check"


def test_names_no_hub_can_have_are_dropped_and_the_feed_line_cleaned():
    event = badge_award(T0, "ralph", "b", "B", "d")
    odd = replace(event, usernames=frozenset({"ralph", "Ralph Bean", "rbean@redhat.com"}),
                  groups=frozenset({"design team", "designteam"}),
                  packages=frozenset({"python-foo", "../etc"}),
                  summary="ralph \x1b[2Jwas awarded", link="https://x/" + "a" * 2000)
    checked = checked_names(odd)
    assert checked.usernames == {"ralph"}
    assert checked.groups == {"designteam"} and checked.packages == {"python-foo"}
    assert checked.summary == "ralph [2Jwas awarded" and checked.link == ""


@pytest.mark.parametrize("topic", ["fas.group.member.sponsor", "fas.group.member.add",
                                   "fas.group.member.remove"])
def test_a_membership_message_concerns_the_member_and_the_group(topic):
    raw = RawMessage("m-1", f"org.fedoraproject.prod.{topic}", T0,
                     {"msg": {"agent": "duffy", "user": "ralph", "group": "designteam"}})
    event = Door(clock=lambda: T0).admit(raw)
    assert "ralph" in event.usernames and event.groups == {"designteam"}
    assert topic in MEMBERSHIP_TOPICS, "so the widgets that list people and hubs are asked"


def test_every_topic_memberships_apply_is_a_membership_topic_for_the_widgets():
    assert memberships.GROUP_CHANGES <= MEMBERSHIP_TOPICS


def test_a_reader_that_breaks_is_the_messages_refusal_not_the_watchers(monkeypatch):
    def broken(*_: object) -> None:
        raise RuntimeError("a processor bug")

    monkeypatch.setattr("hubs.admission.understand", broken)
    with pytest.raises(Refused, match="not understood: RuntimeError: a processor bug"):
        Door().admit(raw({}, when=datetime(2020, 1, 1, tzinfo=UTC)))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from(["\x00", "\x7f", "\x9f", "\ud800", "\t\n", (1, 2)]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4) | st.sampled_from(["\x1b", 7]), inner, max_size=4),
    max_leaves=30)


@given(st.dictionaries(st.text(max_size=4), JSONISH, max_size=5))
def test_the_quick_check_passes_exactly_the_bodies_the_described_walk_passes(body):
    assert (body_problem(body) == "") == (_first_problem(body) == "")
