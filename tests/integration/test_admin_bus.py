"""``hubsgen widget configure --bus fedmsg|amqp`` against a running ``hubsgen watch``, both
console scripts in subprocesses: the announced change makes the watcher rewrite that widget's
fragment, its hub's versions.json and page, and no other file."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zmq

from hubsgen.watch.sources.amqp import AmqpSource, queue_name
from tests.integration.bus import Publish, join
from tests.integration.rabbitmq import channel, ready_count
from tests.integration.watching import (
    HUBSGEN,
    SmallSite,
    build_small_site,
    changed_since,
    snapshot,
    wait_for_changes,
    watching,
)
from tests.ports import free_port
from tests.timing import seconds

NOTE = "Something **happens** here"


@dataclass(frozen=True)
class Relay:
    inbound: str  # where one-shot publishers connect (fedmsg's relay_inbound)
    outbound: str  # where subscribers connect


@pytest.fixture
def relay(endpoint: str) -> Iterator[Relay]:
    """What fedmsg-relay does (it needs moksha): a SUB socket bound at relay_inbound forwarding
    to a PUB socket bound at the outbound endpoint. It also forwards the test's own publisher,
    so the probes of ``join`` prove the path from the relay to the watcher."""
    relay = Relay(f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}")
    bound, stop = threading.Event(), threading.Event()

    def forward() -> None:
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        inbound, outbound = context.socket(zmq.SUB), context.socket(zmq.PUB)
        try:
            inbound.setsockopt(zmq.SUBSCRIBE, b"")
            inbound.bind(relay.inbound)
            inbound.connect(endpoint)
            outbound.bind(relay.outbound)
            bound.set()
            while not stop.is_set():
                if inbound.poll(50):
                    outbound.send_multipart(inbound.recv_multipart())
        finally:
            inbound.close(linger=0)
            outbound.close(linger=0)
            context.term()

    thread = threading.Thread(target=forward, name="relay")
    thread.start()
    try:
        assert bound.wait(seconds(5)), "the relay could not bind its endpoints"
        yield relay
    finally:
        stop.set()
        thread.join(5)


def run_admin(*args: str, cwd: Path, **env: str) -> str:
    """Run ``hubsgen ARGS`` as an admin would, in *cwd* (and its fedmsg.d), with no settings
    of whoever runs the tests; fail with its output unless it exits 0."""
    cwd.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if k not in {
        "HUBSGEN_CONFIG", "HUBS_DB_URL", "HUBSGEN_BUS", "FEDORA_MESSAGING_CONF"}}
    done = subprocess.run([str(HUBSGEN), *args], cwd=cwd, capture_output=True, text=True,
                          env={**clean, "HOME": str(cwd), **env}, timeout=seconds(120),
                          check=False)
    if done.returncode != 0:
        pytest.fail(f"hubsgen {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def configure_lounge_note(site: SmallSite, bus: str, cwd: Path, **env: str) -> str:
    """Change lounge's sticky note with ``--bus BUS``; the id of the message announcing it."""
    out = run_admin("widget", "configure", f"lounge/{site.lounge_sticky}", "--set",
                    f"text={NOTE}", "--bus", bus, "--db", site.db_url, cwd=cwd, **env)
    assert out.startswith(f"Configured widget lounge/{site.lounge_sticky} (sticky)\n")
    announced = re.search(r"hubs\.widget\.update lounge \(msg ([^)]+)\)", out)
    assert announced, out
    return announced[1]


def lounge_note_files(site: SmallSite) -> set[str]:
    return {f"lounge/widgets/{site.lounge_sticky}.json", "lounge/versions.json",
            "lounge/index.html"}


def assert_only_the_note_was_rewritten(site: SmallSite, before: dict[str, Any], log: str,
                                       msg_id: str) -> None:
    assert changed_since(site.out, before) == lounge_note_files(site)
    fragment = (site.out / "lounge" / "widgets" / f"{site.lounge_sticky}.json").read_text()
    assert "Something <strong>happens</strong> here" in fragment
    assert f"Message {msg_id} (hubs.widget.update) refreshes lounge/{site.lounge_sticky}" in log
    assert "Traceback" not in log


def test_configure_announced_on_fedmsg_is_rewritten_by_a_running_watch(
        db_url: str, tmp_path: Path, relay: Relay, publish: Publish) -> None:
    """Assert ``widget configure --bus fedmsg`` publishes hubs.widget.update through the relay
    named by fedmsg.d, and the watcher subscribed to the relay's outbound endpoint rewrites
    exactly lounge's note fragment, versions.json and page."""
    site = build_small_site(db_url, tmp_path)
    admin = tmp_path / "admin"
    (admin / "fedmsg.d").mkdir(parents=True)
    config = {"relay_inbound": [relay.inbound], "endpoints": {"relay_outbound": [relay.outbound]},
              "environment": "prod", "sign_messages": False, "validate_signatures": False}
    (admin / "fedmsg.d" / "hubsgen_admin.py").write_text(f"config = {config!r}\n")
    with watching("--source", "fedmsg", "--endpoint", relay.outbound, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path) as watch:
        join(watch, publish)
        before = snapshot(site.out)
        msg_id = configure_lounge_note(site, "fedmsg", admin)
        wait_for_changes(site.out, before, lounge_note_files(site))
        counts = watch.stop()
    assert_only_the_note_was_rewritten(site, before, watch.log(), msg_id)
    assert counts["failed"] == 0


QUEUE = queue_name()  # what --source amqp://URL consumes without --shard
TOPICS = ("org.fedoraproject.prod.hubs.widget.update", "org.fedoraproject.prod.hubs.hub.update")


@pytest.fixture
def admin(amqp_url: str) -> Iterator[Any]:
    """The watcher's queue is gone before the test and after it (its name is always hubsgen,
    so an earlier test in the session's virtual host may have left it)."""
    with channel(amqp_url) as admin:
        admin.queue_delete(QUEUE)
        yield admin
        admin.queue_delete(QUEUE)


def test_configure_announced_on_amqp_is_rewritten_by_a_running_watch(
        db_url: str, tmp_path: Path, amqp_url: str, admin: Any) -> None:
    """Assert ``widget configure --bus amqp`` publishes with fedora-messaging's configuration
    (its topic_prefix before the topic), and the watcher consuming the bound queue rewrites
    exactly lounge's note fragment, versions.json and page, and acknowledges the message."""
    AmqpSource(amqp_url, topics=TOPICS).declare()
    site = build_small_site(db_url, tmp_path)
    conf = tmp_path / "fedora-messaging.toml"
    conf.write_text(f'amqp_url = "{amqp_url}"\ntopic_prefix = "org.fedoraproject.prod"\n')
    before = snapshot(site.out)
    topics = [option for topic in TOPICS for option in ("--topic", topic)]
    with watching("--source", amqp_url, *topics, "--db", site.db_url, "--out", str(site.out),
                  cwd=tmp_path) as watch:
        msg_id = configure_lounge_note(site, "amqp", tmp_path / "admin",
                                       FEDORA_MESSAGING_CONF=str(conf))
        wait_for_changes(site.out, before, lounge_note_files(site))
        counts = watch.stop()
    assert_only_the_note_was_rewritten(site, before, watch.log(), msg_id)
    assert counts["received"] == 1 and counts["failed"] == 0
    assert ready_count(admin, QUEUE, 0) == 0
