"""FedmsgSource against real fedmsg publishers on loopback ZeroMQ sockets."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fedmsg
import pytest
import zmq

from hubs.errors import ConfigError
from hubsgen.watch.sources.fedmsg import FedmsgBatch, FedmsgSource
from tests.ports import free_port
from tests.timing import seconds

MODNAME = "hubsgentest"
PREFIX = f"org.fedoraproject.dev.{MODNAME}"


@dataclass
class Bus:
    """A fedmsg publisher, a raw ZeroMQ publisher, and a FedmsgSource consuming both."""

    raw: Any  # a zmq PUB socket, for payloads fedmsg would never send
    stop: threading.Event
    thread: threading.Thread
    received: queue.Queue[FedmsgBatch] = field(default_factory=queue.Queue)
    sent: list[dict[str, Any]] = field(default_factory=list)  # envelopes, as fedmsg built them

    def publish(self, topic: str, msg: dict[str, Any]) -> str:
        """Publish with fedmsg.publish; return the msg_id fedmsg gave the message."""
        fedmsg.publish(topic=topic, modname=MODNAME, msg=msg, pre_fire_hook=self.sent.append)
        return str(self.sent[-1]["msg_id"])

    def send_raw(self, *frames: bytes) -> None:
        self.raw.send_multipart(list(frames))

    def raw_envelope(self, topic: str, **fields: Any) -> bytes:
        doc = {"topic": f"{PREFIX}.{topic}", "msg": {}, "timestamp": int(time.time()),
               "msg_id": f"{datetime.now(UTC).year}-{uuid.uuid4()}", "i": 1,
               "username": "hubsgen", **fields}
        return json.dumps(doc).encode()

    def sync(self, probe: Callable[[], None], topic: str) -> None:
        """Probe until one arrives: a SUB socket misses what is sent before it has joined."""
        deadline = time.monotonic() + seconds(15)
        while time.monotonic() < deadline:
            probe()
            try:
                batch = self.received.get(timeout=0.1)
            except queue.Empty:
                continue
            if any(m.topic == topic for m in batch.messages):
                return
        pytest.fail(f"no probe on {topic} arrived within {seconds(15):.0f} s")

    def collect(self, count: int) -> list[FedmsgBatch]:
        """Batches until *count* messages or rejections other than probes have arrived."""
        batches: list[FedmsgBatch] = []
        total = 0
        while total < count:
            batch = self.received.get(timeout=seconds(10))
            messages = [m for m in batch.messages if ".probe." not in m.topic]
            if messages or batch.rejected:
                batches.append(FedmsgBatch(messages, batch.rejected))
                total += len(messages) + len(batch.rejected)
        return batches


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    """Endpoints in ./fedmsg.d, read by fedmsg.init and by FedmsgSource alike."""
    fedmsg_endpoint = f"tcp://127.0.0.1:{free_port()}"
    raw_endpoint = f"tcp://127.0.0.1:{free_port()}"
    (tmp_path / "fedmsg.d").mkdir()
    (tmp_path / "fedmsg.d" / "hubsgen_test.py").write_text(f"""config = dict(
    endpoints={{"{MODNAME}.publisher": ["{fedmsg_endpoint}"],
               "{MODNAME}.raw": ["{raw_endpoint}"]}},
    sign_messages=False,
    validate_signatures=False,
    post_init_sleep=0,
)
""")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.fedmsg.d of the person running tests
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)

    source = FedmsgSource(topic_prefixes=[PREFIX], environment="dev")
    assert sorted(source.endpoints) == sorted([fedmsg_endpoint, raw_endpoint])
    fedmsg.init(name=f"{MODNAME}.publisher")
    context = zmq.Context()
    raw = context.socket(zmq.PUB)
    raw.bind(raw_endpoint)
    stop = threading.Event()
    received: queue.Queue[FedmsgBatch] = queue.Queue()

    def consume() -> None:
        for batch in source.batches(max_messages=2, max_wait=0.2, stop=stop):
            received.put(batch)

    thread = threading.Thread(target=consume, daemon=True)
    bus = Bus(raw=raw, stop=stop, thread=thread, received=received)
    thread.start()
    try:
        bus.sync(lambda: bus.publish("probe.fedmsg", {}), f"{PREFIX}.probe.fedmsg")
        bus.sync(lambda: bus.send_raw(f"{PREFIX}.probe.raw".encode(),
                                      bus.raw_envelope("probe.raw")), f"{PREFIX}.probe.raw")
        bus.sent.clear()
        yield bus
    finally:
        stop.set()
        thread.join(5)
        source.close()
        fedmsg.destroy()
        raw.close(linger=0)
        context.term()


def test_fedmsg_messages_arrive_in_batches(bus: Bus):
    """Assert five published messages arrive, two at most per batch, with topic, body and id."""
    ids = [bus.publish("bodhi.update.comment", {"n": n}) for n in range(5)]
    batches = bus.collect(5)
    assert all(1 <= len(b.messages) <= 2 and not b.rejected for b in batches)
    received = [m for b in batches for m in b.messages]
    assert [m.msg_id for m in received] == ids
    assert {m.topic for m in received} == {f"{PREFIX}.bodhi.update.comment"}
    assert [m.body for m in received] == [{"n": n} for n in range(5)]
    assert [int(m.timestamp.timestamp()) for m in received] == [e["timestamp"]
                                                                for e in bus.sent]


def test_malformed_payloads_are_rejected_and_the_source_keeps_going(bus: Bus):
    """Assert a non-JSON payload, a one-frame message and a bad envelope are each Rejected."""
    bus.send_raw(f"{PREFIX}.broken".encode(), b"{not json")
    bus.send_raw(f"{PREFIX}.lonely".encode())
    bus.send_raw(f"{PREFIX}.nomsg".encode(), json.dumps(
        {"topic": f"{PREFIX}.nomsg", "msg_id": "2024-bad-envelope"}).encode())
    bus.send_raw(f"{PREFIX}.fine".encode(), bus.raw_envelope("fine", msg={"ok": 1}))
    batches = bus.collect(4)
    rejected = [r for b in batches for r in b.rejected]
    assert [r.msg_id for r in rejected] == ["", "", "2024-bad-envelope"]
    assert "not JSON" in rejected[0].reason and "1 frames" in rejected[1].reason
    assert "2024-bad-envelope" in rejected[2].reason
    assert [m.body for b in batches for m in b.messages] == [{"ok": 1}]
    ok = bus.publish("still.listening", {})
    assert [m.msg_id for b in bus.collect(1) for m in b.messages] == [ok]


def test_retry_warns_that_a_gap_may_follow(bus: Bus, caplog: pytest.LogCaptureFixture):
    """Assert retry() cannot redeliver over ZeroMQ, and says so."""
    msg_id = bus.publish("bodhi.update.comment", {})
    (batch,) = bus.collect(1)
    with caplog.at_level(logging.WARNING, logger="hubsgen.watch.sources.fedmsg"):
        batch.retry()
    assert "gap" in caplog.text and msg_id in caplog.text


def test_stop_ends_batches_promptly(bus: Bus):
    """Assert a subscribed, idle source returns from batches() within about max_wait of stop."""
    bus.stop.set()
    started = time.monotonic()
    bus.thread.join(5)
    assert not bus.thread.is_alive()
    assert time.monotonic() - started < 1.0


def test_no_configured_endpoints_is_a_config_error(tmp_path, monkeypatch):
    """Assert a missing fedmsg configuration names --endpoint as the fix."""
    if Path("/etc/fedmsg.d").is_dir() or Path("/etc/fedmsg-config.py").exists():
        pytest.skip("this machine has a system-wide fedmsg configuration")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    with pytest.raises(ConfigError, match="--endpoint"):
        FedmsgSource()


def test_a_backlog_leaves_zeromq_at_the_next_batch(caplog: pytest.LogCaptureFixture):
    """Assert one batch takes every waiting message out of ZeroMQ (where each would pin an
    8 kB buffer) but hands out only max_messages, and closing says how many went unhandled."""
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.bind(endpoint)
    source = FedmsgSource([endpoint], topic_prefixes=[PREFIX], environment="dev")
    stop = threading.Event()
    batches = source.batches(max_messages=5, max_wait=0.1, stop=stop)
    envelope = json.dumps({"topic": f"{PREFIX}.probe", "msg": {}, "timestamp": 1,
                           "msg_id": "2024-probe"}).encode()
    try:
        deadline = time.monotonic() + seconds(15)
        while not next(batches).messages:  # a SUB socket misses what is sent before it joins
            assert time.monotonic() < deadline, "the probe never arrived"
            pub.send_multipart([f"{PREFIX}.probe".encode(), envelope])
        time.sleep(0.5)
        next(batches)  # probes sent while the first was on its way
        for n in range(50):
            pub.send_multipart([f"{PREFIX}.backlog".encode(), json.dumps(
                {"topic": f"{PREFIX}.backlog", "msg": {"n": n}, "timestamp": 1,
                 "msg_id": f"2024-backlog-{n}"}).encode()])
            time.sleep(0.001)  # one by one, as a live bus sends them
        time.sleep(seconds(1))
        batch = next(batches)
        assert [m.body for m in batch.messages] == [{"n": n} for n in range(5)]
        (sock,) = source._sockets
        assert not sock.poll(0), "messages were left waiting inside ZeroMQ"
        with caplog.at_level(logging.WARNING, logger="hubsgen.watch.sources.fedmsg"):
            source.close()
        assert "45 received fedmsg message(s) not handled" in caplog.text
    finally:
        stop.set()
        source.close()
        pub.close(linger=0)
        context.term()
