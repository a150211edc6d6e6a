"""Benchmark `hubsgen build`: full build and no-change rebuild, time and peak memory.

    .venv/bin/python bench/build_bench.py [--users 10000] [--groups 100] [--runs 3]

Each build runs as its own `hubsgen` process; peak memory is sampled from /proc as the summed
RSS of that process and its workers (what the machine must hold), next to the largest single
process. Medians of --runs runs are printed as a Markdown table.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import measure, median_run  # noqa: E402 - a sibling script

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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
