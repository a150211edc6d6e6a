"""Batches of fedora-messaging messages from an AMQP queue, acknowledged once handled.

A delivery is acknowledged only by its batch's ``done()``, which the caller calls after writing
files, so a crash loses nothing: the broker hands unacknowledged deliveries out again. A delivery
that does not parse or validate is Rejected but acknowledged all the same (by ``done()``), so it
is not redelivered forever; one of another environment than the deployment's is acknowledged
without being handed out.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema.exceptions
import pika
import pika.exceptions
from fedora_messaging import config as fm_config
from fedora_messaging import exceptions as fm_exceptions
from fedora_messaging.message import INFO, Message, get_class

from hubs.errors import ConfigError, ServiceError
from hubs.events import RawMessage, Rejected
from hubs.understand import schemas
from hubs.understand.topics import belongs_to, environment_of, routing_keys

log = logging.getLogger(__name__)

EXCHANGE = "amq.topic"
QUEUE = "hubsgen"
DEFAULT_CONFIG = "/etc/fedora-messaging/config.toml"  # where fedora-messaging looks
MAX_BACKOFF = 60.0

# Errors after which a new connection may well succeed; unacknowledged deliveries come back.
_TRANSIENT = (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError)
# Errors a new connection would only repeat.
_REFUSED = (pika.exceptions.ProbableAuthenticationError,
            pika.exceptions.ProbableAccessDeniedError)


def queue_name(suffix: str = "", environment: str = "prod") -> str:
    """``hubsgen`` (``hubsgen-stg`` for staging, so a staging watcher on the same broker never
    takes production's messages), or with ``-<suffix>`` so that shards each get every message."""
    base = QUEUE if environment == "prod" else f"{QUEUE}-{environment}"
    return f"{base}-{suffix}" if suffix else base


def refuse_other_environments(keys: Sequence[str], environment: str, where: str) -> None:
    """A ConfigError for the first routing key that names an environment other than
    *environment*: such a binding brings only messages the source would ignore."""
    for key in keys:
        if not belongs_to(key, environment):
            raise ConfigError(f"{where} binds {key}, a topic of the {environment_of(key)} "
                              f"environment, but [bus] environment is {environment}")


@dataclass(frozen=True)
class Topology:
    """Where to connect and what to declare there: queues and their bindings."""

    amqp_url: str
    queues: Mapping[str, Mapping[str, Any]]  # name -> durable, auto_delete, exclusive, arguments
    bindings: Sequence[Mapping[str, Any]]  # exchange, routing_keys, and queue (else: all queues)
    exchanges: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    client_properties: Mapping[str, str] = field(default_factory=lambda: {"app": "hubsgen"})
    tls: Mapping[str, str | None] = field(default_factory=dict)
    passive_declares: bool = False

    @classmethod
    def from_url(cls, url: str, topics: Sequence[str] = (), queue_suffix: str = "",
                 environment: str = "prod") -> Topology:
        """A durable queue (``queue_name``) bound to ``amq.topic`` with *topics*, by default
        every topic of *environment*."""
        refuse_other_environments(topics, environment, "--topic")
        queue = queue_name(queue_suffix, environment)
        settings = {"durable": True, "auto_delete": False, "exclusive": False, "arguments": {}}
        return cls(amqp_url=url, queues={queue: settings},
                   bindings=[{"exchange": EXCHANGE, "queue": queue,
                              "routing_keys": list(topics) or routing_keys(environment)}])

    @classmethod
    def from_file(cls, path: Path, queue_suffix: str = "", environment: str = "prod") -> Topology:
        """Read a fedora-messaging TOML file; a *queue_suffix* is appended to each queue name.
        Its bindings may not name another environment than *environment*."""
        if not path.is_file():
            raise ConfigError(f"fedora-messaging configuration {path} does not exist")
        try:
            conf = fm_config.LazyConfig().load_config(str(path))
        except fm_exceptions.ConfigurationException as e:
            raise ConfigError(f"fedora-messaging configuration {path}: {e.message}") from e

        def rename(queue: str) -> str:
            return f"{queue}-{queue_suffix}" if queue and queue_suffix else queue

        bindings = [{**b, "queue": rename(b["queue"])} if "queue" in b else dict(b)
                    for b in conf["bindings"]]
        for binding in bindings:
            refuse_other_environments(binding["routing_keys"], environment,
                                      f"fedora-messaging configuration {path}")
        return cls(amqp_url=conf["amqp_url"],
                   queues={rename(name): q for name, q in conf["queues"].items()},
                   bindings=bindings, exchanges=conf["exchanges"],
                   client_properties=conf["client_properties"], tls=conf["tls"],
                   passive_declares=conf["passive_declares"])

    def parameters(self) -> pika.URLParameters:
        """Connection parameters, with TLS set up the way fedora-messaging does for amqps://."""
        if not self.amqp_url.startswith(("amqp://", "amqps://")):
            raise ConfigError(f"AMQP URL {self.amqp_url!r} must start with amqp:// or amqps://")
        try:
            params = pika.URLParameters(self.amqp_url)
        except (ValueError, IndexError) as e:
            raise ConfigError(f"AMQP URL {self.amqp_url!r} is not valid: {e}") from e
        if params.client_properties is None:
            params.client_properties = dict(self.client_properties)
        if self.amqp_url.startswith("amqps"):
            params.ssl_options = self._ssl_options(params.host)
            if self.tls.get("certfile") and self.tls.get("keyfile"):
                params.credentials = pika.credentials.ExternalCredentials()
        return params

    def _ssl_options(self, host: str) -> pika.SSLOptions:
        context = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        cert, key, ca = self.tls.get("certfile"), self.tls.get("keyfile"), self.tls.get("ca_cert")
        try:
            if ca:
                context.load_verify_locations(cafile=ca)
            if cert and key:
                context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"AMQP TLS settings (ca_cert {ca}, certfile {cert}): {e}") from e
        return pika.SSLOptions(context, server_hostname=host)


@dataclass(frozen=True)
class _Delivery:
    tag: int
    routing_key: str
    properties: pika.BasicProperties
    body: bytes


class AmqpBatch:
    """Deliveries up to *last_tag* on *channel*: acknowledged or requeued all at once."""

    def __init__(self, channel: Any, last_tag: int, messages: Sequence[RawMessage],
                 rejected: Sequence[Rejected]) -> None:
        self.messages = messages
        self.rejected = rejected
        self.settled = not last_tag  # no deliveries, nothing to settle
        self._channel = channel
        self._last_tag = last_tag

    def done(self) -> None:
        self._settle("acknowledge", lambda: self._channel.basic_ack(self._last_tag, multiple=True))

    def retry(self) -> None:
        self._settle("requeue", lambda: self._channel.basic_nack(
            self._last_tag, multiple=True, requeue=True))

    def _settle(self, what: str, call: Callable[[], None]) -> None:
        if self.settled:
            return
        self.settled = True
        count = len(self.messages) + len(self.rejected)
        if not self._channel.is_open:
            log.warning("Could not %s %d AMQP message(s): the channel closed; the broker "
                        "delivers them again", what, count)
            return
        try:
            call()
        except pika.exceptions.AMQPError as e:
            # The next batch notices the dead connection and reconnects.
            log.warning("Could not %s %d AMQP message(s) (%r); the broker delivers them again",
                        what, count, e)


class AmqpSource:
    """Consume a fedora-messaging queue with pika, reconnecting with backoff when it drops."""

    name = "amqp"
    keeps_history = True  # the queue keeps messages while hubsgen is down

    def __init__(self, url: str | None = None, *, topics: Sequence[str] = (),
                 queue_suffix: str = "", environment: str = "prod",
                 config_path: Path | None = None, max_backoff: float = MAX_BACKOFF) -> None:
        """With an amqp:// *url*, consume queue ``hubsgen[-stg][-suffix]`` bound to *topics*
        (by default every topic of *environment*); else read fedora-messaging's TOML file
        (*config_path*, ``$FEDORA_MESSAGING_CONF`` or /etc/fedora-messaging/config.toml): its
        URL, queues and bindings (*topics* unused). Either way, only messages of *environment*
        (or of none) are handed out."""
        if url is not None:
            self.topology = Topology.from_url(url, topics, queue_suffix, environment)
        else:
            path = config_path or Path(os.environ.get("FEDORA_MESSAGING_CONF", DEFAULT_CONFIG))
            self.topology = Topology.from_file(path, queue_suffix, environment)
        self.environment = environment
        self.max_backoff = max_backoff
        # fedora-messaging logs a refused delivery's whole body, up to a megabyte, at ERROR;
        # the watcher logs it once, by id, and quarantines it.
        logging.getLogger("fedora_messaging.message").setLevel(logging.CRITICAL)
        self._connection: Any = None  # pika.BlockingConnection
        self._inbox: list[_Delivery] = []  # delivered, not yet handed out in a batch

    def declare(self) -> None:
        """Declare the queues and bindings now, so the broker keeps what is published from
        here on: call it before a full build, then consume, and no message falls in between."""
        params = self.topology.parameters()
        where = broker_address(params)
        try:
            connection = pika.BlockingConnection(params)
        except _REFUSED as e:
            raise ConfigError(f"AMQP broker {where} refused hubsgen: {e!r}") from e
        except pika.exceptions.AMQPConnectionError as e:
            raise ServiceError(f"AMQP broker {where} is not reachable: {e!r}") from e
        try:
            self._declare_refusals_as_config_errors(params, connection.channel())
        finally:
            if connection.is_open:
                connection.close()

    def batches(self, max_messages: int, max_wait: float,
                stop: threading.Event) -> Iterator[AmqpBatch]:
        params = self.topology.parameters()
        where = broker_address(params)
        backoff = 1.0
        while not stop.is_set():
            try:
                channel = self._open(params, max_messages)
                log.info("Consuming %s from AMQP broker %s for %s messages",
                         ", ".join(self.topology.queues), where, self.environment)
                backoff = 1.0
                yield from self._consume(channel, max_messages, max_wait, stop)
                return
            except _REFUSED as e:
                raise ConfigError(f"AMQP broker {where} refused hubsgen: {e!r}") from e
            except _TRANSIENT as e:
                log.warning("AMQP connection to %s failed (%r); unacknowledged messages come "
                            "back; reconnecting in %.0f s", where, e, backoff)
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        self._inbox.clear()
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except pika.exceptions.AMQPError as e:
                log.debug("Closing the AMQP connection failed: %r", e)

    def _open(self, params: pika.URLParameters, prefetch: int) -> Any:
        self.close()
        self._connection = pika.BlockingConnection(params)
        channel = self._connection.channel()
        channel.basic_qos(prefetch_count=prefetch)
        for queue in self._declare_refusals_as_config_errors(params, channel):
            channel.basic_consume(queue, self._on_delivery)
        return channel

    def _declare_refusals_as_config_errors(self, params: pika.URLParameters,
                                           channel: Any) -> list[str]:
        try:
            return self._declare(channel)
        except pika.exceptions.ChannelClosedByBroker as e:
            raise ConfigError(f"AMQP broker {params.host} refused the queues or bindings of "
                              f"hubsgen: {e.reply_code} {e.reply_text}") from e

    def _declare(self, channel: Any) -> list[str]:
        """Declare exchanges, queues and bindings; return the queue names to consume."""
        passive = self.topology.passive_declares
        for exchange, settings in self.topology.exchanges.items():
            if not exchange.startswith("amq.") and not passive:
                channel.exchange_declare(exchange, exchange_type=settings["type"],
                                         durable=settings["durable"],
                                         auto_delete=settings["auto_delete"],
                                         arguments=settings.get("arguments"))
        names: dict[str, str] = {}  # configured name -> actual ("" is named by the server)
        for queue, settings in self.topology.queues.items():
            result = channel.queue_declare(queue, passive=passive,
                                           durable=settings["durable"],
                                           auto_delete=settings["auto_delete"],
                                           exclusive=settings["exclusive"],
                                           arguments=settings.get("arguments"))
            names[queue] = result.method.queue
        for binding in self.topology.bindings:
            targets = [binding["queue"]] if "queue" in binding else list(names)
            for queue in targets:
                for key in binding["routing_keys"]:
                    channel.queue_bind(names.get(queue, queue), binding["exchange"],
                                       routing_key=key)
        return list(names.values())

    def _on_delivery(self, channel: Any, method: Any, properties: pika.BasicProperties,
                     body: bytes) -> None:
        self._inbox.append(_Delivery(method.delivery_tag, method.routing_key, properties, body))

    def _consume(self, channel: Any, max_messages: int, max_wait: float,
                 stop: threading.Event) -> Iterator[AmqpBatch]:
        while not stop.is_set():
            deliveries = self._collect(channel, max_messages, max_wait, stop)
            if stop.is_set():
                return  # what was collected is unacknowledged: delivered again next time
            messages: list[RawMessage] = []
            rejected: list[Rejected] = []
            for delivery in deliveries:
                if not belongs_to(delivery.routing_key, self.environment):
                    log.debug("Ignored %s: not of the %s environment", delivery.routing_key,
                              self.environment)
                    continue
                parsed = parse_delivery(delivery.routing_key, delivery.properties, delivery.body)
                if isinstance(parsed, Rejected):
                    rejected.append(parsed)
                else:
                    messages.append(parsed)
            batch = AmqpBatch(channel, deliveries[-1].tag if deliveries else 0, messages,
                              rejected)
            yield batch
            if not batch.settled:
                # Its deliveries hold the prefetch window: no more would ever arrive.
                raise RuntimeError("an AMQP batch must be done() or retry()'d before the next")

    def _collect(self, channel: Any, max_messages: int, max_wait: float,
                 stop: threading.Event) -> list[_Delivery]:
        """The first delivery within *max_wait* and whatever is ready after it, up to
        *max_messages*; maybe nothing."""
        deadline = time.monotonic() + max_wait
        while len(self._inbox) < max_messages and not stop.is_set():
            now = time.monotonic()
            if now >= deadline:
                break
            if not self._connection.is_open:  # pika noticed (in an ack, say); it cannot wait
                raise pika.exceptions.ConnectionWrongStateError("the connection was lost")
            if not channel.is_open:  # the broker closed it (an unknown delivery tag, say)
                raise pika.exceptions.ChannelWrongStateError("the channel was closed")
            had = len(self._inbox)
            self._connection.process_data_events(time_limit=deadline - now if not had else 0)
            if had and len(self._inbox) == had:
                break  # nothing more is ready: hand over what we have now
        taken, self._inbox = self._inbox[:max_messages], self._inbox[max_messages:]
        return taken


def parse_delivery(routing_key: str, properties: pika.BasicProperties,
                   body: bytes) -> RawMessage | Rejected:
    """Parse and validate one delivery with its fedora-messaging schema class, if installed."""
    msg_id = properties.message_id or ""
    headers = dict(properties.headers or {})

    def rejected(reason: str) -> Rejected:
        return Rejected(msg_id, reason, body, "amqp", routing_key,
                        {"headers": headers, "content_encoding": properties.content_encoding})

    try:
        message = _message(routing_key, properties, body)
    except Exception as e:  # a schema package may raise anything; this message only is lost
        return rejected(f"message {msg_id or '(no id)'} on {routing_key} does not parse or "
                        f"validate: {type(e).__name__}: {str(e)[:500]}")
    if not msg_id:
        return rejected(f"message on {routing_key} has no message_id")
    if not isinstance(message.body, Mapping):
        return rejected(f"message {msg_id} on {routing_key}: body is not an object")
    return RawMessage(msg_id=msg_id, topic=message.topic, timestamp=_sent_at(headers),
                      body=message.body, headers=headers)


def _message(routing_key: str, properties: pika.BasicProperties, body: bytes) -> Message:
    """What fedora-messaging's ``get_message()`` makes of a delivery, raising the same errors,
    but validated by ``schemas.validate`` with validators built once per schema class."""
    if properties.headers is None:
        properties.headers = {}
    schema = properties.headers.get("fedora_messaging_schema")
    message_class = Message if schema is None else get_class(schema)
    if properties.content_encoding is None:
        properties.content_encoding = "utf-8"
    try:
        body_dict = json.loads(body.decode(properties.content_encoding))
    except ValueError as e:  # UnicodeDecodeError too
        raise fm_exceptions.ValidationError(e) from e
    message = message_class(body=body_dict, topic=routing_key, properties=properties,
                            severity=properties.headers.get("fedora_messaging_severity", INFO))
    try:
        schemas.validate(message, properties.headers)
    except jsonschema.exceptions.ValidationError as e:
        raise fm_exceptions.ValidationError(e) from e
    return message


def reparse(msg_id: str, routing_key: str, kept: Mapping[str, Any],
            body: bytes) -> RawMessage | Rejected:
    """A delivery that ``parse_delivery`` refused, read again from what quarantine kept."""
    properties = pika.BasicProperties(message_id=msg_id or None,
                                      headers=dict(kept.get("headers") or {}),
                                      content_encoding=kept.get("content_encoding"))
    return parse_delivery(routing_key, properties, body)


def broker_address(params: pika.URLParameters) -> str:
    """The broker and virtual host, for messages: never the password."""
    return f"{params.host}:{params.port}/{params.virtual_host.lstrip('/')}"


def _sent_at(headers: Mapping[str, Any]) -> datetime:
    """The ``sent-at`` header fedora-messaging sets, else now."""
    try:
        sent = datetime.fromisoformat(str(headers["sent-at"]))
    except (KeyError, ValueError):
        return datetime.now(UTC)
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)
