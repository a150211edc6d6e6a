"""Every benchmark in one run, side by side with Hugo: the Markdown report BENCHMARKS.md quotes.

    bench/run [--sizes 1000,10000] [--store-sizes 10000] [--runs 3] [--small] [--huge]
              [--work DIR]

1. Full build of a synthetic population (each user's hub plus one team hub per ten users):
   hubsgen with --jobs 1 and 2, Hugo on the same pages (bench/equivalent.py), Hugo writing
   every file hubsgen writes (the pages, fragments, versions.json and feeds), and a plain
   Jinja2 loop writing the pages (the floor of a Python generator). Each run is a round of
   all of them in turn, so the machine's mood weighs on each alike; medians of --runs.
   --sizes are populate.py's populations (two messages per user, twelve weeks: the store the
   earlier reports used); --store-sizes are built on a store like production's (bench/store.py:
   100 messages per user over 400 days); --huge adds 100,000 users on that store.
2. No-change rebuild: time, and files rewritten (must be 0).
3. One change: `hubsgen watch` from publish to fragment replaced, against `hugo server`
   from content file written to page replaced (and a plain `hugo` rerun).
4. Throughput: sustained and burst, with a mix of messages (bench/watch_bench.py) over
   fedmsg; and on AMQP, as production runs (bench/amqp_bench.py): a pre-loaded RabbitMQ queue
   drained by one worker on SQLite or PostgreSQL, or by two --shard workers, with the cost of
   fedora-messaging's schema validation per message.
5. Live: publish to DOM in Chromium through nginx, SSE fan-out (bench/live_bench.py).
6. Memory: peak RSS of each build, of watch, of Hugo.

Everything works under one directory, on tmpfs when the machine has one: both generators then
write to the same memory-backed file system, so the table compares their work, not the disk's
mood (this machine's disk takes 0.1 to 1 ms to create a file, varying run to run).
"""

from __future__ import annotations

import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Sibling scripts, not a package.
import hugo_bench  # noqa: E402
from amqp_bench import AmqpResult, run_amqp_bench  # noqa: E402
from equivalent import PER_HUB, make_equivalents, page_sizes, tree_totals  # noqa: E402
from jinja_floor import floor_build  # noqa: E402
from live_bench import LiveResult, run_live_bench  # noqa: E402
from measure import Run, measure, median_run  # noqa: E402
from store import StoreSpec, copy_store  # noqa: E402
from watch_bench import WatchResult, percentile, run_watch_bench  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TMPFS = Path("/dev/shm")
HUGE = 100_000
POPULATE_SETUP = "populate.py: 2 messages per user over 12 weeks"


@dataclass
class BuildRows:
    """One population's full builds and no-change rebuilds."""

    users: int
    pages: int
    setup: str
    """Which message store: populate.py's, or bench/store.py's."""
    hubsgen: dict[int, Run]
    rebuild: dict[int, Run]
    hugo: Run
    hugo_full: Run
    """Hugo writing every file hubsgen writes per hub, not only the pages."""
    floor: Run
    page_kb: dict[str, float]
    trees: dict[str, dict[str, tuple[int, int]]]
    """Files and bytes per kind of output, for hubsgen and Hugo writing every file."""


@dataclass
class OneChange:
    server: list[float]
    plain: list[float]


@click.command()
@click.option("--sizes", default="1000,10000", show_default=True,
              help="Comma-separated user counts, populated by populate.py (2 messages per user).")
@click.option("--store-sizes", default="10000", show_default=True,
              help="Comma-separated user counts built on the realistic store (bench/store.py); "
                   "empty for none.")
@click.option("--store-messages", default=100, show_default=True,
              help="Messages per user in the realistic store.")
@click.option("--store-days", default=400, show_default=True,
              help="Days of history in the realistic store.")
@click.option("--huge", is_flag=True, envvar="HUBSGEN_BENCH_HUGE",
              help=f"Also build {HUGE:,} users on the realistic store: hours, and some 10 GB "
                   "of disk for the cached store and as much again where --work is.")
@click.option("--runs", default=3, show_default=True, help="Runs per build; medians shown.")
@click.option("--messages", default=1000, show_default=True,
              help="One-change latency samples (hubsgen watch).")
@click.option("--hugo-samples", default=30, show_default=True,
              help="One-change samples under hugo server.")
@click.option("--burst", default=10_000, show_default=True)
@click.option("--rate", default=10.0, show_default=True,
              help="Awards per second for the one-change latency: steady, below what the "
                   "watcher can take, so the latency is a change's and not a queue's.")
@click.option("--sustained-rate", default=1000.0, show_default=True)
@click.option("--amqp-users", type=int,
              help="Users of the realistic store the AMQP throughput runs on [default: the "
                   "first of --store-sizes, else the last of --sizes].")
@click.option("--amqp-messages", default=10_000, show_default=True,
              help="Messages loaded into each AMQP queue before the workers start.")
@click.option("--live-samples", default=60, show_default=True)
@click.option("--connections", default=2000, show_default=True)
@click.option("--small", is_flag=True,
              help="A quick run at a small size, checking that every part works (CI).")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path),
              help="Where to work (default: a new directory on tmpfs, else in $TMPDIR).")
def main(sizes: str, store_sizes: str, store_messages: int, store_days: int, huge: bool,
         runs: int, messages: int, hugo_samples: int, burst: int, rate: float,
         sustained_rate: float, amqp_users: int | None, amqp_messages: int, live_samples: int,
         connections: int, small: bool, work: Path | None) -> None:
    if small:
        sizes, store_sizes, runs, messages, hugo_samples, burst = "100", "100", 1, 50, 3, 500
        amqp_users, amqp_messages, live_samples, connections = 100, 100, 5, 100
    populations: list[tuple[int, StoreSpec | None]] = [
        (int(count), None) for count in sizes.split(",") if count]
    populations += [(count, StoreSpec(count, max(1, count // 10), store_messages, store_days))
                    for count in [*(int(s) for s in store_sizes.split(",") if s),
                                  *[HUGE] * huge]]
    if not populations:
        raise click.UsageError("nothing to build: give --sizes or --store-sizes")
    # One change and the fedmsg throughput run on the last population short of --huge's.
    reference = next((p for p in reversed(populations) if p[0] != HUGE or not p[1]),
                     populations[-1])
    amqp_users = amqp_users or next((count for count, spec in populations if spec),
                                    reference[0])
    amqp_store = StoreSpec(amqp_users, max(1, amqp_users // 10), store_messages, store_days)
    base = work or Path(tempfile.mkdtemp(prefix="hubsgen-bench-",
                                         dir=TMPFS if TMPFS.is_dir() else None))
    base.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    try:
        builds, change = [], None
        for count, store in populations:
            where = base / (f"users-{count}" if store is None else f"store-{count}")
            rows, site = build_rows(count, runs, where, store)
            builds.append(rows)
            if (count, store) == reference:
                change = OneChange(hugo_bench.server_changes(site, hugo_samples).latencies,
                                   hugo_bench.plain_rebuilds(site, 3 if not small else 1))
            shutil.rmtree(where, ignore_errors=True)
        assert change is not None
        count, store = reference
        watch = run_watch_bench(count, groups=max(1, count // 10), messages=messages,
                                rate=rate, sustained_rate=sustained_rate, burst=burst,
                                sustained_seconds=3.0 if small else 10.0,
                                work=base, store=store)
        amqp = run_amqp_bench(amqp_store, amqp_messages, profile=True, work=base)
        live = run_live_bench(live_samples, connections, work=base)
    finally:
        if work is None:
            shutil.rmtree(base, ignore_errors=True)
    click.echo(report(builds, change, watch, amqp, live, runs, started,
                      on_tmpfs=base.is_relative_to(TMPFS), watched=reference[1] is not None))


def build_rows(users: int, runs: int, work: Path,
               store: StoreSpec | None = None) -> tuple[BuildRows, Path]:
    """Build one population with each generator, in *runs* rounds of all of them; the page-only
    Hugo site is kept for the one-change measurement. Without a *store*, populate.py fills
    the database."""
    work.mkdir(parents=True)
    if store is None:
        db = f"sqlite:///{work / 'hubs.db'}"
        measure([str(BIN / "python"), str(ROOT / "populate.py"), "--db", db, "--users",
                 str(users), "--groups", str(max(1, users // 10)), "--seed", "1", "--force"],
                work)
    else:
        db = copy_store(store, work / "hubs.db")
    out = work / "build"
    full: dict[int, list[Run]] = {1: [], 2: []}
    again: dict[int, list[Run]] = {1: [], 2: []}
    hugo, hugo_full, floor = [], [], []
    equivalents = None
    floor_out = work / "floor"
    for _ in range(runs):
        for jobs in (1, 2):
            shutil.rmtree(out, ignore_errors=True)
            command = [str(BIN / "hubsgen"), "build", "--db", db, "--out", str(out),
                       "--jobs", str(jobs)]
            full[jobs].append(measure(command, work))
            again[jobs].append(measure(command, work))
            if written(again[jobs][-1]):
                raise SystemExit(f"a no-change rebuild wrote files: {again[jobs][-1].summary}")
            if equivalents is None:
                equivalents = make_equivalents(out, work / "equivalent")
        assert equivalents is not None
        hugo.append(hugo_bench.full_build(equivalents.hugo_site))
        hugo_full.append(hugo_bench.full_build(equivalents.hugo_full_site))
        floor.append(floor_build(equivalents.pages_file, equivalents.jinja_templates, floor_out))
    assert equivalents is not None
    hugo_full_out = equivalents.hugo_full_site / hugo_bench.PUBLIC
    sizes = page_sizes({"hubsgen": out, "Hugo": equivalents.hugo_site / hugo_bench.PUBLIC,
                        "Hugo, every file": hugo_full_out, "Jinja2 loop": floor_out})
    pages = sum(1 for _ in out.glob("*/index.html"))
    setup = POPULATE_SETUP if store is None else (
        f"bench/store.py: {store.messages_per_user} messages per user over {store.days} days")
    rows = BuildRows(users, pages, setup, {jobs: median_run(r) for jobs, r in full.items()},
                     {jobs: median_run(r) for jobs, r in again.items()}, median_run(hugo),
                     median_run(hugo_full), median_run(floor),
                     {k: v / 1024 for k, v in sizes.items()},
                     {"hubsgen": tree_totals(out), "Hugo, every file": tree_totals(hugo_full_out)})
    shutil.rmtree(out)
    shutil.rmtree(hugo_full_out)
    return rows, equivalents.hugo_site


def written(run: Run) -> int:
    """Files a build wrote, from its summary line."""
    found = re.search(r"(\d+) written", run.summary)
    if found is None:
        raise SystemExit(f"not a build summary: {run.summary!r}")
    return int(found[1])


def report(builds: list[BuildRows], change: OneChange, watch: WatchResult, amqp: AmqpResult,
           live: LiveResult, runs: int, started: datetime, on_tmpfs: bool,
           watched: bool) -> str:
    """The Markdown report; *watched* says whether watch ran on the realistic store."""
    store = ("bench/store.py's store" if watched else POPULATE_SETUP.split(":")[0] + "'s store")
    lines = [f"Run {started:%Y-%m-%d} on {machine()}; Hugo {hugo_bench.hugo_version()}, "
             f"Python {platform.python_version()}; output on "
             f"{'tmpfs' if on_tmpfs else 'disk'}; medians of {runs} run(s).", ""]
    for n, setup in enumerate(dict.fromkeys(b.setup for b in builds)):
        lines += [""] * bool(n) + build_tables(setup, [b for b in builds if b.setup == setup])
    hub_p50 = watch.latency_p50_ms
    server_p50 = statistics.median(change.server) * 1000
    plain_p50 = statistics.median(change.plain) * 1000
    lines += ["", f"### One change ({watch.users:,} users, {store})", "",
              "| what | p50 ms | p99 ms | samples | Hugo p50 / hubsgen p50 |",
              "|---|---|---|---|---|",
              f"| hubsgen watch: badge award published → fragment replaced "
              f"({watch.latency_rate:g}/s) "
              f"| {hub_p50:.1f} | {watch.latency_p99_ms:.1f} | {watch.latency_samples} "
              f"({watch.lost} lost) | |",
              f"| `hugo server`: content file written → page replaced | {server_p50:.0f} | "
              f"{percentile(change.server, 0.99) * 1000:.0f} | {len(change.server)} | "
              f"{server_p50 / hub_p50:.0f}× |",
              f"| plain `hugo` rerun after one file changed | {plain_p50:.0f} | "
              f"{max(change.plain) * 1000:.0f} | {len(change.plain)} | "
              f"{plain_p50 / hub_p50:.0f}× |"]
    lines += ["", f"### Throughput, fedmsg ({watch.users:,} users, {store})", "",
              f"Mix: {watch.mix}.", "",
              "| offered | handled msg/s | kept up |", "|---|---|---|",
              f"| sustained, {watch.sustained_offered:.0f} msg/s | "
              f"{watch.sustained_handled:.0f} | {'yes' if watch.sustained_kept_up else 'no'} |",
              f"| burst of {watch.burst_size:,} | {watch.burst_rate:.0f} | "
              f"{watch.burst_matched:,} matched |"]
    lines += ["", f"### Throughput, AMQP ({amqp.users:,} users, bench/store.py's store)", "",
              "Each worker's queue loaded with the same mix, published as fedora-messaging does "
              "(each message of its topic's schema class), before the workers start.", "",
              amqp.markdown()]
    lines += ["", "### Live pages (demo site, nginx, headless Chromium)", "",
              "| publish → DOM p50 ms | p95 ms | streams held | fan-out p50 ms | "
              "fan-out all ms | shim RSS idle / peak MB |", "|---|---|---|---|---|---|",
              f"| {live.dom_p50_ms:.1f} | {live.dom_p95_ms:.1f} | {live.streams_held:,} | "
              f"{live.fanout_p50_ms:.1f} | {live.fanout_all_ms:.1f} | "
              f"{live.shim_idle_mb:.0f} / {live.shim_peak_mb:.0f} |"]
    lines += ["", "### Memory", "", "| process | peak RSS MB |", "|---|---|"]
    for b in builds:
        store = "" if b.setup == POPULATE_SETUP else ", realistic store"
        lines.append(f"| hubsgen build --jobs 2, {b.pages:,} pages{store} (all processes) | "
                     f"{b.hubsgen[2].tree_mb:.0f} |")
        lines.append(f"| Hugo, {b.pages:,} pages{store} | {b.hugo.tree_mb:.0f} |")
        lines.append(f"| Hugo writing every file, {b.pages:,} pages{store} | "
                     f"{b.hugo_full.tree_mb:.0f} |")
    lines.append(f"| hubsgen watch, {watch.users:,} users | {watch.peak_rss_mb:.0f} |")
    lines += ["", targets(builds[-1], change, watch, live)]
    return "\n".join(lines)


def build_tables(setup: str, builds: list[BuildRows]) -> list[str]:
    """Full builds, output trees and no-change rebuilds of the populations of one *setup*."""
    lines = [f"### Full build ({setup})", "",
             "| pages | generator | seconds | vs Hugo | vs Hugo writing every file | peak RSS "
             "MB, all processes (largest) | mean page KB |", "|---|---|---|---|---|---|---|"]
    for b in builds:
        entries = [(f"hubsgen --jobs {jobs}", run, b.page_kb["hubsgen"])
                   for jobs, run in b.hubsgen.items()]
        entries += [("Hugo", b.hugo, b.page_kb["Hugo"]),
                    ("Hugo writing every file", b.hugo_full, b.page_kb["Hugo, every file"]),
                    ("Jinja2 loop (floor)", b.floor, b.page_kb["Jinja2 loop"])]
        for name, run, kb in entries:
            lines.append(f"| {b.pages:,} | {name} | {run.seconds:.2f} | "
                         f"{run.seconds / b.hugo.seconds:.2f}× | "
                         f"{run.seconds / b.hugo_full.seconds:.2f}× | {run.tree_mb:.0f} "
                         f"({run.largest_mb:.0f}) | {kb:.1f} |")
    lines += ["", f"### Output trees ({setup})", "",
              "| pages | generator | " + " | ".join(f"{kind}: files, MB" for kind in PER_HUB)
              + " | all files, MB |", "|---|---|" + "---|" * (len(PER_HUB) + 1)]
    for b in builds:
        for name, totals in b.trees.items():
            lines.append(f"| {b.pages:,} | {name} | " + " | ".join(
                f"{files:,}, {size / 2**20:.1f}" for files, size in totals.values()) + " |")
    lines += ["", f"### No-change rebuild ({setup})", "",
              "| pages | jobs | seconds | vs full build | files rewritten |",
              "|---|---|---|---|---|"]
    for b in builds:
        for jobs, run in b.rebuild.items():
            lines.append(f"| {b.pages:,} | {jobs} | {run.seconds:.2f} | "
                         f"{run.seconds / b.hubsgen[jobs].seconds:.1%} | {written(run)} |")
    return lines


def targets(b: BuildRows, change: OneChange, watch: WatchResult, live: LiveResult) -> str:
    """The issue's targets at the last size built (the realistic store's, if any), each with
    what this run measured."""
    full, rebuild = b.hubsgen[2], b.rebuild[2]
    server_p50 = statistics.median(change.server) * 1000
    checks = [
        ("full build ≤ 0.75× Hugo (--jobs 2)", f"{full.seconds / b.hugo.seconds:.2f}×",
         full.seconds <= 0.75 * b.hugo.seconds),
        ("build peak RSS < 300 MB", f"{full.tree_mb:.0f} MB", full.tree_mb < 300),
        ("no-change rebuild < 10% of full", f"{rebuild.seconds / full.seconds:.1%}",
         rebuild.seconds < 0.1 * full.seconds),
        ("publish → fragment p50 ≤ 5 ms", f"{watch.latency_p50_ms:.1f} ms",
         watch.latency_p50_ms <= 5),
        ("publish → fragment p99 ≤ 20 ms", f"{watch.latency_p99_ms:.1f} ms",
         watch.latency_p99_ms <= 20),
        ("≥ 1,000 msg/s", f"{watch.sustained_handled:.0f} sustained, "
         f"{watch.burst_rate:.0f} burst", min(watch.sustained_handled, watch.burst_rate) >= 1000),
        ("one change ≥ 100× faster than Hugo's", f"{server_p50 / watch.latency_p50_ms:.0f}×",
         server_p50 >= 100 * watch.latency_p50_ms),
        ("publish → DOM p95 ≤ 150 ms", f"{live.dom_p95_ms:.0f} ms", live.dom_p95_ms <= 150),
        ("watch RSS ≤ 200 MB", f"{watch.peak_rss_mb:.0f} MB", watch.peak_rss_mb <= 200),
    ]
    lines = [f"### Targets ({b.pages:,} pages; builds on {b.setup})", "",
             "| target | measured | met |",
             "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if met else '**no**'} |"
              for name, value, met in checks]
    return "\n".join(lines)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    cores = Path("/proc/cpuinfo").read_text().count("processor\t")
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
    return f"{cores} × {model}, {memory_kb / 1024 / 1024:.0f} GB RAM, Linux {kernel}"


if __name__ == "__main__":
    main()
