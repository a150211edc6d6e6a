"""Batches of fedmsg messages, received over ZeroMQ from the publishers' endpoints.

ZeroMQ PUB/SUB has no acknowledgement: a message missed while hubsgen is down or slow is gone,
so ``done()`` does nothing and ``retry()`` can only warn that a gap may follow. A message of
another environment than the deployment's is dropped on arrival: ZeroMQ subscribes by literal
prefix, and Fedora's bus carries several (org.fedoraproject.prod., io.pagure.prod., ...).

Whatever ZeroMQ holds is taken out at every batch and queued here as bytes: a message that
waits inside ZeroMQ pins the 8 kB buffer it was read into, so a backlog of 6,000 messages of
400 bytes, arriving one by one, took 50 MB there; taken out every 200 messages, 6 MB.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import zmq

from hubs.envelopes import MalformedMessage, load_json, parse_envelope
from hubs.errors import ConfigError
from hubs.events import RawMessage, Rejected
from hubs.understand.topics import belongs_to

log = logging.getLogger(__name__)

# Queued messages per endpoint before ZeroMQ drops new ones (libzmq's default is 1000), and
# received messages queued here before ZeroMQ is left to queue them.
RECEIVE_HIGH_WATER_MARK = 100_000
# Probe an idle connection after 60 s, every 10 s, 6 times: a silently dead peer (a NAT or
# firewall dropped the flow) is noticed within two minutes, and ZeroMQ reconnects by itself.
KEEPALIVE = {zmq.TCP_KEEPALIVE: 1, zmq.TCP_KEEPALIVE_IDLE: 60,
             zmq.TCP_KEEPALIVE_INTVL: 10, zmq.TCP_KEEPALIVE_CNT: 6}
# Back off from 100 ms to 10 s between reconnection attempts to a publisher that is down.
RECONNECT = {zmq.RECONNECT_IVL: 100, zmq.RECONNECT_IVL_MAX: 10_000}


def configured_endpoints() -> list[str]:
    """Every endpoint in fedmsg's configuration (/etc/fedmsg.d, ./fedmsg.d, ...)."""
    try:
        import fedmsg.config  # needed only here: --endpoint works without fedmsg installed
    except ImportError as e:
        raise ConfigError("no fedmsg endpoint given: give --endpoint tcp://HOST:PORT, or install "
                          "fedmsg to read them from /etc/fedmsg.d") from e
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # load_config is, yet it works
            config = fedmsg.config.load_config([], None, invalidate_cache=True)
    except ValueError as e:
        raise ConfigError(f"fedmsg configuration: {e}; give --endpoint tcp://HOST:PORT or "
                          "list endpoints in /etc/fedmsg.d") from e
    endpoints: list[str] = []
    for name, listed in config["endpoints"].items():
        if name != "relay_inbound":  # fedmsg's own subscriber skips it too: it is for senders
            endpoints.extend(e for e in listed if e not in endpoints)
    if not endpoints:
        raise ConfigError("fedmsg configuration lists no endpoints; give --endpoint "
                          "tcp://HOST:PORT or list endpoints in /etc/fedmsg.d")
    return endpoints


class FedmsgBatch:
    """Messages already gone from ZeroMQ: there is nothing to acknowledge or to requeue."""

    def __init__(self, messages: Sequence[RawMessage], rejected: Sequence[Rejected]) -> None:
        self.messages = messages
        self.rejected = rejected

    def done(self) -> None:
        """Nothing to acknowledge on ZeroMQ."""

    def retry(self) -> None:
        if not self.messages:
            return
        log.warning("fedmsg cannot deliver %d message(s) again (%s...): a gap may follow "
                    "until the next full build", len(self.messages),
                    ", ".join(m.msg_id for m in self.messages[:3]))


class FedmsgSource:
    """Subscribe to fedmsg endpoints, one SUB socket each, for topics starting with a prefix."""

    name = "fedmsg"
    keeps_history = False  # what is published while nobody listens is gone

    def __init__(self, endpoints: Sequence[str] | None = None,
                 topic_prefixes: Sequence[str] = ("",), environment: str = "prod") -> None:
        """Hand out messages whose topic starts with one of *topic_prefixes* and names
        *environment* (or none)."""
        self.endpoints = list(endpoints) if endpoints else configured_endpoints()
        self.topic_prefixes = list(topic_prefixes) or [""]
        self.environment = environment
        self._context: zmq.Context[zmq.Socket[bytes]] | None = None
        self._sockets: dict[zmq.Socket[bytes], str] = {}  # socket -> its endpoint
        self._received: deque[tuple[list[bytes], str]] = deque()  # (frames, endpoint)

    def batches(self, max_messages: int, max_wait: float,
                stop: threading.Event) -> Iterator[FedmsgBatch]:
        poller = self._connect()
        while not stop.is_set():
            # Even when stop came meanwhile: what was received is out of ZeroMQ, so hand it on.
            yield self._collect(poller, max_messages, max_wait, stop)

    def close(self) -> None:
        if self._received:
            log.warning("Closing with %d received fedmsg message(s) not handled: a gap may "
                        "follow until the next full build", len(self._received))
            self._received.clear()
        for sock in self._sockets:
            sock.close(linger=0)
        self._sockets.clear()
        if self._context is not None:
            self._context.term()
            self._context = None

    def _connect(self) -> zmq.Poller:
        """Connect lazily, from the thread that polls: ZeroMQ sockets are not thread-safe."""
        if self._context is None:
            self._context = zmq.Context()
            for endpoint in self.endpoints:
                self._sockets[self._subscribe(self._context, endpoint)] = endpoint
            log.info("Subscribed to fedmsg at %s for %s messages", ", ".join(self.endpoints),
                     self.environment)
        poller = zmq.Poller()
        for sock in self._sockets:
            poller.register(sock, zmq.POLLIN)
        return poller

    def _subscribe(self, context: zmq.Context[zmq.Socket[bytes]],
                   endpoint: str) -> zmq.Socket[bytes]:
        sock = context.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVHWM, RECEIVE_HIGH_WATER_MARK)
        for option, value in {**KEEPALIVE, **RECONNECT}.items():
            sock.setsockopt(option, value)
        for prefix in self.topic_prefixes:
            sock.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        try:
            sock.connect(endpoint)
        except zmq.ZMQError as e:
            sock.close(linger=0)
            raise ConfigError(f"fedmsg endpoint {endpoint!r} is not valid: {e}") from e
        return sock

    def _collect(self, poller: zmq.Poller, max_messages: int, max_wait: float,
                 stop: threading.Event) -> FedmsgBatch:
        """The first message within *max_wait* and whatever is ready after it, up to
        *max_messages*; maybe nothing."""
        deadline = time.monotonic() + max_wait
        self._drain(poller, 0)
        while not self._received and not stop.is_set():
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            self._drain(poller, max(1, round(timeout * 1000)))
        messages: list[RawMessage] = []
        rejected: list[Rejected] = []
        while self._received and len(messages) + len(rejected) < max_messages:
            parsed = parse_frames(*self._received.popleft())
            if isinstance(parsed, Rejected):
                rejected.append(parsed)
            else:
                messages.append(parsed)
        return FedmsgBatch(messages, rejected)

    def _drain(self, poller: zmq.Poller, timeout_ms: int) -> None:
        """Move what ZeroMQ holds (waiting up to *timeout_ms* for something) to the received
        queue, dropping what belongs to another environment."""
        for sock, _ in poller.poll(timeout_ms):
            endpoint = self._sockets[sock]
            while len(self._received) < RECEIVE_HIGH_WATER_MARK:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if not belongs_to(_text(frames[0]), self.environment):
                    log.debug("Ignored %s: not of the %s environment", _text(frames[0]),
                              self.environment)
                    continue
                self._received.append((frames, endpoint))


def parse_frames(frames: Sequence[bytes], endpoint: str) -> RawMessage | Rejected:
    """Read ``[topic, JSON envelope]`` as fedmsg publishes it."""
    if len(frames) != 2:
        return Rejected("", f"fedmsg message from {endpoint} has {len(frames)} frames, not 2",
                        b"".join(frames[1:2]), topic=_text(frames[0]) if frames else "")
    try:
        doc = load_json(frames[1])
    except MalformedMessage as e:
        return Rejected("", f"fedmsg message from {endpoint} on {_text(frames[0])}: {e}",
                        frames[1], topic=_text(frames[0]))
    try:
        return parse_envelope(doc)
    except MalformedMessage as e:
        return Rejected(_msg_id(doc), f"fedmsg message from {endpoint}: {e}", frames[1],
                        topic=_text(frames[0]))


def _msg_id(doc: Any) -> str:
    msg_id = doc.get("msg_id") if isinstance(doc, Mapping) else None
    return msg_id if isinstance(msg_id, str) else ""


def _text(topic: bytes) -> str:
    return topic.decode("utf-8", errors="replace")
