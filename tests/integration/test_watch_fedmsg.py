"""``hubsgen watch --source fedmsg`` end to end: real fedmsg publishing on loopback ZeroMQ, the
console script in a subprocess, and the output tree compared file by file."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fedmsg
import pytest

from tests.integration.watching import (
    PROBE_HUB,
    SmallSite,
    Watch,
    badge_award_body,
    build_small_site,
    changed_since,
    koji_build_body,
    ralph_award_files,
    snapshot,
    stored,
    wait_for_changes,
    wait_until,
    watching,
)

Publish = Callable[[str, str, dict[str, Any]], str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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
    # The keywords too: fedmsg caches the first configuration it read in this process.
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


def join(watch: Watch, publish: Publish) -> None:
    """Probe until the watcher logs one: a SUB socket misses what is sent before it joined."""
    probes: list[str] = []

    def probe_arrived() -> bool:
        probes.append(publish("hubs", "hub.update", PROBE_HUB))
        return any(f"Message {msg_id} (hubs.hub.update) refreshes lounge/" in watch.log()
                   for msg_id in probes)

    wait_until(probe_arrived, "a probe reached hubsgen watch", timeout=15)


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> SmallSite:
    """The small site, on SQLite and on PostgreSQL."""
    return build_small_site(db_url, tmp_path)


def test_badge_award_rewrites_ralphs_badges_versions_and_page_only(
        site: SmallSite, endpoint: str, publish: Publish, tmp_path: Path) -> None:
    """Assert a fedbadges.badge.award for ralph, published with fedmsg, rewrites exactly his
    badges fragment, versions.json and page; every other file keeps its bytes and mtime."""
    with watching("--source", "fedmsg", "--endpoint", endpoint, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path) as watch:
        join(watch, publish)
        before = snapshot(site.out)
        msg_id = publish("fedbadges", "badge.award", badge_award_body("ralph", "tester"))
        wait_for_changes(site.out, before, ralph_award_files(site))
        counts = watch.stop()
    assert changed_since(site.out, before) == ralph_award_files(site)
    assert counts["rewritten"] == 3 and counts["failed"] == 0
    badges = (site.out / "ralph" / "widgets" / f"{site.ralph_badges}.json").read_text()
    assert "Tester" in badges
    assert f"Message {msg_id} (fedbadges.badge.award) refreshes ralph/{site.ralph_badges}" \
        in watch.log()
    assert "Traceback" not in watch.log()


def test_a_message_concerning_nobody_changes_nothing(
        site: SmallSite, endpoint: str, publish: Publish, tmp_path: Path) -> None:
    """Assert a Koji build by someone without a hub, then a probe behind it, leave every file's
    bytes and mtime as they were."""
    with watching("--source", "fedmsg", "--endpoint", endpoint, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path) as watch:
        join(watch, publish)
        before = snapshot(site.out)
        build = publish("buildsys", "build.state.change", koji_build_body("nobody-known"))
        probe = publish("hubs", "hub.update", PROBE_HUB)  # one socket: it arrives after
        watch.wait_for_log(f"Message {probe} (hubs.hub.update) refreshes lounge/")
        watch.stop()  # handles the batch it is in to the end, so no write can follow
    assert changed_since(site.out, before) == set()
    assert stored(site.db_url, [build]) == {build}  # handled, not missed
    assert f"Message {build} " not in watch.log()  # and it refreshed nothing
    assert watch.written() == []
