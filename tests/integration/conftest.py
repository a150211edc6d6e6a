"""Fixtures of the integration tests: a fedmsg publisher on loopback, a RabbitMQ virtual host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fedmsg
import fedmsg.config
import pytest

from tests.integration.bus import Publish
from tests.integration.rabbitmq import private_vhost
from tests.ports import free_port


@pytest.fixture
def endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fedmsg publisher bound to a free loopback port."""
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.fedmsg.d of the person running tests
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    config = {"endpoints": {"hubsgentest.publisher": [endpoint]}, "environment": "prod",
              "sign_messages": False, "validate_signatures": False, "post_init_sleep": 0}
    (tmp_path / "fedmsg.d").mkdir()
    (tmp_path / "fedmsg.d" / "hubsgen_test.py").write_text(f"config = {config!r}\n")
    # The keywords too: fedmsg caches the first configuration it read in this process, and an
    # in-process watcher fills that cache with the little its fedmsg.meta processors need.
    fedmsg.config.load_config([], None, invalidate_cache=True)
    fedmsg.init(name="hubsgentest.publisher", **config)
    try:
        yield endpoint
    finally:
        fedmsg.destroy()


@pytest.fixture
def publish(endpoint: str) -> Publish:
    """Publish with fedmsg.publish; return the msg_id fedmsg gave the message."""
    def publish(modname: str, topic: str, body: dict[str, Any]) -> str:
        sent: list[dict[str, Any]] = []
        fedmsg.publish(topic=topic, modname=modname, msg=body, pre_fire_hook=sent.append)
        return str(sent[0]["msg_id"])

    return publish


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """The URL of this session's own RabbitMQ virtual host (see tests.integration.rabbitmq)."""
    with private_vhost() as url:
        yield url
