"""Nothing a message holds stops hubsgen watch: 10,000 generated messages through each source.

About half are malformed in one of the kinds of ``tests.fuzzbus`` (bad UTF-8, nesting, wrong
types and missing fields where widgets read, huge bodies, surrogates, control characters, ...),
the rest valid (with redeliveries and unknown topics). The watcher must keep running, quarantine
exactly the malformed ones, store the rest, and leave a database that builds with no widget
failing.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path

import pika
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubs.models import Message, QuarantinedMessage
from hubs.plugins import load_widgets
from hubs.testing import add_hub, make_engine
from tests.fuzzbus import PEOPLE, Generated, amqp_headers, replay_line, traffic
from tests.integration.daemon import HUBSGEN, broker, watching
from tests.timing import wait_until

COUNT = 10_000


def fuzz_site(root: Path) -> tuple[str, list[str]]:
    """Every built-in widget on each person's hub and on designteam's, built; the database
    URL and the --db/--out arguments."""
    db_url = f"sqlite:///{root / 'hubs.db'}"
    engine = make_engine(db_url)
    every = load_widgets().widgets
    configs = {name: {"text": "Hi"} if name == "sticky" else {} for name in sorted(every)}
    with Session(engine) as session:
        for person in PEOPLE:
            add_hub(session, person, user_hub=True, widgets=list(configs.items()))
        add_hub(session, "designteam", members={"owner": ["duffy"], "member": ["ralph"]},
                widgets=[(name, {**config, "username": "ralph"}
                          if "username" in every[name].argument_names else config)
                         for name, config in configs.items()])
        session.commit()
    engine.dispose()
    args = ["--db", db_url, "--out", str(root / "build")]
    build(args)
    return db_url, args


def build(args: Sequence[str], *extra: str) -> str:
    done = subprocess.run([str(HUBSGEN), "build", *args, *extra], capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def counts(db_url: str) -> tuple[int, int]:
    """(messages stored, messages quarantined)."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return (session.scalar(select(func.count()).select_from(Message)) or 0,
                    session.scalar(select(func.count()).select_from(QuarantinedMessage)) or 0)
    finally:
        engine.dispose()


def expected(messages: Sequence[Generated], source: str) -> tuple[int, int]:
    """(distinct valid messages, malformed ones) for *source*."""
    valid = {m.msg_id or f"derived-{id(m)}" for m in messages if source not in m.bad_in}
    return len(valid), sum(source in m.bad_in for m in messages)


def summary(output: str) -> dict[str, int]:
    return {name: int(count) for count, name in
            (item.split(" ", 1) for item in output.strip().split(", "))}


def assert_clean_build(args: Sequence[str]) -> None:
    """The database the fuzz left builds, every widget of it: a failing one exits 1."""
    assert build(args, "--force").startswith("Built 4 hubs")


def test_replay_of_fuzzed_traffic(tmp_path: Path) -> None:
    db_url, args = fuzz_site(tmp_path)
    messages = list(traffic(COUNT, seed=1))
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(replay_line(m) for m in messages) + b"\n")
    with watching([*args, "--source", f"replay:{path}", "--once"], tmp_path / "watch.log",
                  ready=False) as daemon:
        assert daemon.wait(300) == 0, daemon.log()[-3000:]
    stats = summary(daemon.output())
    valid, malformed = expected(messages, "replay")
    assert stats["received"] == COUNT
    assert stats["quarantined"] == malformed
    assert counts(db_url) == (valid, malformed)
    assert_clean_build(args)


def test_amqp_of_fuzzed_traffic(tmp_path: Path, amqp_url: str) -> None:
    db_url, args = fuzz_site(tmp_path)
    messages = list(traffic(COUNT, seed=2))
    valid, malformed = expected(messages, "amqp")
    with broker(amqp_url) as bus:
        uid = f"fuzz-{uuid.uuid4().hex[:10]}"
        prefix = f"org.{uid}.prod"
        env = bus.queue_config(tmp_path / "fedora-messaging.toml", f"hubsgen-{uid}",
                               [f"{prefix}.#"])
        for message in messages:  # all queued first: the watcher starts on a poisoned backlog
            bus.channel.basic_publish("amq.topic", f"{prefix}.{message.topic}", message.body,
                                      pika.BasicProperties(
                                          content_type="application/json",
                                          content_encoding="utf-8", delivery_mode=2,
                                          headers=amqp_headers(message),
                                          message_id=message.msg_id or None))
        queue = bus.queues[-1]
        with watching([*args, "--source", "amqp"], tmp_path / "watch.log", env) as daemon:
            daemon.wait_for(lambda: counts(db_url) == (valid, malformed), 300,
                            f"{valid} stored and {malformed} quarantined")
            assert daemon.process.poll() is None
            assert daemon.signal(signal.SIGTERM) == 0
        wait_until(lambda: bus.ready(queue) == 0, "every delivery acknowledged", 10)
    stats = summary(daemon.output())
    assert stats["received"] == COUNT and stats["quarantined"] == malformed
    assert_clean_build(args)
