"""Time a command and sample its peak memory (the benchmarks' shared runner)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procmem import PeakMemory  # noqa: E402 - a sibling script, not a package


@dataclass
class Run:
    seconds: float
    tree_mb: float
    largest_mb: float
    summary: str


def measure(args: list[str], cwd: Path) -> Run:
    """Run a command to completion, sampling its process tree's memory every 20 ms; the
    summary is the last line it printed."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}  # a crash prints where it happened
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    with PeakMemory(process.pid) as memory:
        out, err = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{out}\n{err}")
    lines = out.strip().splitlines()
    return Run(seconds, memory.tree_kb / 1024, memory.largest_kb / 1024,
               lines[-1] if lines else "")


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
