"""How well understand() names the users and packages of real Fedora messages, per service.

    .venv/bin/python bench/understand_accuracy.py [--misses]

Reads the recorded corpus in tests/messages/corpus/ (see tests/messages/README.md) and prints a
Markdown table: messages, exact-match % of usernames, of packages, and of both, per service and
in total, reading with the directory the corpus assumes (tests/messages/directory.json), then
the total without any directory (IRC nicks and e-mail addresses unresolved). --misses lists
each message that did not match exactly with the directory.
"""

from __future__ import annotations

import logging
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hubs.understand import understand  # noqa: E402
from tests.messages.accuracy import corpus_directory, score, table, total  # noqa: E402


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    scores = score(partial(understand, directory=corpus_directory()))
    elapsed = time.perf_counter() - started
    bare = total(score(understand))
    out = [table(scores), "",
           f"{total(scores).messages} messages in {elapsed:.1f} s (first use loads the readers)",
           "Without a directory (IRC nicks and e-mail addresses unresolved): both "
           f"{bare.percent(bare.both):.1f} %"]
    if "--misses" in sys.argv[1:]:
        out += ["", "Misses:"] + [f"- {m}" for s in scores.values() for m in s.misses]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
