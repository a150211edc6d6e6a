"""HubStates over real versions.json files: which update each rewrite makes, and what a client
showing an older state must be sent to be current again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubs.render import Versions
from hubsgen.live.hubstates import HubStates, Update

HUB = "ralph"


def write_versions(out: Path, seq: int, widgets: dict[str, str], hub: str = HUB) -> None:
    """Replace the hub's versions.json atomically, as the build does."""
    path = out / hub / "versions.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".versions.json.tmp")
    tmp.write_bytes(Versions(seq, widgets).to_json())
    os.replace(tmp, path)


def seen(states: HubStates, out: Path, seq: int, widgets: dict[str, str]) -> Update | None:
    """Write a state and let *states* notice it, as the shim does on each rewrite."""
    write_versions(out, seq, widgets)
    return states.refresh(HUB)


def caught_up(shown: dict[str, str], updates: list[Update]) -> dict[str, str]:
    """The map a client showing *shown* has after applying *updates*, as live.js does."""
    widgets = dict(shown)
    for update in updates:
        widgets = dict(update.widgets) if update.complete else {**widgets, **update.widgets}
    return widgets


def complete(seq: int, widgets: dict[str, str]) -> list[Update]:
    return [Update(seq, None, widgets, complete=True)]


@pytest.fixture
def states(tmp_path: Path) -> HubStates:
    return HubStates(tmp_path)


# --- refresh: one update per new state ---

def test_first_sight_is_a_complete_update(states, tmp_path):
    update = seen(states, tmp_path, 4, {"1": "a", "2": "b"})
    assert update == Update(4, None, {"1": "a", "2": "b"}, complete=True)


def test_a_later_state_names_only_the_changed_widgets(states, tmp_path):
    seen(states, tmp_path, 1, {"1": "a", "2": "b", "3": "c"})
    update = seen(states, tmp_path, 2, {"1": "a", "2": "B", "3": "c"})
    assert update == Update(2, 1, {"2": "B"}, complete=False)


def test_rereading_an_unchanged_file_makes_no_update(states, tmp_path):
    seen(states, tmp_path, 1, {"1": "a"})
    assert states.refresh(HUB) is None
    assert seen(states, tmp_path, 1, {"1": "a"}) is None


@pytest.mark.parametrize("after", [{"1": "a", "2": "b", "3": "c"}, {"1": "A"}],
                         ids=["added", "removed"])
def test_a_widget_added_or_removed_gives_the_whole_map(states, tmp_path, after):
    seen(states, tmp_path, 1, {"1": "a", "2": "b"})
    update = seen(states, tmp_path, 2, after)
    assert update == Update(2, 1, after, complete=True)


def test_numbering_that_restarts_gives_a_complete_update(states, tmp_path):
    seen(states, tmp_path, 7, {"1": "a"})
    update = seen(states, tmp_path, 1, {"1": "b"})
    assert update == Update(1, None, {"1": "b"}, complete=True)
    assert states.current(HUB) == Versions(1, {"1": "b"})


# --- current and unreadable files ---

def test_current_reads_the_file_once_until_refreshed(states, tmp_path):
    write_versions(tmp_path, 3, {"1": "a"})
    assert not states.knows(HUB)
    assert states.current(HUB) == Versions(3, {"1": "a"})
    assert states.knows(HUB)
    write_versions(tmp_path, 4, {"1": "b"})
    assert states.current(HUB) == Versions(3, {"1": "a"}), "cached until refresh"
    assert states.refresh(HUB) == Update(4, 3, {"1": "b"}, complete=False)


@pytest.mark.parametrize("payload", [None, b"{not json", b'{"seq": "1", "widgets": {}}',
                                     b'{"seq": 1}', b"[]"],
                         ids=["missing", "garbage", "text-seq", "no-widgets", "list"])
def test_a_missing_or_unreadable_versions_file_gives_nothing(states, tmp_path, payload):
    if payload is not None:
        (tmp_path / HUB).mkdir()
        (tmp_path / HUB / "versions.json").write_bytes(payload)
    assert states.current(HUB) is None
    assert states.refresh(HUB) is None
    assert states.since(HUB, None) == []
    assert not states.knows(HUB)


def test_a_file_broken_after_a_good_one_keeps_the_last_good_state(states, tmp_path):
    seen(states, tmp_path, 1, {"1": "a"})
    (tmp_path / HUB / "versions.json").write_bytes(b"")
    assert states.refresh(HUB) is None
    assert states.current(HUB) == Versions(1, {"1": "a"})


# --- since: what a client showing an older state is sent ---

def test_a_client_behind_gets_the_chain_of_updates_from_its_seq(states, tmp_path):
    seen(states, tmp_path, 1, {"1": "a", "2": "b"})
    seen(states, tmp_path, 2, {"1": "A", "2": "b"})
    seen(states, tmp_path, 3, {"1": "A", "2": "B"})
    assert states.since(HUB, 1) == [Update(2, 1, {"1": "A"}, complete=False),
                                    Update(3, 2, {"2": "B"}, complete=False)]
    assert states.since(HUB, 2) == [Update(3, 2, {"2": "B"}, complete=False)]


def test_a_current_client_gets_nothing(states, tmp_path):
    seen(states, tmp_path, 1, {"1": "a"})
    seen(states, tmp_path, 2, {"1": "b"})
    assert states.since(HUB, 2) == []


def test_a_skipped_state_chains_from_the_state_seen_before_it(states, tmp_path):
    """The shim may read seq 1 then seq 3 (two rewrites, one read): 1 chains, 2 cannot."""
    seen(states, tmp_path, 1, {"1": "a", "2": "b"})
    seen(states, tmp_path, 3, {"1": "A", "2": "b"})
    assert states.since(HUB, 1) == [Update(3, 1, {"1": "A"}, complete=False)]
    assert states.since(HUB, 2) == complete(3, {"1": "A", "2": "b"})


@pytest.mark.parametrize("since", [0, 4, 99], ids=["zero", "too-old", "ahead"])
def test_a_seq_the_window_cannot_replay_gets_one_complete_update(states, tmp_path, since):
    seen(states, tmp_path, 5, {"1": "a"})
    seen(states, tmp_path, 6, {"1": "b"})
    assert states.since(HUB, since) == complete(6, {"1": "b"})


def test_a_client_without_a_seq_starts_from_the_whole_map(states, tmp_path):
    """One complete update would do; a complete one followed by its chain is as good."""
    seen(states, tmp_path, 5, {"1": "a", "2": "b"})
    seen(states, tmp_path, 6, {"1": "A", "2": "b"})
    updates = states.since(HUB, None)
    assert updates[0].complete
    assert updates[-1].seq == 6
    assert caught_up({"3": "unknown"}, updates) == {"1": "A", "2": "b"}


def test_a_shim_that_only_read_the_file_sends_complete_updates(states, tmp_path):
    """After a shim restart it knows no history: every client behind gets the whole map."""
    write_versions(tmp_path, 9, {"1": "a", "2": "b"})
    assert states.since(HUB, 8) == complete(9, {"1": "a", "2": "b"})
    assert states.since(HUB, 9) == []


def test_once_the_window_rolls_past_a_seq_it_gets_a_complete_update(tmp_path):
    states = HubStates(tmp_path, window=2)
    for seq in range(1, 5):
        seen(states, tmp_path, seq, {"1": f"v{seq}", "2": "same"})
    assert states.since(HUB, 1) == complete(4, {"1": "v4", "2": "same"})
    assert states.since(HUB, 2) == [Update(3, 2, {"1": "v3"}, complete=False),
                                    Update(4, 3, {"1": "v4"}, complete=False)]


def test_a_chain_through_an_added_widget_carries_the_whole_map(states, tmp_path):
    seen(states, tmp_path, 1, {"1": "a"})
    seen(states, tmp_path, 2, {"1": "a", "2": "b"})
    seen(states, tmp_path, 3, {"1": "A", "2": "b"})
    updates = states.since(HUB, 1)
    assert [u.seq for u in updates] == [2, 3]
    assert caught_up({"1": "a"}, updates) == {"1": "A", "2": "b"}


def test_after_numbering_restarts_no_stale_chain_is_replayed(states, tmp_path):
    """build/ wiped and rebuilt while the shim runs: a page of the new seq 1 must be brought
    to the new state, not sent the diff of the old 1 -> 2 kept in the window."""
    seen(states, tmp_path, 1, {"1": "a", "2": "b"})
    seen(states, tmp_path, 2, {"1": "OLD", "2": "b"})
    seen(states, tmp_path, 1, {"1": "x", "2": "y"})  # numbering restarts
    seen(states, tmp_path, 2, {"1": "x", "2": "NEW"})
    assert caught_up({"1": "x", "2": "y"}, states.since(HUB, 1)) == {"1": "x", "2": "NEW"}


def test_hubs_are_kept_apart(states, tmp_path):
    write_versions(tmp_path, 1, {"1": "a"}, hub="lounge")
    seen(states, tmp_path, 1, {"2": "b"})
    seen(states, tmp_path, 2, {"2": "B"})
    assert states.current("lounge") == Versions(1, {"1": "a"})
    assert states.since("lounge", None) == complete(1, {"1": "a"})
    assert states.since("lounge", 1) == []


# --- the event on the wire ---

def test_an_update_is_one_server_sent_event():
    update = Update(3, 2, {"12": "0123456789abcdef"}, complete=False)
    assert update.to_sse() == (b'id: 3\nevent: versions\n'
                               b'data: {"complete":false,"seq":3,'
                               b'"widgets":{"12":"0123456789abcdef"}}\n\n')


def test_the_data_line_stays_one_line_whatever_the_versions_hold():
    """A newline inside data would split the event; JSON escapes it."""
    frame = Update(1, None, {"1": "a\nb"}, complete=True).to_sse()
    assert frame.endswith(b"\n\n")
    assert frame.decode().split("\n")[:3] == [
        "id: 1", "event: versions", 'data: {"complete":true,"seq":1,"widgets":{"1":"a\\nb"}}']
