"""Benchmark `hubsgen watch` over fedmsg on loopback, on a synthetic population.

    .venv/bin/python bench/watch_bench.py [--users 10000] [--messages 1000] [--rate 50]
        [--sustained-rate 1000] [--sustained-seconds 10] [--burst 10000] [--work DIR]

1. Latency: badge awards published at a steady rate, each for a random user; the time from
   publishing to that user's badges fragment being replaced (p50/p99).
2. Sustained: the realistic mix (below) published at a steady rate for some seconds; messages
   handled per second, and whether the watcher kept up (done within 1 s of the last publish).
3. Burst: the mix published as fast as possible; messages handled per second, and how many of
   them refreshed at least one widget.
4. Peak memory (RSS) of the watcher over the whole run.

The mix (bus_mix.py), per 1,000 messages in a fixed shuffled order: 850 Koji builds by nobody
with a hub, 145 badge awards (one user hub each) and 5 meeting minutes (up to 20 attendees,
members of one team, each with a user hub; the team is in the minutes' URL). A message counts as
handled once the watcher's metrics have received it and its backlog is empty.
"""

from __future__ import annotations

import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Sibling scripts, not a package.
from bus_mix import MIX_TEXT, Mix, award, team_attendees  # noqa: E402
from current import make_current  # noqa: E402
from procmem import PeakMemory  # noqa: E402
from store import StoreSpec, copy_store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEPT_UP_WITHIN = 1.0
"""Seconds after the last publish by which a sustained run must be handled to keep up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def badge_fragments(db: Path, out: Path) -> dict[str, Path]:
    """Each user's badges fragment file, for the users whose hub shows badges."""
    rows = sqlite3.connect(db).execute(
        "SELECT h.name, w.id FROM widgets w JOIN hubs h ON h.id = w.hub_id "
        "WHERE w.plugin = 'badges' AND h.user_hub").fetchall()
    return {name: out / name / "widgets" / f"{wid}.json" for name, wid in rows}


def changed(path: Path, before: tuple[int, int]) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    return (st.st_ino, st.st_mtime_ns) != before


def signature(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def scrape(metrics_url: str) -> dict[str, float]:
    """The watcher's unlabelled metrics, by name."""
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\w+) (\S+)$", text, re.M)}


def wait_handled(metrics_url: str, received: float, poll: float = 0.02) -> float:
    """Wait until the watcher has received *received* messages in all and has no backlog;
    return when (perf_counter). Received counts a batch before handling it, hence backlog."""
    deadline = time.monotonic() + 600
    while True:
        metrics = scrape(metrics_url)
        if (metrics.get("hubsgen_messages_received_total", 0) >= received
                and metrics.get("hubsgen_backlog_messages", 0) == 0):
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise RuntimeError("the watcher did not handle the messages within 10 minutes")
        time.sleep(poll)


def wait_ready(pub: zmq.Socket, fragments: dict[str, Path], metrics_url: str) -> None:
    """Publish probes until one lands (ZeroMQ drops what is sent before the subscriber
    joins), then wait for the day turn it may start: a store whose newest message is days old
    moves the data clock to today, and every daily widget is turned, slice by slice."""
    user, path = next(iter(fragments.items()))
    deadline = time.monotonic() + 120
    n = 0
    while time.monotonic() < deadline:
        before = signature(path)
        n += 1
        pub.send_multipart(award(user, -n))
        probe_deadline = time.monotonic() + 1.0
        while time.monotonic() < probe_deadline:
            if changed(path, before):
                wait_turned(metrics_url)
                return
            time.sleep(0.005)
    raise RuntimeError("the watcher never received a probe")


def wait_turned(metrics_url: str) -> None:
    """Wait until every daily widget shows today (UTC), the probes' day; a release that does
    not say which day they show is not waited for."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    deadline = time.monotonic() + 1800
    while scrape(metrics_url).get("hubsgen_daily_widgets_day_seconds", today) < today:
        if time.monotonic() > deadline:
            raise RuntimeError("the watcher did not turn the day within 30 minutes")
        time.sleep(0.5)


def measure_latency(pub: zmq.Socket, fragments: dict[str, Path], count: int,
                    rate: float) -> list[float]:
    """Publish *count* awards at *rate* per second; seconds from publish to file replaced."""
    rng = random.Random(7)
    users = sorted(fragments)
    latencies: list[float] = []
    pending: dict[int, tuple[Path, tuple[int, int], float]] = {}
    lock = threading.Lock()
    done = threading.Event()

    def poll() -> None:
        while not done.is_set() or pending:
            now = time.perf_counter()
            with lock:
                for n, (path, before, sent) in list(pending.items()):
                    if changed(path, before):
                        latencies.append(now - sent)
                        del pending[n]
                    elif now - sent > 30:
                        del pending[n]  # lost: counted as missing below
            time.sleep(0.0005)

    poller = threading.Thread(target=poll)
    poller.start()
    interval = 1.0 / rate
    start = time.perf_counter()
    for n in range(count):
        user = rng.choice(users)
        while True:  # one pending message per file, so each change is attributable
            with lock:
                busy = any(p == fragments[user] for p, _, _ in pending.values())
            if not busy:
                break
            user = rng.choice(users)
        target = start + n * interval
        time.sleep(max(0.0, target - time.perf_counter()))
        path = fragments[user]
        with lock:
            pending[n] = (path, signature(path), time.perf_counter())
        pub.send_multipart(award(user, n))
    done.set()
    poller.join()
    return latencies


def publish(pub: zmq.Socket, messages: Iterable[list[bytes]],
            rate: float | None) -> tuple[float, float]:
    """Send *messages* at *rate* per second (None: as fast as possible); first and last send."""
    first = last = time.perf_counter()
    for n, message in enumerate(messages):
        if rate is not None:
            time.sleep(max(0.0, first + n / rate - time.perf_counter()))
        pub.send_multipart(message)
        last = time.perf_counter()
    return first, last


def measure_sustained(pub: zmq.Socket, mix: Mix, rate: float, seconds: float,
                      metrics_url: str) -> tuple[float, bool]:
    """Messages handled per second at a paced *rate*, and whether the watcher kept up."""
    count = int(rate * seconds)
    base = scrape(metrics_url).get("hubsgen_messages_received_total", 0)
    messages = (mix.message(1_000_000 + n) for n in range(count))  # lazy: fresh timestamps
    first, last = publish(pub, messages, rate)
    done = wait_handled(metrics_url, base + count)
    return count / (done - first), done - last <= KEPT_UP_WITHIN


def measure_burst(pub: zmq.Socket, mix: Mix, count: int,
                  metrics_url: str) -> tuple[float, int, int]:
    """Messages handled per second when *count* arrive at once; how many refreshed a widget,
    and how many concern someone with a hub (what the first should reach)."""
    numbers = range(2_000_000, 2_000_000 + count)
    messages = [mix.message(n) for n in numbers]  # built first: time the watcher, not us
    before = scrape(metrics_url)
    first, _ = publish(pub, messages, None)
    done = wait_handled(metrics_url, before.get("hubsgen_messages_received_total", 0) + count)
    matched = scrape(metrics_url)["hubsgen_messages_matched_total"]
    return (count / (done - first), round(matched - before["hubsgen_messages_matched_total"]),
            mix.concerning(numbers))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class WatchResult:
    users: int
    latency_p50_ms: float
    latency_p99_ms: float
    latency_samples: int
    latency_rate: float
    lost: int
    sustained_offered: float
    sustained_handled: float
    sustained_kept_up: bool
    sustained_seconds: float
    burst_size: int
    burst_rate: float
    burst_matched: int
    burst_concerning: int
    peak_rss_mb: float
    mix: str = MIX_TEXT

    @staticmethod
    def table_header() -> str:
        return ("| users | latency p50 ms | p99 ms | lost | sustained offered → handled msg/s "
                "| kept up | burst msg/s | burst matched | watch peak RSS MB |\n"
                "|---|---|---|---|---|---|---|---|---|")

    def table_row(self) -> str:
        return (f"| {self.users:,} | {self.latency_p50_ms:.1f} | {self.latency_p99_ms:.1f} "
                f"| {self.lost} | {self.sustained_offered:.0f} → {self.sustained_handled:.0f} "
                f"| {'yes' if self.sustained_kept_up else 'no'} | {self.burst_rate:.0f} "
                f"| {self.burst_matched:,} / {self.burst_concerning:,} "
                f"| {self.peak_rss_mb:.0f} |")

    def markdown(self) -> str:
        return (f"{self.table_header()}\n{self.table_row()}\n\n"
                f"{self.latency_samples} awards at {self.latency_rate:g}/s; sustained "
                f"{self.sustained_offered:g}/s for {self.sustained_seconds:g} s, then a burst "
                f"of {self.burst_size:,}, both {self.mix}; {datetime.now(UTC):%Y-%m-%d}.")


def build_site(work: Path, users: int, groups: int, store: StoreSpec | None = None) -> str:
    """Populate a synthetic database in *work* (a copy of *store*, if given) and build its
    site there; the database URL."""
    if store is not None:
        url = copy_store(store, work / "bench.db")
    else:
        url = f"sqlite:///{work / 'bench.db'}"
        subprocess.run([str(BIN / "python"), str(ROOT / "populate.py"), "--db", url,
                        "--users", str(users), "--groups", str(groups), "--seed", "1"],
                       cwd=work, check=True, capture_output=True)
    make_current(url)
    subprocess.run([str(BIN / "hubsgen"), "build", "--db", url, "--jobs", "2"],
                   cwd=work, check=True, capture_output=True)
    return url


@contextmanager
def watching(work: Path, url: str) -> Iterator[tuple[zmq.Socket, str, int]]:
    """Run `hubsgen watch` on a loopback bus; yield the bus, the metrics URL and its pid."""
    port, metrics_port = free_port(), free_port()
    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)  # never drop: the burst is sent faster than handled
    pub.bind(f"tcp://127.0.0.1:{port}")
    log = work / "watch.log"
    with log.open("w") as out:
        watch = subprocess.Popen(
            [str(BIN / "hubsgen"), "-v", "watch", "--db", url, "--source", "fedmsg",
             "--endpoint", f"tcp://127.0.0.1:{port}",
             "--metrics", f"127.0.0.1:{metrics_port}"],
            cwd=work, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield pub, f"http://127.0.0.1:{metrics_port}/metrics", watch.pid
    finally:
        watch.terminate()
        watch.wait(timeout=60)
        pub.close(linger=0)
        context.term()
        if watch.returncode not in (0, -15):
            print(log.read_text()[-5000:], file=sys.stderr)


def run_watch_bench(users: int, groups: int = 50, messages: int = 1000, rate: float = 50.0,
                    sustained_rate: float = 1000.0, sustained_seconds: float = 10.0,
                    burst: int = 10_000, work: Path | None = None,
                    store: StoreSpec | None = None) -> WatchResult:
    """Build a synthetic site of *users* (on *store*, if given, else populate.py's) in a new
    directory under *work* (default: the temp directory), run every measurement against one
    watcher, and remove the directory."""
    root = Path(tempfile.mkdtemp(prefix="hubsgen-watch-bench-", dir=work))
    try:
        url = build_site(root, users, groups, store)
        fragments = badge_fragments(root / "bench.db", root / "build")
        mix = Mix(list(fragments), team_attendees(root / "bench.db"), seed=11)
        with watching(root, url) as (pub, metrics_url, pid), PeakMemory(pid) as memory:
            wait_ready(pub, fragments, metrics_url)
            latencies = measure_latency(pub, fragments, messages, rate)
            handled, kept_up = measure_sustained(pub, mix, sustained_rate, sustained_seconds,
                                                 metrics_url)
            burst_rate, matched, concerning = measure_burst(pub, mix, burst, metrics_url)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return WatchResult(
        users=users, latency_p50_ms=statistics.median(latencies) * 1000,
        latency_p99_ms=percentile(latencies, 0.99) * 1000, latency_samples=messages,
        latency_rate=rate, lost=messages - len(latencies), sustained_offered=sustained_rate,
        sustained_handled=handled, sustained_kept_up=kept_up,
        sustained_seconds=sustained_seconds, burst_size=burst, burst_rate=burst_rate,
        burst_matched=matched, burst_concerning=concerning,
        peak_rss_mb=memory.largest_kb / 1024)


@click.command()
@click.option("--users", default=10_000, show_default=True)
@click.option("--groups", default=50, show_default=True)
@click.option("--messages", default=1000, show_default=True, help="Latency sample size.")
@click.option("--rate", default=50.0, show_default=True, help="Latency: messages per second.")
@click.option("--sustained-rate", default=1000.0, show_default=True,
              help="Sustained: messages per second.")
@click.option("--sustained-seconds", default=10.0, show_default=True)
@click.option("--burst", default=10_000, show_default=True, help="Throughput burst size.")
@click.option("--work", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Where to build the site (e.g. on tmpfs) [default: the temp directory].")
@click.option("--realistic-store", is_flag=True,
              help="Build on bench/store.py's store (100 messages per user over 400 days) "
                   "instead of populate.py's.")
def main(users: int, groups: int, messages: int, rate: float, sustained_rate: float,
         sustained_seconds: float, burst: int, work: Path | None, realistic_store: bool) -> None:
    store = StoreSpec(users, groups) if realistic_store else None
    print(run_watch_bench(users, groups, messages, rate, sustained_rate, sustained_seconds,
                          burst, work, store).markdown())


if __name__ == "__main__":
    main()
