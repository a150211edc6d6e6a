"""Throughput of `hubsgen watch` on the source production runs: a RabbitMQ queue loaded with the
bus mix before the watcher starts, drained by one worker or by two `--shard` workers.

    .venv/bin/python bench/amqp_bench.py [--users 1000] [--messages 5000] [--profile]

1. The site: the realistic store (bench/store.py) of --users, built once, copied to SQLite and
   to a private schema on PostgreSQL.
2. For each setup (one worker on SQLite, one on PostgreSQL, two `--shard I/2` workers on
   PostgreSQL): declare the workers' queues in a private RabbitMQ virtual host, publish
   --messages of the bus mix (bus_mix.py) as fedora-messaging does, each with its schema class
   and today's body shape, then start the workers and time until every queue is drained, each
   worker's backlog is empty and the last file is written. Start-up (imports, the hint index)
   is timed apart, up to the first message received.
3. Schema validation: fedora-messaging's `get_message` validates each delivery with
   `Message.validate()`, which checks the schema itself against its metaschema every time. Its
   cost per message is timed in-process for each kind of the mix, and --profile runs one
   worker under cProfile to show its share of the watcher's time.
"""

from __future__ import annotations

import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pika
from fedora_messaging.message import Message, get_message
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Sibling scripts, not a package; the project's test helpers for a private vhost and schema.
from bus_mix import MIX, TOPIC_PREFIX, Mix, team_attendees  # noqa: E402
from current import make_current  # noqa: E402
from store import StoreSpec, copy_store, write_store  # noqa: E402
from watch_bench import badge_fragments, free_port, scrape  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hubs.understand.schemas import topic_index  # noqa: E402
from tests.conftest import PG_URL  # noqa: E402
from tests.integration.rabbitmq import private_vhost  # noqa: E402

BIN = Path(sys.executable).parent
DRAIN_TIMEOUT = 3600.0
SETUPS = (("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2))


@dataclass
class Drain:
    """One setup's run: its workers draining a pre-loaded queue each."""

    database: str
    workers: int
    messages: int
    startup: float
    """Seconds from starting the workers until the first had received a message."""
    seconds: float
    """From then until every queue was empty, every backlog too, and the last file written."""
    matched: int
    quarantined: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def today_body(topic: str, body: dict[str, Any], n: int) -> dict[str, Any]:
    """*body* as today's publisher of *topic* sends it, so its schema class accepts it: the
    fedmsg-era shapes bus_mix.py sends lack fields today's Koji and meetbot schemas require."""
    now = datetime.now(UTC)
    if topic == "buildsys.build.state.change":
        return body | {
            "attribute": "state", "task_id": 90_000_000 + n, "request": [
                f"git+https://src.fedoraproject.org/rpms/{body['name']}.git#{n:040x}",
                "f43-candidate", {}],
            "task": {"id": 90_000_000 + n, "method": "build", "host_id": None,
                     "arch": "noarch", "result": None},
            "url": f"https://koji.fedoraproject.org/koji/buildinfo?buildID={body['build_id']}",
            "creation_time": (now - timedelta(minutes=20)).isoformat(),
            "completion_time": now.isoformat()}
    if topic == "meetbot.meeting.complete":
        return {"start_time": (now - timedelta(hours=1)).isoformat(), "start_user": body["owner"],
                "end_time": now.isoformat(), "end_user": body["owner"],
                "location": body["channel"], "meeting_name": body["meeting_topic"],
                "url": body["url"], "chairs": body["chairs"],
                "logs": [{"log_type": "minutes", "log_url": f"{body['url']}.html"},
                         {"log_type": "log", "log_url": f"{body['url']}.log.html"}],
                "attendees": [{"name": name, "lines_said": said}
                              for name, said in body["attendees"].items()]}
    return body


def fedora_message(topic: str, body: dict[str, Any]) -> Message:
    """A message of *topic*'s newest installed schema class (the base class if none), as its
    service would publish it."""
    classes = topic_index().get(topic, ())
    cls = classes[0] if classes else Message
    return cls(topic=TOPIC_PREFIX + topic, body=body)


def mix_messages(mix: Mix, count: int) -> list[Message]:
    messages = []
    for n in range(count):
        topic, body = mix.body(n)
        messages.append(fedora_message(topic, today_body(topic, body, n)))
    return messages


def publish(url: str, messages: list[Message]) -> None:
    """Publish as fedora_messaging.api.publish does (its routing key, properties and encoded
    body), on one connection with publisher confirms, without validating each again."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for message in messages:
            channel.basic_publish("amq.topic", message._encoded_routing_key,
                                  message._encoded_body, message._properties)
    finally:
        connection.close()


def ready(url: str, queues: list[str]) -> dict[str, int]:
    """Messages ready in each of *queues*."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        return {q: channel.queue_declare(q, passive=True).method.message_count for q in queues}
    finally:
        connection.close()


def validation_ms(mix: Mix) -> dict[str, float]:
    """Milliseconds `get_message` takes per delivery (parse and validate), by kind of the mix."""
    costs = {}
    for n, kind in enumerate(MIX):
        number = next(i for i in range(n, 10_000) if mix.kind(i) == kind)
        topic, body = mix.body(number)
        message = fedora_message(topic, today_body(topic, body, number))
        get_message(message._encoded_routing_key, message._properties, message._encoded_body)
        rounds = 20
        started = time.perf_counter()
        for _ in range(rounds):
            get_message(message._encoded_routing_key, message._properties,
                        message._encoded_body)
        costs[f"{kind} ({type(message).__name__})"] = (
            (time.perf_counter() - started) / rounds * 1000)
    return costs


@contextmanager
def postgres_copy(spec: StoreSpec) -> Iterator[str]:
    """The realistic store of *spec* in a private schema of the running PostgreSQL, dropped
    afterwards; its URL."""
    schema = f"bench_{os.getpid()}_{int(time.time())}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
        write_store(url, spec)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def hubsgen(*args: str, cwd: Path) -> None:
    subprocess.run([str(BIN / "hubsgen"), *args], cwd=cwd, check=True, capture_output=True)


def drain(amqp_url: str, db_url: str, database: str, out: Path, messages: list[Message],
          workers: int, work: Path, profile: Path | None = None) -> Drain:
    """Load the queues of *workers* shards with *messages*, then time the workers draining
    them into *out* (built beforehand)."""
    shards = [[] if workers == 1 else ["--shard", f"{i}/{workers}"] for i in range(workers)]
    for shard in shards:
        hubsgen("watch", "--source", amqp_url, "--declare-only", *shard, cwd=work)
    queues = ["hubsgen"] if workers == 1 else [f"hubsgen-shard{i}of{workers}"
                                               for i in range(workers)]
    publish(amqp_url, messages)
    if ready(amqp_url, queues) != dict.fromkeys(queues, len(messages)):
        raise SystemExit(f"the queues did not hold the {len(messages)} messages published: "
                         f"{ready(amqp_url, queues)}")
    ports = [free_port() for _ in shards]
    with ExitStack() as stack:
        started = time.time()
        for n, (shard, port) in enumerate(zip(shards, ports, strict=True)):
            profiler = ([sys.executable, "-m", "cProfile", "-o", str(profile)]
                        if profile else [])
            log = stack.enter_context((work / f"watch-{n}.log").open("w"))
            process = subprocess.Popen(
                [*profiler, str(BIN / "hubsgen"), "-v", "watch", "--source", amqp_url,
                 "--db", db_url, "--out", str(out), "--metrics", f"127.0.0.1:{port}", *shard],
                cwd=work, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(stop, process, work / f"watch-{n}.log")
        first = wait_metrics(ports, lambda m: m.get("hubsgen_messages_received_total", 0) > 0)
        wait_metrics(ports, lambda m: (m.get("hubsgen_messages_received_total", 0)
                                       >= len(messages)
                                       and m.get("hubsgen_backlog_messages", 1) == 0), all)
        if any(ready(amqp_url, queues).values()):
            raise SystemExit("the watchers said they were done with messages still queued")
        done = time.time()
        metrics = [scrape(f"http://127.0.0.1:{port}/metrics") for port in ports]
    last_write = max((p.stat().st_mtime for p in out.rglob("*") if p.is_file()),
                     default=started)
    return Drain(database, workers, len(messages), first - started,
                 max(done, last_write) - first,
                 round(sum(m.get("hubsgen_messages_matched_total", 0) for m in metrics)),
                 round(sum(m.get("hubsgen_messages_quarantined_total", 0) for m in metrics)))


def wait_metrics(ports: list[int], ok: Any, which: Any = any) -> float:
    """When (time.time) *which* of the workers' metrics first satisfied *ok*."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        answers = []
        for port in ports:
            try:
                answers.append(ok(scrape(f"http://127.0.0.1:{port}/metrics")))
            except OSError:
                answers.append(False)  # not serving yet
        if which(answers):
            return time.time()
        time.sleep(0.05)
    raise SystemExit(f"the watchers were not done within {DRAIN_TIMEOUT:.0f} s")


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    process.terminate()
    process.wait(timeout=120)
    if process.returncode not in (0, -15):
        print(log.read_text()[-5000:], file=sys.stderr)


def validation_share(profile: Path, messages: int) -> tuple[float, float]:
    """From a watcher's profile: ms per message in `Message.validate`, and its share of the
    watcher's run."""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    validate = run = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        if name == "validate" and filename.endswith("fedora_messaging/message.py"):
            validate = max(validate, cumulative)
        if name == "run" and "hubsgen/watch/" in filename:  # the watcher's loop
            run = max(run, cumulative)
    if not run:
        raise SystemExit(f"{profile} holds no run of the watcher: did it stop cleanly?")
    return validate / messages * 1000, validate / run


@dataclass
class AmqpResult:
    users: int
    drains: list[Drain]
    validation_ms: dict[str, float]
    profiled_ms: float | None
    profiled_share: float | None

    def markdown(self) -> str:
        lines = ["| database | workers | messages | start-up s | drain s | msg/s | matched | "
                 "quarantined |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {d.database} | {d.workers} | {d.messages:,} | {d.startup:.1f} | "
                  f"{d.seconds:.1f} | {d.rate:.0f} | {d.matched:,} | {d.quarantined:,} |"
                  for d in self.drains]
        lines += ["", "| message (schema class) | fedora-messaging get_message ms |",
                  "|---|---|"]
        lines += [f"| {kind} | {ms:.1f} |" for kind, ms in self.validation_ms.items()]
        if self.profiled_ms is not None and self.profiled_share is not None:
            lines += ["", f"Under cProfile, `Message.validate` took {self.profiled_ms:.1f} ms "
                          f"per message, {self.profiled_share:.0%} of the watcher's time."]
        return "\n".join(lines)


def run_amqp_bench(spec: StoreSpec, messages: int, profile: bool = False,
                   work: Path | None = None) -> AmqpResult:
    """Every setup on the realistic store of *spec*, in a new directory under *work*."""
    root = Path(tempfile.mkdtemp(prefix="hubsgen-amqp-bench-", dir=work))
    try:
        sqlite_url = copy_store(spec, root / "hubs.db")
        mix = Mix(list(badge_fragments(root / "hubs.db", root)), team_attendees(root / "hubs.db"),
                  seed=11)
        costs = validation_ms(mix)
        drains, profiled = [], None
        with ExitStack() as stack:
            pg_url = stack.enter_context(postgres_copy(spec))
            urls = {"SQLite": sqlite_url, "PostgreSQL": pg_url}
            for database, url in urls.items():  # once each; every setup starts from a copy
                make_current(url)
                hubsgen("build", "--db", url, "--out", str(root / f"built-{database}"),
                        "--jobs", "2", cwd=root)
            for database, workers in [*SETUPS, *[("SQLite", 0)] * profile]:
                amqp_url = stack.enter_context(private_vhost())
                out = root / f"build-{database}-{workers}"
                shutil.copytree(root / f"built-{database}", out)
                batch = mix_messages(mix, messages)  # fresh ids: the store keeps each once
                if workers:
                    drains.append(drain(amqp_url, urls[database], database, out, batch,
                                        workers, root))
                else:
                    drain(amqp_url, urls[database], database, out, batch, 1, root,
                          profile=root / "watch.prof")
                    profiled = validation_share(root / "watch.prof", messages)
                shutil.rmtree(out)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return AmqpResult(spec.users, drains, costs, *(profiled or (None, None)))


@click.command()
@click.option("--users", default=1000, show_default=True)
@click.option("--messages", default=5000, show_default=True,
              help="Messages of the mix loaded into each queue.")
@click.option("--profile", is_flag=True,
              help="Also drain the queue once with the worker under cProfile.")
@click.option("--work", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Where to work (e.g. on tmpfs) [default: the temp directory].")
def main(users: int, messages: int, profile: bool, work: Path | None) -> None:
    result = run_amqp_bench(StoreSpec(users, max(1, users // 10)), messages, profile, work)
    click.echo(result.markdown())


if __name__ == "__main__":
    main()
