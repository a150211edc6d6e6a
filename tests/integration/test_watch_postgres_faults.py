"""PostgreSQL restarts, fails over, goes away or reaps idle connections under a running
watcher: it pauses, resumes by itself, and loses nothing.

One test ends the watcher's database connections (``pg_terminate_backend``, what a restart or
an idle-connection reaper does to them) while it idles through its config polls, and again and
again while it stores and writes a stream of badge awards from AMQP. The other cuts the network
path to the database for a while, as an outage does. Every award must end up on its hub, every
delivery acknowledged, and the process still running.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import PG_URL
from tests.integration.daemon import Broker, broker, build_user_site, watching
from tests.integration.tcpproxy import Proxy
from tests.integration.test_watch_operations import award, scrape, shown
from tests.ports import free_port
from tests.timing import wait_until

USERS = [f"user{n:02d}" for n in range(20)]


@pytest.fixture
def bus(amqp_url: str) -> Iterator[Broker]:
    with broker(amqp_url) as bus:
        yield bus


class Reaper:
    """Ends every connection of one application name, as a restart of PostgreSQL would."""

    def __init__(self, application: str) -> None:
        self.application = application
        self.engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        self.ended = 0

    def reap(self) -> int:
        with self.engine.connect() as conn:
            ended = conn.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"), {"name": self.application}) or 0
        self.ended += ended
        return ended

    def close(self) -> None:
        self.engine.dispose()


def badge_site(tmp_path: Path, pg_url: str, db_url: str) -> list[str]:
    """User hubs with a badges widget on PostgreSQL, built; the watcher's --db (*db_url*, the
    same database by another way) and --out."""
    build_user_site(tmp_path, USERS, pg_url)
    return ["--db", db_url, "--out", str(tmp_path / "build")]


def test_the_watcher_rides_out_terminated_connections(tmp_path: Path, pg_url: str,
                                                      bus: Broker) -> None:
    uid = uuid.uuid4().hex[:10]
    application = f"hubsgen-test-{uid}"
    args = badge_site(tmp_path, pg_url, f"{pg_url}&application_name={application}")
    out = tmp_path / "build"
    prefix = f"org.t-{uid}.prod"
    env = bus.queue_config(tmp_path / "fedora-messaging.toml", f"hubsgen-t-{uid}",
                           [f"{prefix}.#"])
    reaper = Reaper(application)
    published: dict[str, set[str]] = {u: set() for u in USERS}
    port = free_port()

    def send(username: str, badge: str) -> None:
        bus.publish(f"{prefix}.fedbadges.badge.award", award(username, badge))
        published[username].add(badge)

    def all_shown() -> bool:
        return all(shown(out, u) >= badges for u, badges in published.items())

    def all_settled() -> bool:
        """Every delivery handled, the second delivery of each retried batch too: a batch
        that faulted after writing its files shows its awards while it waits to come again,
        and a watcher stopped then rightly leaves it on the queue."""
        metrics = scrape(port)
        sent = sum(len(badges) for badges in published.values())
        return (metrics["hubsgen_messages_received_total"]
                == sent + metrics["hubsgen_messages_redelivered_total"]
                and metrics["hubsgen_backlog_messages"] == 0)

    try:
        with watching([*args, "--source", "amqp", "--metrics", f"127.0.0.1:{port}"],
                      tmp_path / "watch.log", env) as daemon:
            # Idle: its pooled connections die under it, across two config polls (10 s each).
            deadline = time.monotonic() + 21
            while time.monotonic() < deadline:
                reaper.reap()
                time.sleep(1)
            assert reaper.ended >= 1, "the watcher held no connection to end"
            send(USERS[0], "after-idle")
            daemon.wait_for(all_shown, 60, "the award after the idle kills")

            # Writing: keep sending bursts and ending its connections until one ended in the
            # middle of a batch (the log says it paused), then check nothing was lost.
            burst = 0
            while "Paused" not in daemon.log():
                assert burst < 30, "no kill landed in a batch in 30 bursts"
                for username in USERS:
                    send(username, f"burst-{burst}")
                for _ in range(10):
                    reaper.reap()
                    time.sleep(0.05)
                burst += 1
            daemon.wait_for(all_shown, 120, "every award of every burst")
            daemon.wait_for(all_settled, 60, "every delivery handled")
            assert daemon.process.poll() is None
            assert daemon.signal(signal.SIGTERM) == 0
        wait_until(lambda: bus.ready(f"hubsgen-t-{uid}") == 0, "every delivery acknowledged")
    finally:
        reaper.close()
    summary = daemon.output()  # paused, never blamed a widget or a message for the database
    assert "faults" in summary and "0 failed" in summary, summary
    assert "quarantined" not in summary, summary


def test_the_watcher_waits_out_a_database_outage_and_resumes(tmp_path: Path, pg_url: str,
                                                             bus: Broker) -> None:
    """The database is unreachable for a while: the watcher pauses, longer each time, takes
    nothing off the queue for good, and goes on by itself once it is back."""
    url = make_url(pg_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.restore()
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    args = badge_site(tmp_path, pg_url, through_proxy)
    out = tmp_path / "build"
    uid = uuid.uuid4().hex[:10]
    prefix = f"org.t-{uid}.prod"
    queue = f"hubsgen-t-{uid}"
    env = bus.queue_config(tmp_path / "fedora-messaging.toml", queue, [f"{prefix}.#"])
    try:
        with watching([*args, "--source", "amqp"], tmp_path / "watch.log", env) as daemon:
            proxy.cut()
            bus.publish(f"{prefix}.fedbadges.badge.award", award(USERS[1], "in-the-outage"))
            daemon.wait_for(lambda: "Paused 4 s" in daemon.log(), 60, "a third, longer pause")
            assert shown(out, USERS[1]) == set()
            proxy.restore()
            daemon.wait_for(lambda: shown(out, USERS[1]) == {"in-the-outage"}, 60,
                            "the award, once the database is back")
            bus.publish(f"{prefix}.fedbadges.badge.award", award(USERS[2], "after"))
            daemon.wait_for(lambda: shown(out, USERS[2]) == {"after"}, 30, "the next award")
            assert daemon.signal(signal.SIGTERM) == 0
        wait_until(lambda: bus.ready(queue) == 0, "every delivery acknowledged")
    finally:
        proxy.cut()
    log = daemon.log()
    assert log.index("Paused 1 s") < log.index("Paused 2 s") < log.index("Paused 4 s")
    assert "0 failed" in daemon.output() and "quarantined" not in daemon.output()
