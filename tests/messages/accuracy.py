"""Score understand() against the recorded corpus: exact usernames and packages, per service.

The corpus comes with the directory its upstream tests assumed (``directory.json``: the IRC
nicks and e-mail addresses their mocked FAS knew), as production Fedora had FAS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubs.directory import AliasTable
from hubs.envelopes import parse_envelope
from hubs.events import Event, RawMessage

CORPUS = Path(__file__).parent / "corpus"
DIRECTORY = Path(__file__).parent / "directory.json"


@dataclass(frozen=True)
class Case:
    service: str
    origin: str
    raw: RawMessage
    expected: dict[str, Any]


@dataclass
class Score:
    messages: int = 0
    usernames: int = 0
    packages: int = 0
    both: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, case: Case, event: Event) -> None:
        users_ok = _same(case.expected.get("usernames"), event.usernames)
        packages_ok = _same(case.expected.get("packages"), event.packages)
        self.messages += 1
        self.usernames += users_ok
        self.packages += packages_ok
        self.both += users_ok and packages_ok
        if not (users_ok and packages_ok):
            self.misses.append(f"{case.origin}: users {sorted(event.usernames)} packages "
                               f"{sorted(event.packages)}, expected {case.expected}")

    def percent(self, hits: int) -> float:
        return 100.0 * hits / self.messages if self.messages else 100.0


def _same(expected: list[str] | None, actual: frozenset[str]) -> bool:
    """A field the corpus does not state (None) counts as matched."""
    return expected is None or set(expected) == set(actual)


def cases(corpus: Path = CORPUS) -> Iterator[Case]:
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            envelope = dict(doc["envelope"])
            # fedmsg_meta's tests trimmed the timestamp off 24 messages; nothing read here
            # depends on time, so the epoch stands in.
            envelope.setdefault("timestamp", 0)
            yield Case(path.stem, doc["origin"], parse_envelope(envelope), doc["expected"])


def corpus_directory(path: Path = DIRECTORY) -> AliasTable:
    """The aliases the corpus's upstream tests gave FAS (``threebean`` -> ``ralph``)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return AliasTable(nicks=doc["nicks"], emails=doc["emails"])


def score(understand: Callable[[RawMessage], Event], corpus: Path = CORPUS) -> dict[str, Score]:
    """Per-service scores of *understand* (bind it to a directory to score with one)."""
    scores: dict[str, Score] = {}
    for case in cases(corpus):
        scores.setdefault(case.service, Score()).add(case, understand(case.raw))
    return scores


def total(scores: dict[str, Score]) -> Score:
    overall = Score()
    for s in scores.values():
        overall.messages += s.messages
        overall.usernames += s.usernames
        overall.packages += s.packages
        overall.both += s.both
    return overall


def table(scores: dict[str, Score]) -> str:
    lines = ["| service | messages | usernames % | packages % | both % |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, s in [*sorted(scores.items()), ("**total**", total(scores))]:
        lines.append(f"| {name} | {s.messages} | {s.percent(s.usernames):.1f} | "
                     f"{s.percent(s.packages):.1f} | {s.percent(s.both):.1f} |")
    return "\n".join(lines)
