"""Open the source a ``--source`` option names."""

from __future__ import annotations

from collections.abc import Sequence

from hubs.errors import ConfigError
from hubsgen.watch.sources import Source


def open_source(spec: str, *, endpoints: Sequence[str] = (), topics: Sequence[str] = (),
                once: bool = False, queue_suffix: str = "", environment: str = "prod") -> Source:
    """``fedmsg``, ``amqp`` (fedora-messaging's TOML config), ``amqp://...``, ``replay:PATH``.

    The bus sources hand out only messages of *environment*; a replay file is read whole.
    """
    if spec.startswith("replay:"):
        from hubsgen.watch.sources.replay import ReplaySource

        return ReplaySource(spec.removeprefix("replay:"), follow=not once)
    if spec == "fedmsg":
        from hubsgen.watch.sources.fedmsg import FedmsgSource

        return FedmsgSource(endpoints or None, environment=environment)
    if spec == "amqp" or spec.startswith(("amqp://", "amqps://")):
        from hubsgen.watch.sources.amqp import AmqpSource

        return AmqpSource(None if spec == "amqp" else spec, topics=topics,
                          queue_suffix=queue_suffix, environment=environment)
    raise ConfigError(
        f"unknown source {spec!r}: use fedmsg, amqp, amqp://URL or replay:PATH (- for stdin)")
