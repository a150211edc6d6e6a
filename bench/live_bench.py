"""Benchmark live pages through a real nginx on loopback, with the shipped configuration.

    .venv/bin/python bench/live_bench.py [--samples 60] [--connections 2000] [--work DIR]

1. Publish to DOM: the demo site, `hubsgen watch` on a loopback fedmsg endpoint, `hubsgen
   events`, nginx, and ralph's hub page open in headless Chromium (Debian's). Each sample
   publishes a badge award for ralph; the page records when the badges widget's data-version
   changes. Reports p50/p95 of publish -> DOM (both clocks are this machine's wall clock).
2. Fan-out: N event streams open on one hub through nginx; one versions.json is replaced; the
   time until every stream has the event (p50 and last), and the shim's memory with N open.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import click
import zmq
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bus_mix import award  # noqa: E402
from procmem import PeakMemory, rss_kb  # noqa: E402 - sibling scripts, not a package
from watch_bench import free_port, percentile  # noqa: E402

from tests.integration.nginx import running_nginx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WATCH_DOM = """(id) => {
    window.changes = [];
    const widget = document.getElementById("widget-" + id);
    new MutationObserver(() => window.changes.push(
        [performance.timeOrigin + performance.now(), widget.dataset.version]))
        .observe(widget, {attributes: true, attributeFilter: ["data-version"]});
}"""


@contextmanager
def process(args: list[str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        child.terminate()
        child.wait(timeout=30)


def wait_listening(port: int, child: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until *child* accepts connections on *port*: a page opened before the events shim
    listens gets a 502 and settles on polling, and its badge never says "live"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"hubsgen events exited with {child.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"hubsgen events did not listen on {port} within {timeout:.0f} s")


def badges_widget(build: Path, hub: str) -> str:
    page = (build / hub / "index.html").read_text()
    marker = 'class="widget widget-badges'
    start = page.index('data-widget-id="', page.index(marker)) + len('data-widget-id="')
    return page[start:page.index('"', start)]


def publish_to_dom(base: str, build: Path, pub: zmq.Socket, samples: int) -> list[float]:
    widget = badges_widget(build, "ralph")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/ralph/")
        # Functions, not expressions: Playwright evals an expression at each poll, which the
        # site's Content-Security-Policy refuses.
        page.wait_for_function("() => document.querySelector('.live-badge')?.dataset.state"
                               " === 'live'", timeout=120_000)
        page.evaluate(WATCH_DOM, widget)
        wait_ready(page, pub)
        latencies = []
        for n in range(samples):
            seen = page.evaluate("window.changes.length")
            sent = time.time() * 1000
            pub.send_multipart(award("ralph", 100_000 + n))
            page.wait_for_function("(seen) => window.changes.length > seen", arg=seen,
                                   timeout=30_000)
            changed_at = page.evaluate(f"window.changes[{seen}][0]")
            latencies.append((changed_at - sent) / 1000)
            time.sleep(0.3)  # one at a time: each sample is one message's journey
        browser.close()
    return latencies


def wait_ready(page, pub: zmq.Socket) -> None:  # type: ignore[no-untyped-def]
    """Publish probes until one reaches the page: a SUB socket misses what precedes its join."""
    for n in range(200):
        seen = page.evaluate("window.changes.length")
        pub.send_multipart(award("ralph", -1 - n))
        try:
            page.wait_for_function("(seen) => window.changes.length > seen", arg=seen,
                                   timeout=1000)
            return
        except Exception:  # noqa: BLE001 - Playwright's timeout: probe again
            continue
    raise SystemExit("no probe reached the page")


async def fan_out(base: str, build: Path, connections: int) -> tuple[list[float], int]:
    """Open *connections* streams on ralph's hub, replace its versions.json, and return the
    seconds from the replace to each stream's event, and how many streams were open."""
    versions = build / "ralph" / "versions.json"
    state = json.loads(versions.read_bytes())
    url = f"{base}/events?hub=ralph&since={state['seq']}"
    opened = asyncio.Event()
    ready = 0
    arrivals: list[float] = []
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def listen() -> None:
            nonlocal ready
            async with session.get(url) as response:
                response.raise_for_status()
                async for line in response.content:
                    if line.startswith(b"retry:"):
                        ready += 1
                        if ready == connections:
                            opened.set()
                    elif line.startswith(b"event: versions"):
                        arrivals.append(time.perf_counter())
                        return

        tasks = [asyncio.create_task(listen()) for _ in range(connections)]
        await asyncio.wait_for(opened.wait(), 120)
        state["seq"] += 1
        first = next(iter(state["widgets"]))
        state["widgets"][first] = f"bench{time.time_ns():x}"
        temporary = versions.with_name(".tmp-versions.json.bench")
        temporary.write_text(json.dumps(state))
        written = time.perf_counter()
        os.replace(temporary, versions)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    return [t - written for t in arrivals], ready


@dataclass
class LiveResult:
    dom_p50_ms: float
    dom_p95_ms: float
    samples: int
    streams_held: int
    connections: int
    fanout_p50_ms: float
    fanout_all_ms: float
    shim_idle_mb: float
    shim_peak_mb: float

    @staticmethod
    def table_header() -> str:
        return ("| publish→DOM p50 ms | p95 ms | streams held | fan-out p50 ms | fan-out all ms "
                "| shim RSS idle / peak MB |\n|---|---|---|---|---|---|")

    def table_row(self) -> str:
        return (f"| {self.dom_p50_ms:.1f} | {self.dom_p95_ms:.1f} | {self.streams_held:,} "
                f"| {self.fanout_p50_ms:.1f} | {self.fanout_all_ms:.1f} "
                f"| {self.shim_idle_mb:.0f} / {self.shim_peak_mb:.0f} |")

    def markdown(self) -> str:
        return (f"{self.table_header()}\n{self.table_row()}\n\n"
                f"{self.samples} badge awards one at a time, demo site, Chromium "
                f"{datetime.now(UTC):%Y-%m-%d}; {self.connections:,} streams through nginx.")


def run_live_bench(samples: int = 60, connections: int = 2000,
                   work: Path | None = None) -> LiveResult:
    """Build the demo site in a new directory under *work* (default: the temp directory),
    serve it through nginx, measure publish→DOM and fan-out, and remove the directory."""
    root = Path(tempfile.mkdtemp(prefix="hubsgen-live-bench-", dir=work))
    url = f"sqlite:///{root / 'hubs.db'}"
    build = root / "build"
    try:
        subprocess.run([str(BIN / "python"), str(ROOT / "populate.py"), "--db", url],
                       cwd=root, check=True, capture_output=True)
        subprocess.run([str(BIN / "hubsgen"), "build", "--db", url, "--out", str(build)],
                       cwd=root, check=True, capture_output=True)
        bus, shim = free_port(), free_port()
        context = zmq.Context()
        pub = context.socket(zmq.PUB)
        pub.bind(f"tcp://127.0.0.1:{bus}")
        try:
            with (process([str(BIN / "hubsgen"), "events", "--listen", f"127.0.0.1:{shim}",
                           "--out", str(build), "--max-per-address", str(connections + 10),
                           "--max-connections", str(connections + 10)], root,
                          root / "events.log") as events,
                  process([str(BIN / "hubsgen"), "watch", "--db", url, "--out", str(build),
                           "--source", "fedmsg", "--endpoint", f"tcp://127.0.0.1:{bus}"],
                          root, root / "watch.log"),
                  running_nginx(build, f"127.0.0.1:{shim}", root) as base):
                wait_listening(shim, events)
                latencies = publish_to_dom(base, build, pub, samples)
                with PeakMemory(events.pid) as memory:
                    idle_kb = rss_kb(events.pid)
                    arrivals, held = asyncio.run(fan_out(base, build, connections))
        finally:
            pub.close(linger=0)
            context.term()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return LiveResult(
        dom_p50_ms=statistics.median(latencies) * 1000,
        dom_p95_ms=percentile(latencies, 0.95) * 1000, samples=samples, streams_held=held,
        connections=connections, fanout_p50_ms=statistics.median(arrivals) * 1000,
        fanout_all_ms=max(arrivals) * 1000, shim_idle_mb=idle_kb / 1024,
        shim_peak_mb=memory.largest_kb / 1024)


@click.command()
@click.option("--samples", default=60, show_default=True, help="Publish-to-DOM samples.")
@click.option("--connections", default=2000, show_default=True, help="Event streams to hold.")
@click.option("--work", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Where to build the site (e.g. on tmpfs) [default: the temp directory].")
def main(samples: int, connections: int, work: Path | None) -> None:
    print(run_live_bench(samples, connections, work).markdown())


if __name__ == "__main__":
    main()
