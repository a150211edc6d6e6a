"""Benchmark `hubsgen build`: full build and no-change rebuild, time and peak memory.

    .venv/bin/python bench/build_bench.py [--users 10000] [--groups 100] [--runs 3]

Each build runs as its own `hubsgen` process; peak memory is sampled from /proc as the summed
RSS of that process and its workers (what the machine must hold), next to the largest single
process. Medians of --runs runs are printed as a Markdown table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procmem import PeakMemory  # noqa: E402 - a sibling script, not a package

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Run:
    seconds: float
    tree_mb: float
    largest_mb: float
    summary: str


def measure(args: list[str], cwd: Path) -> Run:
    """Run a command, sampling its process tree's memory every 20 ms."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}  # a crash prints where it happened
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    with PeakMemory(process.pid) as memory:
        out, err = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{out}\n{err}")
    return Run(seconds, memory.tree_kb / 1024, memory.largest_kb / 1024,
               out.strip().splitlines()[-1])


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


@click.command()
@click.option("--users", default=10_000, show_default=True)
@click.option("--groups", default=100, show_default=True)
@click.option("--runs", default=3, show_default=True)
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Also measure the demo data.")
def main(users: int, groups: int, runs: int, demo: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="hubsgen-bench-"))
    try:
        rows = []
        populations = [("demo", ["--force"])] if demo else []
        populations.append((f"{users:,} users", ["--users", str(users), "--groups",
                                                  str(groups), "--seed", "1", "--force"]))
        for label, populate_args in populations:
            db = f"sqlite:///{work / 'bench.db'}"
            measure([str(BIN / "python"), str(ROOT / "populate.py"), "--db", db,
                     *populate_args], work)
            for jobs in (1, 2):
                full, again = [], []
                for _ in range(runs):
                    shutil.rmtree(work / "build", ignore_errors=True)
                    build = [str(BIN / "hubsgen"), "build", "--db", db, "--jobs", str(jobs)]
                    full.append(measure(build, work))
                    again.append(measure(build, work))
                f, a = median_run(full), median_run(again)
                rows.append((label, jobs, f, a))
        print("| population | jobs | full build s | peak MB (tree / largest) | "
              "no-change rebuild s | rebuild / full | summary of the full build |")
        print("|---|---|---|---|---|---|---|")
        for label, jobs, f, a in rows:
            print(f"| {label} | {jobs} | {f.seconds:.2f} | {f.tree_mb:.0f} / {f.largest_mb:.0f}"
                  f" | {a.seconds:.2f} | {a.seconds / f.seconds:.0%} | {f.summary} |")
        cores = Path("/proc/cpuinfo").read_text().count("processor\t")
        print(f"\nMedian of {runs} runs each, on {cores} cores.")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
