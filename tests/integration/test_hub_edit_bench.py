"""bench/hub_edit_bench.py --small: it runs every case with two checkouts side by side and
reports each one's CPU (the seconds are not judged here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.timing import seconds

ROOT = Path(__file__).resolve().parents[2]
CASES = ["`build --hub X`, nothing changed", "`widget configure … --bus none`",
         "summary edited, then `build --hub X`", "`hub archive [--undo] --bus none`"]


def test_the_hub_edit_benchmark_reports_every_case(tmp_path: Path) -> None:
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "hub_edit_bench.py"), "--small",
                           "--rounds", "1", "--base", str(ROOT), "--work", str(work)],
                          cwd=ROOT, capture_output=True, text=True, timeout=seconds(300),
                          env={**os.environ, "HUBSGEN_BENCH_CACHE": str(cache)})
    assert done.returncode == 0, done.stderr[-3000:]
    report = done.stdout
    assert report.startswith("### One hub at 2,000 users"), report
    assert "| case | before | after |" in report, report
    for case in CASES:
        assert re.search(rf"^\| {re.escape(case)} \| [\d.]+ \| [\d.]+ \|$", report, re.M), report
    assert list(work.iterdir()) == [], "the benchmark cleans up after itself"
    assert [p.name[:len("hubs-only-2000u-")] for p in cache.iterdir()] == ["hubs-only-2000u-"], \
        "the database is kept for the next run"
