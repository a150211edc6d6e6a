"""Publishing on a fedmsg bus on loopback, as Fedora's services did, for the tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.watching import PROBE_HUB, Watch
from tests.timing import wait_until

Publish = Callable[[str, str, dict[str, Any]], str]
"""publish(modname, topic, body) -> the msg_id fedmsg gave the message."""



def join(watch: Watch, publish: Publish) -> None:
    """Probe until the watcher logs one: a SUB socket misses what is sent before it joined."""
    probes: list[str] = []

    def probe_arrived() -> bool:
        probes.append(publish("hubs", "hub.update", PROBE_HUB))
        return any(f"Message {msg_id} (hubs.hub.update) refreshes lounge/" in watch.log()
                   for msg_id in probes)

    wait_until(probe_arrived, "a probe reached hubsgen watch", timeout=30)
