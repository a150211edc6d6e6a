"""A RabbitMQ virtual host of the test session's own, so that nothing of ours (queues, bindings,
messages) meets another test run's on a shared broker.

Other checkouts may run this suite against the same broker at the same time, and ``hubsgen watch
--source amqp://...`` names its queue ``hubsgen`` (``hubsgen-shardIofN`` per shard) whoever runs
it; fixed topics (a badge award) reach every queue bound to them in a virtual host. So a session
creates a virtual host with ``rabbitmqctl`` and deletes it at the end; inside it the tests run one
at a time and each deletes its queues. One host per session rather than per test, because
fedora-messaging's publish API connects once per process, to the URL it saw first.

``HUBS_TEST_AMQP_URL`` names an existing virtual host to use instead (nothing is created or
deleted then), for a broker whose ``rabbitmqctl`` this user may not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pika
import pika.exceptions
from fedora_messaging import api
from fedora_messaging import config as fm_config

from tests.conftest import require
from tests.timing import seconds

BROKER = "guest:guest@127.0.0.1:5672"
USER = "guest"
PREFIX = "hubsgen-test-"
STALE = 24 * 3600
"""Seconds after which a virtual host of ours is a leftover of a killed run: no session lasts
that long."""


class RabbitmqctlError(Exception):
    """rabbitmqctl is missing, failed or did not answer."""


def rabbitmqctl(*args: str) -> str:
    """Run ``rabbitmqctl ARGS`` (root, or the broker's user, may); its output."""
    command = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    try:
        done = subprocess.run([command, *args], capture_output=True, text=True,
                              timeout=seconds(60), check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RabbitmqctlError(f"rabbitmqctl {' '.join(args)}: {e}") from e
    if done.returncode != 0:
        raise RabbitmqctlError(f"rabbitmqctl {' '.join(args)} exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()}")
    return done.stdout


def url_of(vhost: str) -> str:
    return f"amqp://{BROKER}/{quote(vhost, safe='')}"


def delete_stale_vhosts() -> None:
    """Delete virtual hosts that runs killed before their teardown left behind."""
    now = time.time()
    for name in rabbitmqctl("list_vhosts", "--silent", "name").split():
        created = name.removeprefix(PREFIX).split("-", 1)[0]
        if name.startswith(PREFIX) and created.isdigit() and now - int(created) > STALE:
            rabbitmqctl("delete_vhost", name)


@contextmanager
def private_vhost() -> Iterator[str]:
    """The URL of a new virtual host where guest may do anything; deleted afterwards."""
    if url := os.environ.get("HUBS_TEST_AMQP_URL"):
        yield url
        return
    vhost = f"{PREFIX}{int(time.time())}-{uuid.uuid4().hex[:8]}"
    try:
        delete_stale_vhosts()
        rabbitmqctl("add_vhost", vhost)
    except RabbitmqctlError as e:
        require(f"no RabbitMQ virtual host for the tests ({e}); set HUBS_TEST_AMQP_URL to "
                "use an existing one")
    try:
        rabbitmqctl("set_permissions", "-p", vhost, USER, ".*", ".*", ".*")
        yield url_of(vhost)
    finally:
        rabbitmqctl("delete_vhost", vhost)


Publish = Callable[[str, Mapping[str, Any]], str]
"""publish(topic, body) -> the id of the message sent."""


def publisher(url: str) -> Publish:
    """Publish with fedora_messaging.api.publish, as Fedora's applications do.

    fedora-messaging connects once per process, to the URL configured when it first publishes:
    every caller in a session passes the session's URL."""
    fm_config.conf.load_config()
    fm_config.conf["amqp_url"] = url

    def publish(topic: str, body: Mapping[str, Any]) -> str:
        message = api.Message(topic=topic, body=dict(body))
        api.publish(message, timeout=seconds(10))
        return str(message.id)

    return publish


@contextmanager
def channel(url: str) -> Iterator[Any]:
    """A pika channel of the tests' own, to declare, count and delete queues."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(url))
    except pika.exceptions.AMQPError as e:
        require(f"RabbitMQ at {url} is not reachable: {e!r}")
    try:
        yield connection.channel()
    finally:
        connection.close()


def ready_count(channel: Any, queue: str, expected: int, timeout: float = 5.0) -> int:
    """*queue*'s ready messages, waiting up to *timeout* nominal seconds for the broker to
    settle on *expected*."""
    deadline = time.monotonic() + seconds(timeout)
    while True:
        count: int = channel.queue_declare(queue, passive=True).method.message_count
        if count == expected or time.monotonic() > deadline:
            return count
        channel.connection.process_data_events(time_limit=0.05)
