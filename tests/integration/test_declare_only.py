"""``hubsgen watch --declare-only`` against the real RabbitMQ: the first step of a deployment
declares the queue, so a message published during the first build waits for the watcher.

The queue has a name of its own (a fedora-messaging file), never the shared ``hubsgen``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pika
import pika.exceptions

from hubsgen.demo import messages
from tests.integration.daemon import HUBSGEN, broker, build_user_site, watching


def fedora_messaging_file(path: Path, url: str, queue: str,
                          topics: Sequence[str]) -> dict[str, str]:
    """A fedora-messaging file for a durable *queue* bound to *topics*, not declared; the
    environment that selects it."""
    keys = ", ".join(f'"{topic}"' for topic in topics)
    path.write_text(f'amqp_url = "{url}"\n[client_properties]\napp = "hubsgen tests"\n'
                    f"[queues.{queue}]\ndurable = true\nauto_delete = false\nexclusive = false\n"
                    f'arguments = {{}}\n[[bindings]]\nqueue = "{queue}"\n'
                    f'exchange = "amq.topic"\nrouting_keys = [{keys}]\n')
    return {"FEDORA_MESSAGING_CONF": str(path)}


def exists(url: str, queue: str) -> bool:
    """Whether the broker has *queue* (a passive declare, on a connection of its own: a
    refusal closes the channel)."""
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        try:
            connection.channel().queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker:
            return False
    return True


def badges_shown(fragment: Path) -> set[str]:
    return {badge["id"] for badge in json.loads(fragment.read_bytes())["data"]["badges"]}


def test_declare_only_keeps_what_is_published_before_the_watcher_starts(
        tmp_path: Path, amqp_url: str) -> None:
    """Assert --declare-only declares the queue and its bindings and exits 0 without touching
    the database or the output; then an award published before the build is handled by the
    watcher started after it."""
    uid = f"t-{uuid.uuid4().hex[:10]}"
    queue = f"hubsgen-{uid}"
    with broker(amqp_url) as bus:
        bus.queues.append(queue)  # deleted afterwards
        env = fedora_messaging_file(tmp_path / "fedora-messaging.toml", amqp_url, queue,
                                    [f"org.{uid}.prod.#"])
        assert not exists(amqp_url, queue)
        done = subprocess.run([str(HUBSGEN), "watch", "--source", "amqp", "--declare-only",
                               "--db", "sqlite:///missing.db", "--out", "build"],
                              cwd=tmp_path, env={**os.environ, **env}, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        vhost = unquote(urlsplit(amqp_url).path[1:]).lstrip("/")
        assert done.stdout == f"Declared {queue} on 127.0.0.1:5672/{vhost}\n"
        assert exists(amqp_url, queue)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["fedora-messaging.toml"]

        award = messages.badge_award(datetime.now(UTC), "ralph", "early-bird", "Early bird",
                                     "Published while the first build ran").body
        bus.publish(f"org.{uid}.prod.fedbadges.badge.award", award)
        args = build_user_site(tmp_path, ["ralph"])  # the unit's ExecStartPre build
        assert bus.ready(queue) == 1
        fragment = next((tmp_path / "build" / "ralph" / "widgets").glob("[!.]*.json"))
        assert badges_shown(fragment) == set()
        with watching([*args, "--source", "amqp"], tmp_path / "watch.log", env) as watch:
            watch.wait_for(lambda: badges_shown(fragment), 60, "the award in ralph's badges")
            assert watch.signal(signal.SIGTERM) == 0
        assert badges_shown(fragment) == {"early-bird"}
        assert bus.ready(queue) == 0


def test_declare_only_needs_an_amqp_source(tmp_path: Path) -> None:
    done = subprocess.run([str(HUBSGEN), "watch", "--source", "replay:-", "--declare-only"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr == ("Error: --declare-only needs an AMQP source (--source amqp or "
                           "amqp://URL), got replay:-\n")


def test_the_unit_declares_the_queue_before_its_build_and_gives_the_build_time() -> None:
    unit = (Path(__file__).resolve().parents[2] / "deploy" / "hubsgen-watch.service").read_text()
    pre = [line for line in unit.splitlines() if line.startswith("ExecStartPre=")]
    assert pre[0].endswith("hubsgen watch --source amqp --declare-only")
    assert " build " in pre[1]
    assert "\nTimeoutStartSec=30min\n" in unit
