"""CPU per message of the ingest path, stage by stage: from the bytes a source receives (an
AMQP delivery, a fedmsg frame) to the Event the door admits.

    .venv/bin/python bench/ingest_bench.py                     # this tree
    .venv/bin/python bench/ingest_bench.py --against main      # and a git revision, interleaved
    .venv/bin/python bench/ingest_bench.py --profile understand --mix corpus

Two mixes: ``bus`` (bench/bus_mix.py: the watch benchmarks' Koji builds, badge awards and
meeting minutes) and ``corpus`` (the 448 recorded messages of tests/messages/, ~45 services).
Each round runs one stage over the whole mix; a stage's figure is the median over rounds of
its CPU time divided by the messages. With ``--against`` each round of this tree alternates
with one of the other revision (exported to a temporary directory), each in its own process,
so both see the same machine load.

Measured on 7 Dec 2026 against 6c9060a (--alternations 3 --rounds 2, 2 shared cores, load
7-9), CPU µs per message, bus mix / corpus, before -> after: AMQP parse 2002 -> 101 /
2471 -> 125; door 480 -> 203 / 588 -> 264; AMQP total 2800 -> 481 / 3304 -> 579; fedmsg total
580 -> 258 / 674 -> 385.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib.util
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
STAGES = ("amqp parse", "fedmsg parse", "check", "understand", "  schemas", "  legacy",
          "  fallback", "admit", "amqp total", "fedmsg total")
"""``parse``: bytes to RawMessage (decode, envelope, schema validation on AMQP); ``check``: the
door's id/topic/time/body checks; ``understand``: names and feed line (``schemas``, ``legacy``,
``fallback`` its readers); ``admit``: the whole door (check, understand, names, readers);
``total``: parse and admit."""


def bus_mix(count: int) -> list[dict[str, Any]]:
    """*count* envelopes of the watch benchmarks' mix, the same ones on every run."""
    sys.path.insert(0, str(HERE))
    from bus_mix import Mix  # a sibling script, not a package

    random.seed(7)
    users = [f"user{n}" for n in range(200)]
    teams = {f"team{n}": users[n * 20:(n + 1) * 20] for n in range(10)}
    mix = Mix(users, teams, seed=7)
    return [json.loads(mix.message(n)[1]) for n in range(count)]


def recorded() -> Any:
    """tests/messages/outcomes.py of this file's tree, whichever tree's modules it measures:
    how the messages are put on the wire stays the same."""
    path = TREE / "tests" / "messages" / "outcomes.py"
    spec = importlib.util.spec_from_file_location("ingest_outcomes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus() -> list[dict[str, Any]]:
    return [envelope for _, envelope in recorded().envelopes()]


def stages(envelopes: list[dict[str, Any]]) -> dict[str, Callable[[], object]]:
    """One callable per stage, each running it over every message of *envelopes*."""
    from hubs.admission import Door, Refused, check_raw
    from hubs.events import RawMessage
    from hubs.plugins import load_widgets
    from hubs.understand import fallback, legacy, schemas, understand
    from hubsgen.watch.sources.amqp import parse_delivery
    from hubsgen.watch.sources.fedmsg import parse_frames
    from tests.messages.accuracy import corpus_directory

    wire = recorded()
    directory = corpus_directory()
    now = datetime.now(UTC) + timedelta(days=1)  # after every message, the bus mix's too
    door = Door(load_widgets().readers(), directory, clock=lambda: now)
    frames = [wire.fedmsg_frames(e) for e in envelopes]
    deliveries = [published(wire.amqp_delivery(e)) for e in envelopes]
    raws = [r for r in (parse_frames(f, "tcp://bench") for f in frames)
            if isinstance(r, RawMessage)]

    def admitted(parsed: object) -> None:
        if isinstance(parsed, RawMessage):
            with contextlib.suppress(Refused):
                door.admit(parsed)

    def checked(raw: RawMessage) -> None:
        with contextlib.suppress(Refused):
            check_raw(raw, now)

    def each(function: Callable[[Any], object], items: Sequence[Any]) -> Callable[[], None]:
        def run() -> None:
            for item in items:
                function(item)
        return run

    return {
        "amqp parse": each(lambda d: parse_delivery(*d), deliveries),
        "fedmsg parse": each(lambda f: parse_frames(f, "tcp://bench"), frames),
        "check": each(checked, raws),
        "understand": each(lambda r: understand(r, directory), raws),
        "  schemas": each(schemas.read, raws),
        "  legacy": each(lambda r: legacy.read(r, directory), raws),
        "  fallback": each(lambda r: fallback.read(r, directory), raws),
        "admit": each(admitted, raws),
        "amqp total": each(lambda d: admitted(parse_delivery(*d)), deliveries),
        "fedmsg total": each(lambda f: admitted(parse_frames(f, "tcp://bench")), frames),
    }


def published(delivery: tuple[str, Any, bytes]) -> tuple[str, Any, bytes]:
    """*delivery* naming the schema class a publisher of its topic would have used: the first
    whose validation accepts its body, so the AMQP figures include real schema validation."""
    from fedora_messaging.message import get_name

    from hubs.understand.schemas import topic_index
    from hubs.understand.topics import strip_prefix

    routing_key, properties, body = delivery
    for cls in topic_index().get(strip_prefix(routing_key), ()):
        try:
            cls(body=json.loads(body), topic=routing_key).validate()
        except Exception:  # noqa: BLE001, S112 - not this class; try the next
            continue
        properties.headers["fedora_messaging_schema"] = get_name(cls)
        break
    return routing_key, properties, body


def envelopes_of(mix: str, count: int) -> list[dict[str, Any]]:
    return bus_mix(count) if mix == "bus" else corpus()


def worker(mix: str, count: int, rounds: int) -> None:
    """Print, as JSON, each stage's µs per message in each of *rounds* rounds."""
    envelopes = envelopes_of(mix, count)
    runs = stages(envelopes)
    for run in runs.values():
        run()  # loads processors and schema classes, fills caches
    samples: dict[str, list[float]] = {stage: [] for stage in runs}
    for _ in range(rounds):
        for stage, run in runs.items():
            started = time.process_time_ns()
            run()
            samples[stage].append((time.process_time_ns() - started) / 1000 / len(envelopes))
    print(json.dumps(samples))


def measure(tree: Path, mix: str, count: int, rounds: int) -> dict[str, list[float]]:
    """Run a worker on *tree*'s code (this file, that tree's modules)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, __file__, "--worker", "--mix", mix, "--count",
                           str(count), "--rounds", str(rounds)], cwd=tree, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measuring {tree} failed:\n{done.stderr}")
    samples: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return samples


def export(revision: str, into: Path) -> Path:
    """*revision*'s files, as ``git archive`` gives them, under *into*."""
    archive = subprocess.run(["git", "-C", str(TREE), "archive", revision], check=True,
                             capture_output=True).stdout
    with tempfile.TemporaryFile() as f:
        f.write(archive)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(into, filter="data")
    return into


def compare(against: str | None, mix: str, count: int, alternations: int,
            rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        trees = {"this tree": TREE}
        if against:
            trees = {against: export(against, Path(tmp)), **trees}
        samples: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
        for _ in range(alternations):
            for name, tree in trees.items():
                for stage, values in measure(tree, mix, count, rounds).items():
                    samples[name].setdefault(stage, []).extend(values)
    runs = alternations * rounds
    print(f"{mix} mix, {count if mix == 'bus' else 'all'} messages, median of {runs} rounds, "
          "CPU µs per message")
    print(f"{'stage':16}" + "".join(f"{name:>14}" for name in trees))
    for stage in STAGES:
        row = [statistics.median(samples[name][stage]) for name in trees]
        print(f"{stage:16}" + "".join(f"{value:14.1f}" for value in row))
    total = statistics.median(samples["this tree"]["fedmsg total"])
    print(f"one process: ~{1e6 / total:,.0f} fedmsg messages/s of CPU for ingest alone")


def profile(stage: str, mix: str, count: int) -> None:
    sys.path.insert(0, str(TREE))  # this tree's tests.messages
    runs = stages(envelopes_of(mix, count))
    runs[stage]()
    profiler = cProfile.Profile()
    profiler.runcall(runs[stage])
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mix", choices=("bus", "corpus"), default=None,
                        help="one mix (default: both)")
    parser.add_argument("--count", type=int, default=1000, help="bus mix messages per round")
    parser.add_argument("--against", metavar="REV", help="also measure this git revision")
    parser.add_argument("--alternations", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per process")
    parser.add_argument("--profile", metavar="STAGE", choices=STAGES,
                        help="print cProfile's cumulative top 30 for one stage instead")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.mix, args.count, args.rounds)
    elif args.profile:
        profile(args.profile, args.mix or "corpus", args.count)
    else:
        for mix in [args.mix] if args.mix else ["bus", "corpus"]:
            compare(args.against, mix, args.count, args.alternations, args.rounds)


if __name__ == "__main__":
    main()
