"""``hubsgen watch --source amqp://...`` end to end: fedora_messaging.api.publish into the real
RabbitMQ, the console script in a subprocess, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubsgen.watch.sources.amqp import AmqpSource, queue_name
from tests.integration.rabbitmq import Publish, channel, publisher, ready_count
from tests.integration.watching import (
    PROBE_HUB,
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

BADGE = "org.fedoraproject.prod.fedbadges.badge.award"
BUILD = "org.fedoraproject.prod.buildsys.build.state.change"
PROBE = "org.fedoraproject.prod.hubs.hub.update"
TOPICS = (BADGE, BUILD, PROBE)
QUEUE = queue_name()  # what --source amqp://URL consumes without --shard
TOPIC_OPTIONS = [option for topic in TOPICS for option in ("--topic", topic)]


@pytest.fixture
def admin(amqp_url: str) -> Iterator[Any]:
    """Our own channel; the watcher's queue is gone before the test and after it.

    ``--source amqp://URL`` always names its queue ``hubsgen``: the session's virtual host keeps
    other runs' out, and deleting it first keeps out what an earlier test here left.
    """
    with channel(amqp_url) as admin:
        admin.queue_delete(QUEUE)
        yield admin
        admin.queue_delete(QUEUE)


@pytest.fixture
def publish(admin: Any, amqp_url: str) -> Publish:
    return publisher(amqp_url)


def declare_queue(amqp_url: str) -> None:
    """Declare the queue and its bindings before the build, as a deployment does: the broker
    keeps what is published from then on, whenever the watcher starts consuming."""
    AmqpSource(amqp_url, topics=TOPICS).declare()


def test_badge_award_rewrites_only_ralphs_files_and_is_acknowledged(
        db_url: str, tmp_path: Path, amqp_url: str, admin: Any, publish: Publish) -> None:
    """Assert a badge award for ralph rewrites exactly his badges fragment, versions.json and
    page, a Koji build by nobody known then changes nothing, both are stored, and the queue is
    empty once the watcher stopped: every message was acknowledged."""
    declare_queue(amqp_url)
    site = build_small_site(db_url, tmp_path)
    before = snapshot(site.out)
    with watching("--source", amqp_url, *TOPIC_OPTIONS, "--db", db_url, "--out", str(site.out),
                  cwd=tmp_path) as watch:
        award = publish(BADGE, badge_award_body("ralph", "tester"))
        wait_for_changes(site.out, before, ralph_award_files(site))
        assert changed_since(site.out, before) == ralph_award_files(site)

        after_award = snapshot(site.out)
        build = publish(BUILD, koji_build_body("nobody-known"))
        probe = publish(PROBE, PROBE_HUB)  # one queue, one consumer: handled after the build
        watch.wait_for_log(f"Message {probe} (hubs.hub.update) refreshes lounge/")
        counts = watch.stop()
    assert changed_since(site.out, after_award) == set()
    assert stored(db_url, [award, build, probe]) == {award, build, probe}
    assert f"Message {award} (fedbadges.badge.award) refreshes ralph/{site.ralph_badges}" \
        in watch.log()
    assert f"Message {build} " not in watch.log()
    assert counts["received"] == 3 and counts["rewritten"] == 4 and counts["failed"] == 0
    assert ready_count(admin, QUEUE, 0) == 0


def test_a_message_whose_files_could_not_be_written_is_delivered_again(
        sqlite_url: str, tmp_path: Path, amqp_url: str, admin: Any, publish: Publish) -> None:
    """Assert that while writing ralph's files fails (his widgets directory is a file) the
    watcher pauses without acknowledging and lives on, and writes them once the fault clears."""
    declare_queue(amqp_url)
    site = build_small_site(sqlite_url, tmp_path)
    widgets = site.out / "ralph" / "widgets"
    widgets.rename(tmp_path / "ralph-widgets")
    widgets.write_text("in the way")
    with watching("--source", amqp_url, *TOPIC_OPTIONS, "--db", sqlite_url,
                  "--out", str(site.out), cwd=tmp_path) as watch:
        award = publish(BADGE, badge_award_body("ralph", "tester"))
        wait_until(lambda: watch.log().count("Paused") >= 2, "two pauses in the log")
        assert "NotADirectoryError" in watch.log()
        assert watch.process.poll() is None
        before = snapshot(site.out)
        widgets.unlink()
        (tmp_path / "ralph-widgets").rename(widgets)
        wait_for_changes(site.out, before, ralph_award_files(site))
        counts = watch.stop()
    assert f"Message {award} (fedbadges.badge.award) refreshes ralph/" in watch.log()
    assert counts["faults"] >= 2 and counts["redelivered"] >= 2
    assert counts["duplicate"] >= 1  # stored at the first try; stored once
    assert ready_count(admin, QUEUE, 0) == 0
