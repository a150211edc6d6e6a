"""bench/directory_bench.py --small: it runs, as bench/run calls it, and reports what the
directory writer promises (numbers of seconds are not judged here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.timing import seconds

ROOT = Path(__file__).resolve().parents[2]


def test_the_directory_benchmark_reports_incremental_writes(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "directory_bench.py"),
                           "--small", "--runs", "1", "--work", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=seconds(120))
    assert done.returncode == 0, done.stderr[-3000:]
    report = done.stdout
    assert report.startswith("### Directory (2,000 users, 10 teams"), report
    assert re.search(r"^\| Nothing changed \| [\d.]+ \| 0 \| 0 \|$", report, re.M), report
    assert re.search(r"^\| One user added \| [\d.]+ \| 2 \| 3 \|$", report, re.M), \
        "its people page and the index rendered; those and directory.json written"
    assert list(tmp_path.iterdir()) == [], "the benchmark cleans up after itself"
