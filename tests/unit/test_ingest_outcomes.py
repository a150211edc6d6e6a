"""Ingest keeps its word: every recorded message comes out of the sources and the door as it
did when tests/messages/outcomes.json was written, whatever was made faster since."""

from __future__ import annotations

import json

from tests.messages.outcomes import OUTCOMES, outcomes


def test_every_recorded_message_is_admitted_or_refused_as_before():
    expected = json.loads(OUTCOMES.read_text(encoding="utf-8"))
    found = outcomes()
    assert sorted(found) == sorted(expected)
    changed = [key for key in expected if found[key] != expected[key]]
    assert not changed, [(key, expected[key], found[key]) for key in changed[:3]]
