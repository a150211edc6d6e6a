"""A real ``hubsgen watch`` process for integration tests: the site it keeps fresh, the private
AMQP queue it reads, and the process itself.

The daemon is the console script in a subprocess, so signals, exit codes and crashes are the
real ones. Every wait has a deadline and watches the process too, so a daemon that died fails
the test at once, with its log, instead of hanging it; every process started is reaped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pika
import pika.exceptions
from sqlalchemy.orm import Session

from hubs.testing import add_hub, make_engine
from tests.conftest import require
from tests.integration.rabbitmq import publisher
from tests.timing import POLL, seconds

HUBSGEN = Path(sys.executable).parent / "hubsgen"


def build_user_site(root: Path, usernames: Sequence[str], db_url: str = "") -> list[str]:
    """A database of user hubs (SQLite in *root* unless *db_url*), each with a badges widget,
    built with ``hubsgen build``; the ``--db`` and ``--out`` arguments for ``hubsgen watch``."""
    db_url = db_url or f"sqlite:///{root / 'hubs.db'}"
    engine = make_engine(db_url)
    with Session(engine) as session:
        for username in usernames:
            add_hub(session, username, user_hub=True, widgets=[("badges", {})])
        session.commit()
    engine.dispose()
    args = ["--db", db_url, "--out", str(root / "build")]
    subprocess.run([str(HUBSGEN), "build", *args], check=True,  # noqa: S603 - our own script
                   capture_output=True, timeout=seconds(300))
    return args


class DaemonExited(AssertionError):
    """The daemon ended while a test was waiting for it to do something."""


class Daemon:
    """One ``hubsgen -v watch`` process; its log (stderr) and output (stdout) go to files."""

    def __init__(self, args: Sequence[str], log_path: Path,
                 env: Mapping[str, str] | None = None) -> None:
        self.log_path = log_path
        self.out_path = log_path.with_suffix(".out")
        with log_path.open("wb") as log, self.out_path.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own console script
                [str(HUBSGEN), "-v", "watch", *args], stdout=out, stderr=log,
                env={**os.environ, **(env or {})})

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def wait_for[T](self, condition: Callable[[], T | None], timeout: float, what: str) -> T:
        """Poll *condition* until it is truthy; fail if *timeout* nominal seconds (see
        tests.timing) pass or the daemon ends."""
        limit = seconds(timeout)
        deadline = time.monotonic() + limit
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {limit:.0f} s; log:\n{self.log()}")
            try:
                code = self.process.wait(timeout=POLL)
            except subprocess.TimeoutExpired:
                continue
            value = condition()  # it may have done it just before exiting
            if value:
                return value
            raise DaemonExited(f"hubsgen watch exited ({code}) before {what}; "
                               f"log:\n{self.log()}")

    def wait_listening(self, timeout: float = 30) -> None:
        self.wait_for(lambda: "Listening to" in self.log(), timeout, "'Listening to' in the log")

    def signal(self, signum: signal.Signals, timeout: float = 30) -> int:
        """Send *signum* and reap the process; its exit code (negative: killed by a signal)."""
        self.process.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=seconds(timeout))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"hubsgen watch still running after {seconds(timeout):.0f} s; "
                                 f"log:\n{self.log()}") from None

    def reap(self) -> None:
        """Make sure the process is gone: SIGTERM, then SIGKILL if it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=seconds(10))
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


@contextmanager
def watching(args: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None,
             ready: bool = True) -> Iterator[Daemon]:
    """A running ``hubsgen watch`` (listening, when *ready*), reaped on the way out."""
    daemon = Daemon(args, log_path, env)
    try:
        if ready:
            daemon.wait_listening()
        yield daemon
    finally:
        daemon.reap()


class Broker:
    """Our side of RabbitMQ: publish as Fedora's applications do, or raw bytes; count queues.

    Each test gets its own queue, configured in a fedora-messaging TOML file (``--source amqp``):
    ``--source amqp://...`` always consumes the one queue named ``hubsgen``, which tests running
    side by side would share, each stealing the others' messages.
    """

    def __init__(self, url: str) -> None:
        try:
            self.connection = pika.BlockingConnection(pika.URLParameters(url))
        except pika.exceptions.AMQPError as e:
            require(f"RabbitMQ at {url} is not reachable: {e!r}")
        self.channel = self.connection.channel()
        self.url = url
        self.queues: list[str] = []
        self.publish = publisher(url)

    def queue_config(self, path: Path, queue: str, topics: Sequence[str]) -> dict[str, str]:
        """Write a fedora-messaging file for a durable *queue* bound to *topics* and declare it
        now, so nothing published from here on is lost; the environment that selects it."""
        keys = ", ".join(f'"{topic}"' for topic in topics)
        path.write_text(f'''amqp_url = "{self.url}"
[client_properties]
app = "hubsgen tests"
[queues.{queue}]
durable = true
auto_delete = false
exclusive = false
arguments = {{}}
[[bindings]]
queue = "{queue}"
exchange = "amq.topic"
routing_keys = [{keys}]
''')
        self.channel.queue_declare(queue, durable=True)
        for topic in topics:
            self.channel.queue_bind(queue, "amq.topic", routing_key=topic)
        self.queues.append(queue)
        return {"FEDORA_MESSAGING_CONF": str(path)}

    def publish_raw(self, topic: str, body: bytes, msg_id: str) -> None:
        """Bytes no fedora-messaging publisher would send, with its properties and headers."""
        headers = {"fedora_messaging_schema": "base.message", "fedora_messaging_severity": 20,
                   "sent-at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
        self.channel.basic_publish("amq.topic", topic, body, pika.BasicProperties(
            content_type="application/json", content_encoding="utf-8", delivery_mode=2,
            headers=headers, message_id=msg_id))

    def ready(self, queue: str) -> int:
        """Messages in *queue* that nobody holds unacknowledged."""
        count: int = self.channel.queue_declare(queue, passive=True).method.message_count
        return count

    def close(self) -> None:
        for queue in self.queues:
            self.channel.queue_delete(queue)
        self.connection.close()


@contextmanager
def broker(url: str) -> Iterator[Broker]:
    """A Broker on the virtual host at *url* whose queues are deleted afterwards."""
    bus = Broker(url)
    try:
        yield bus
    finally:
        bus.close()
