"""Carry an admin change to build/: announce it on the bus, so a running ``hubsgen watch``
rewrites what it changed, or, with no bus, rewrite those hubs' files right here.

Announcements go out on ``org.fedoraproject.<[bus] environment>.hubs.*``, whatever environment
fedmsg.d or fedora-messaging's topic_prefix name: the deployment's watchers listen to that
environment only."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hubs.errors import ConfigError, ServiceError

if TYPE_CHECKING:
    from hubs.admin import Change, Notice
    from hubs.plugins import Registry
    from hubs.settings import Settings
    from hubsgen.build.run import BuildReport

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 30
"""Seconds to wait for the AMQP broker to confirm a message."""


def rewrite(settings: Settings, change: Change,
            registry: Registry | None = None) -> BuildReport | None:
    """Build the hubs *change* touched (and the directory page), with the plugins of
    *registry* if the command loaded them already; None if it touched none."""
    if not change.hubs:
        return None  # run_build would build every hub
    from hubsgen.build.run import run_build  # heavy: only when files are written here

    return run_build(settings, change.hubs, registry=registry)


def publish(bus: str, notices: Sequence[Notice], environment: str) -> list[str]:
    """Publish *notices* on *bus*, one of PUBLISHERS, in *environment*; the ids the messages
    went out with."""
    return PUBLISHERS[bus](notices, environment)


def _publish_fedmsg(notices: Sequence[Notice], environment: str) -> list[str]:
    """Through fedmsg-relay, as fedmsg-logger does: a command that binds its own endpoint and
    exits at once is gone before any subscriber has connected to it."""
    import fedmsg.config
    import fedmsg.core
    import zmq

    from hubs.understand.topics import FEDORA

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # load_config is, yet it works
            config = dict(fedmsg.config.load_config([], None, invalidate_cache=True))
    except ValueError as e:
        raise ConfigError(f"fedmsg configuration: {str(e).rstrip('.')}") from e
    if not config.get("relay_inbound"):
        raise ConfigError("fedmsg configuration lists no relay_inbound endpoint: hubsgen "
                          "publishes through fedmsg-relay; list it in /etc/fedmsg.d")
    config.update(active=True, name="relay_inbound", endpoints=dict(config["endpoints"]),
                  topic_prefix=FEDORA, environment=environment)
    sent: list[str] = []

    def keep_id(msg: dict[str, object]) -> None:
        sent.append(str(msg["msg_id"]))

    try:
        context = fedmsg.core.FedMsgContext(**config)
        try:
            for notice in notices:
                modname, topic = notice.topic.split(".", 1)  # fedmsg adds prefix and env
                context.publish(topic=topic, msg=dict(notice.body), modname=modname,
                                pre_fire_hook=keep_id)
                log.info("Published %s (msg %s) on fedmsg", notice.topic, sent[-1])
        finally:
            context.destroy()  # waits up to zmq_linger for the relay to take them
    except (OSError, KeyError, zmq.ZMQError) as e:  # a bad endpoint, a missing certificate
        raise ServiceError(f"publishing on fedmsg failed: {e!r}") from e
    return sent


def _publish_amqp(notices: Sequence[Notice], environment: str) -> list[str]:
    """With fedora-messaging and its TOML configuration ($FEDORA_MESSAGING_CONF), its
    topic_prefix set to *environment*'s (``org.fedoraproject.stg``)."""
    from fedora_messaging import api
    from fedora_messaging import config as fm_config
    from fedora_messaging import exceptions as fm_exceptions

    from hubs.understand.topics import fedora_prefix
    from hubsgen.watch.sources.amqp import DEFAULT_CONFIG

    path = Path(os.environ.get("FEDORA_MESSAGING_CONF", DEFAULT_CONFIG))
    if not path.is_file():
        raise ConfigError(f"fedora-messaging configuration {path} does not exist; "
                          "set $FEDORA_MESSAGING_CONF")
    try:
        fm_config.conf.load_config(str(path))
    except fm_exceptions.ConfigurationException as e:
        raise ConfigError(f"fedora-messaging configuration {path}: {e.message}") from e
    fm_config.conf["topic_prefix"] = fedora_prefix(environment)  # goes before each topic
    from hubs.messages import CLASSES

    sent = []
    for notice in notices:
        # The schema class, so the message carries its name and receivers can validate it.
        message = CLASSES[notice.topic](topic=notice.topic, body=dict(notice.body))
        try:
            api.publish(message, timeout=PUBLISH_TIMEOUT)
        except (fm_exceptions.PublishException, fm_exceptions.ConnectionException) as e:
            raise ServiceError(f"publishing {notice.topic} on AMQP failed: {e}") from e
        log.info("Published %s (msg %s) on AMQP", notice.topic, message.id)
        sent.append(str(message.id))
    return sent


PUBLISHERS = {"fedmsg": _publish_fedmsg, "amqp": _publish_amqp}
BUSES = ("none", *PUBLISHERS)
"""What ``--bus`` accepts: "none" rewrites files here instead of publishing."""
