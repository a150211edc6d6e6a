"""AmqpSource against the real RabbitMQ, fed by fedora-messaging's own publish API."""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pika
import pika.exceptions
import pytest

from hubsgen.watch.sources import Rejected
from hubsgen.watch.sources.amqp import AmqpBatch, AmqpSource, queue_name
from tests.integration.rabbitmq import Publish, channel, publisher, ready_count
from tests.timing import seconds


@pytest.fixture(scope="module")
def admin(amqp_url: str) -> Iterator[Any]:
    """A channel of our own, to publish raw deliveries, count messages and delete queues."""
    with channel(amqp_url) as admin:
        yield admin


@pytest.fixture
def uid(admin: Any) -> Iterator[str]:
    """A unique name for this test's queues and topics; its queues are deleted afterwards."""
    uid = f"test-{uuid.uuid4().hex[:10]}"
    yield uid
    for name in (queue_name(uid), queue_name(f"{uid}-a"), queue_name(f"{uid}-b"),
                  f"conf-{uid}"):
        admin.queue_delete(name)


@pytest.fixture(scope="module")
def publish(amqp_url: str) -> Publish:
    """Publish with fedora_messaging.api.publish, the way Fedora's applications do."""
    return publisher(amqp_url)


@contextmanager
def consuming(source: AmqpSource, max_messages: int = 10,
              max_wait: float = 0.3) -> Iterator[Iterator[AmqpBatch]]:
    """Batches from *source*; a watchdog sets stop after 15 nominal seconds so that a bug
    cannot hang."""
    stop = threading.Event()
    watchdog = threading.Timer(seconds(15), stop.set)
    watchdog.start()
    try:
        yield source.batches(max_messages, max_wait, stop)
    finally:
        watchdog.cancel()
        source.close()


def next_nonempty(batches: Iterator[AmqpBatch]) -> AmqpBatch:
    """The next batch with something in it (empty ones come every max_wait)."""
    for batch in batches:
        if batch.messages or batch.rejected:
            return batch
    pytest.fail("batches() ended: the watchdog stopped it")


def receive(batches: Iterator[AmqpBatch], count: int) -> list[AmqpBatch]:
    """Non-empty batches, each done(), until *count* messages or rejections arrived."""
    received: list[AmqpBatch] = []
    while sum(len(b.messages) + len(b.rejected) for b in received) < count:
        received.append(next_nonempty(batches))
        received[-1].done()
    return received


def ids(batch: AmqpBatch) -> list[str]:
    return [m.msg_id for m in batch.messages]


def url_source(url: str, uid: str, suffix: str = "") -> AmqpSource:
    source = AmqpSource(url, topics=[f"{uid}.#"],
                        queue_suffix=f"{uid}-{suffix}" if suffix else uid)
    source.declare()
    return source


def test_batches_carry_the_published_messages(amqp_url, uid, publish):
    """Assert five messages come in batches of at most two, with id, topic, body and sent-at."""
    source = url_source(amqp_url, uid)
    sent = [publish(f"{uid}.bodhi.update.comment", {"n": n}) for n in range(5)]
    with consuming(source, max_messages=2) as batches:
        batches_received = receive(batches, 5)
    assert all(len(b.messages) <= 2 and not b.rejected for b in batches_received)
    received = [m for b in batches_received for m in b.messages]
    assert [m.msg_id for m in received] == sent
    assert [m.body for m in received] == [{"n": n} for n in range(5)]
    assert {m.topic for m in received} == {f"{uid}.bodhi.update.comment"}
    first = received[0]
    assert first.headers["fedora_messaging_schema"] == "base.message"
    assert abs((datetime.now(UTC) - first.timestamp).total_seconds()) < 60


def test_nothing_is_acknowledged_before_done_so_a_crash_loses_nothing(
        amqp_url, uid, publish, admin):
    """Assert a batch dropped without done() is delivered again to the next connection."""
    source = url_source(amqp_url, uid)
    sent = [publish(f"{uid}.a", {"n": n}) for n in range(3)]
    with consuming(source) as batches:
        assert set(ids(next_nonempty(batches))) <= set(sent)
        # The "crash": the connection closes while the batch is neither done nor retried.
    assert ready_count(admin, queue_name(uid), 3) == 3
    with consuming(url_source(amqp_url, uid)) as batches:
        assert [i for b in receive(batches, 3) for i in ids(b)] == sent
    assert ready_count(admin, queue_name(uid), 0) == 0


def test_retry_has_the_batch_delivered_again(amqp_url, uid, publish, admin):
    """Assert retry() requeues the batch and done() on the redelivery empties the queue."""
    source = url_source(amqp_url, uid)
    sent = [publish(f"{uid}.a", {"n": n}) for n in range(2)]
    with consuming(source) as batches:
        first = next_nonempty(batches)
        assert set(ids(first)) <= set(sent)
        first.retry()
        again = [i for b in receive(batches, 2) for i in ids(b)]
    assert sorted(again) == sorted(sent)
    assert ready_count(admin, queue_name(uid), 0) == 0


def test_malformed_deliveries_are_rejected_and_acknowledged(amqp_url, uid, publish, admin):
    """Assert bad JSON and a body failing its schema are Rejected, then acked with the batch."""
    source = url_source(amqp_url, uid)
    headers = {"fedora_messaging_schema": "base.message", "fedora_messaging_severity": 20,
               "sent-at": datetime.now(UTC).isoformat()}
    for msg_id, body in (("bad-json", b"{not json"), ("bad-schema", b"[1, 2]")):
        admin.basic_publish("amq.topic", f"{uid}.broken", body, pika.BasicProperties(
            content_type="application/json", content_encoding="utf-8", delivery_mode=2,
            headers=headers, message_id=msg_id))
    good = publish(f"{uid}.fine", {"ok": True})
    with consuming(source) as batches:
        received = receive(batches, 3)
    rejected = [r for b in received for r in b.rejected]
    assert [r.msg_id for r in rejected] == ["bad-json", "bad-schema"]
    assert all(isinstance(r, Rejected) and "bad-" in r.reason for r in rejected)
    assert [i for b in received for i in ids(b)] == [good]
    assert ready_count(admin, queue_name(uid), 0) == 0


def test_bindings_from_a_fedora_messaging_file_restrict_topics(
        amqp_url, uid, publish, tmp_path: Path):
    """Assert a queue configured in a TOML file only receives its bound topics."""
    config = tmp_path / "config.toml"
    config.write_text(f'''
amqp_url = "{amqp_url}"
[client_properties]
app = "hubsgen tests"
[queues.conf-{uid}]
durable = true
auto_delete = false
exclusive = false
arguments = {{}}
[[bindings]]
queue = "conf-{uid}"
exchange = "amq.topic"
routing_keys = ["{uid}.wanted.#"]
''')
    source = AmqpSource(config_path=config)
    source.declare()
    first = publish(f"{uid}.wanted.one", {})
    publish(f"{uid}.unwanted.one", {})
    last = publish(f"{uid}.wanted.two", {})
    received: list[str] = []
    with consuming(source) as batches:
        while last not in received:
            received.extend(ids(receive(batches, 1)[0]))
    # One queue keeps publishing order, so an unwanted message routed there would show up.
    assert received == [first, last]


def test_sources_with_different_suffixes_each_get_every_message(amqp_url, uid, publish):
    """Assert two shards' queues each receive every message."""
    shards = [url_source(amqp_url, uid, "a"), url_source(amqp_url, uid, "b")]
    sent = [publish(f"{uid}.a", {"n": n}) for n in range(3)]
    for shard in shards:
        with consuming(shard) as batches:
            assert [i for b in receive(batches, 3) for i in ids(b)] == sent


def test_stop_ends_batches_promptly(amqp_url, uid, publish):
    """Assert a consuming, idle source returns from batches() within about max_wait of stop."""
    source = url_source(amqp_url, uid)
    stop = threading.Event()
    received: queue.Queue[AmqpBatch] = queue.Queue()
    finished = threading.Event()

    def consume() -> None:
        for batch in source.batches(10, 0.2, stop):
            batch.done()
            if batch.messages:
                received.put(batch)
        finished.set()

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        sent = publish(f"{uid}.a", {})
        assert ids(received.get(timeout=seconds(10))) == [sent]  # consuming now, and idle
        stop.set()
        started = time.monotonic()
        assert finished.wait(seconds(5))
        assert time.monotonic() - started < seconds(1.0)
    finally:
        stop.set()
        thread.join(seconds(5))
        source.close()


class CuttableProxy:
    """Forwards a loopback port to RabbitMQ; cut() drops every connection, as a network would."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def close(self) -> None:
        self.server.close()
        self.cut()


def test_a_lost_connection_is_reopened_and_unacknowledged_messages_come_back(
        amqp_url, uid, publish, admin, caplog):
    """Assert that after the network drops mid-batch, the source reconnects by itself and the
    batch whose acknowledgement was lost is delivered again."""
    broker = urlsplit(amqp_url)
    proxy = CuttableProxy((broker.hostname or "127.0.0.1", broker.port or 5672))
    try:
        credentials = broker.netloc.rpartition("@")[0]
        proxied = broker._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}").geturl()
        source = AmqpSource(proxied, topics=[f"{uid}.#"], queue_suffix=uid)
        source.declare()
        sent = [publish(f"{uid}.a", {"n": n}) for n in range(2)]
        with consuming(source) as batches:
            batch = next_nonempty(batches)
            lost = ids(batch)
            proxy.cut()
            with caplog.at_level(logging.WARNING, logger="hubsgen.watch.sources.amqp"):
                batch.done()  # the files are written, but the acknowledgement cannot arrive
                again = [i for b in receive(batches, 2) for i in ids(b)]
            assert sorted(again) == sorted(sent) and set(lost) <= set(again)
        assert "reconnecting" in caplog.text
        assert ready_count(admin, queue_name(uid), 0) == 0
    finally:
        proxy.close()
