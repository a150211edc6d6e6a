"""Benchmark `hubsgen watch` over fedmsg on loopback, on a synthetic population.

    .venv/bin/python bench/watch_bench.py [--users 10000] [--messages 1000] [--rate 50]
                                          [--burst 10000]

1. Latency: badge awards published at a steady rate, each for a random user; the time from
   publishing to that user's badges fragment being replaced (p50/p99).
2. Throughput: a burst published as fast as possible, with a realistic mix (most messages
   concern nobody with a hub, a fifth award badges); messages handled per second, from the
   first publish to the watcher's metrics counting the last one.
3. Peak memory (RSS) of the watcher over the whole run.
"""

from __future__ import annotations

import json
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
from datetime import UTC, datetime
from pathlib import Path

import click
import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procmem import PeakMemory  # noqa: E402 - a sibling script, not a package

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOPIC_PREFIX = "org.fedoraproject.prod."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def envelope(topic: str, body: dict, n: int) -> list[bytes]:
    """A fedmsg wire message: [topic, JSON envelope]."""
    full = TOPIC_PREFIX + topic
    doc = {"topic": full, "msg": body, "msg_id": f"bench-{n}-{random.getrandbits(48):x}",
           "timestamp": time.time(), "i": n, "username": "bench", "crypto": "x509"}
    return [full.encode(), json.dumps(doc).encode()]


def award(username: str, n: int) -> list[bytes]:
    badge = f"bench-badge-{n}"
    return envelope("fedbadges.badge.award", {
        "user": {"username": username},
        "badge": {"badge_id": badge, "name": f"Bench badge {n}", "description": "",
                  "image": f"https://badges.fedoraproject.org/pngs/{badge}.png"}}, n)


def unrelated_build(n: int) -> list[bytes]:
    return envelope("buildsys.build.state.change", {
        "owner": f"nobody{n % 97}", "name": f"pkg{n % 113}", "version": "1.0",
        "release": f"{n}.fc43", "epoch": None, "build_id": n, "instance": "primary",
        "old": 0, "new": 1}, n)


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


def received(metrics_url: str) -> float:
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    match = re.search(r"^hubsgen_messages_received_total (\S+)$", text, re.M)
    return float(match[1]) if match else 0.0


def wait_ready(pub: zmq.Socket, fragments: dict[str, Path]) -> None:
    """Publish probes until one lands: ZeroMQ drops what is sent before the subscriber joins."""
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
                return
            time.sleep(0.005)
    raise SystemExit("the watcher never received a probe")


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


def measure_throughput(pub: zmq.Socket, fragments: dict[str, Path], count: int,
                       metrics_url: str) -> float:
    rng = random.Random(11)
    users = sorted(fragments)
    base = received(metrics_url)
    start = time.perf_counter()
    for n in range(count):
        if n % 5 == 0:
            pub.send_multipart(award(rng.choice(users), 10_000_000 + n))
        else:
            pub.send_multipart(unrelated_build(n))
    deadline = time.monotonic() + 600
    while received(metrics_url) < base + count:
        if time.monotonic() > deadline:
            raise SystemExit("the burst was not handled within 10 minutes")
        time.sleep(0.05)
    return count / (time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@click.command()
@click.option("--users", default=10_000, show_default=True)
@click.option("--groups", default=50, show_default=True)
@click.option("--messages", default=1000, show_default=True, help="Latency sample size.")
@click.option("--rate", default=50.0, show_default=True, help="Messages per second.")
@click.option("--burst", default=10_000, show_default=True, help="Throughput burst size.")
def main(users: int, groups: int, messages: int, rate: float, burst: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="hubsgen-watch-bench-"))
    db = work / "bench.db"
    url = f"sqlite:///{db}"
    watch = None
    try:
        subprocess.run([str(BIN / "python"), str(ROOT / "populate.py"), "--db", url,
                        "--users", str(users), "--groups", str(groups), "--seed", "1"],
                       cwd=work, check=True, capture_output=True)
        subprocess.run([str(BIN / "hubsgen"), "build", "--db", url, "--jobs", "2"],
                       cwd=work, check=True, capture_output=True)
        fragments = badge_fragments(db, work / "build")
        port, metrics_port = free_port(), free_port()
        context = zmq.Context()
        pub = context.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)  # never drop: the burst is sent faster than handled
        pub.bind(f"tcp://127.0.0.1:{port}")
        log = (work / "watch.log").open("w")
        watch = subprocess.Popen(
            [str(BIN / "hubsgen"), "-v", "watch", "--db", url, "--source", "fedmsg",
             "--endpoint", f"tcp://127.0.0.1:{port}",
             "--metrics", f"127.0.0.1:{metrics_port}"],
            cwd=work, stdout=log, stderr=subprocess.STDOUT)
        with PeakMemory(watch.pid) as memory:
            wait_ready(pub, fragments)
            latencies = measure_latency(pub, fragments, messages, rate)
            throughput = measure_throughput(pub, fragments, burst,
                                            f"http://127.0.0.1:{metrics_port}/metrics")
        lost = messages - len(latencies)
        print("| users | latency p50 ms | latency p99 ms | lost | burst msg/s "
              "| watch peak RSS MB |")
        print("|---|---|---|---|---|---|")
        print(f"| {users:,} | {statistics.median(latencies) * 1000:.1f} "
              f"| {percentile(latencies, 0.99) * 1000:.1f} | {lost} | {throughput:.0f} "
              f"| {memory.largest_kb / 1024:.0f} |")
        print(f"\n{messages} awards at {rate:g}/s; burst of {burst:,} (1 in 5 an award); "
              f"{datetime.now(UTC):%Y-%m-%d}.")
        pub.close(linger=0)
        context.term()
    finally:
        if watch is not None:
            watch.terminate()
            watch.wait(timeout=60)
            if watch.returncode not in (0, -15):
                print((work / "watch.log").read_text()[-5000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
