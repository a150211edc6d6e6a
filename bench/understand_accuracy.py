"""How well understand() names the users and packages of real Fedora messages, per service.

    .venv/bin/python bench/understand_accuracy.py [--misses]

Reads the recorded corpus in tests/messages/corpus/ (see tests/messages/README.md) and prints a
Markdown table: messages, exact-match % of usernames, of packages, and of both, per service and
in total, then the total without messages whose expected usernames appear only in FAS (we
have no FAS lookup). --misses lists each message that did not match exactly.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hubs.understand import understand  # noqa: E402
from tests.messages.accuracy import score, table, total  # noqa: E402


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    scores = score(understand)
    elapsed = time.perf_counter() - started
    offline = total(score(understand, with_directory_cases=False))
    out = [table(scores), "",
           f"{total(scores).messages} messages in {elapsed:.1f} s (first use loads the readers)",
           f"Without the {total(scores).messages - offline.messages} messages whose usernames "
           "only FAS knows (IRC nicks, e-mail addresses): both "
           f"{offline.percent(offline.both):.1f} % of {offline.messages}"]
    if "--misses" in sys.argv[1:]:
        out += ["", "Misses:"] + [f"- {m}" for s in scores.values() for m in s.misses]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
