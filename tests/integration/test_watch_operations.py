"""Running hubsgen watch: a clean SIGTERM, Prometheus metrics, bad input, failing widgets."""

from __future__ import annotations

import importlib
import json
import logging
import signal
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hubs.models import WidgetInstance
from hubs.settings import load_settings
from hubs.testing import T0, add_hub, fedmsg_envelope, make_engine
from hubsgen.build.run import run_build
from hubsgen.demo import messages
from hubsgen.watch.daemon import WatchOptions, open_watcher
from hubsgen.watch.retries import Retry
from hubsgen.watch.sources.replay import ReplaySource
from tests.integration.daemon import Broker, broker, build_user_site, watching
from tests.plugin_dist import install_plugins
from tests.ports import free_port
from tests.timing import seconds, wait_until

log = logging.getLogger(__name__)

USERS = [f"user{n:03d}" for n in range(40)]


def fragment(out: Path, hub: str) -> dict[str, Any]:
    """The hub's one badges fragment."""
    doc: dict[str, Any] = json.loads(
        next((out / hub / "widgets").glob("[!.]*.json")).read_bytes())
    return doc


def shown(out: Path, hub: str) -> set[str]:
    return {badge["id"] for badge in fragment(out, hub)["data"]["badges"]}


def award(username: str, badge: str) -> Mapping[str, Any]:
    return messages.badge_award(datetime.now(UTC), username, badge, badge.title(),
                                "Earned while watched").body


@pytest.fixture
def bus(amqp_url: str) -> Iterator[Broker]:
    with broker(amqp_url) as bus:
        yield bus


def private_queue(bus: Broker, tmp_path: Path) -> tuple[str, str, dict[str, str]]:
    """A topic prefix of this test's own, its queue, and the environment selecting it."""
    uid = f"t-{uuid.uuid4().hex[:10]}"
    queue = f"hubsgen-{uid}"
    env = bus.queue_config(tmp_path / "fedora-messaging.toml", queue, [f"org.{uid}.prod.#"])
    return f"org.{uid}.prod", queue, env


def test_sigterm_finishes_the_batch_in_hand_and_exits_0(tmp_path: Path, bus: Broker) -> None:
    """Assert SIGTERM mid-batch still writes and acknowledges the batch in hand, loses
    nothing, then exits 0 with the Stopped summary as the log's last line."""
    args = build_user_site(tmp_path, USERS)
    out = tmp_path / "build"
    prefix, queue, env = private_queue(bus, tmp_path)
    for username in USERS:  # queued before the start, so the first batch holds them all
        bus.publish(f"{prefix}.fedbadges.badge.award", award(username, f"{username}-b"))
    with watching([*args, "--source", "amqp"], tmp_path / "watch.log", env) as daemon:
        daemon.wait_for(lambda: any(shown(out, u) for u in USERS), 60, "a first fragment")
        unwritten = [u for u in USERS if not shown(out, u)]
        assert daemon.signal(signal.SIGTERM) == 0
    assert unwritten, "the batch was complete before SIGTERM: nothing was in hand"
    # Batches end when nothing more is ready, so the queue may hold the rest: each message is
    # either written (its batch finished and acknowledged) or still queued, never lost.
    written = [u for u in USERS if shown(out, u)]
    assert all(shown(out, u) == {f"{u}-b"} for u in written)
    assert len(written) + bus.ready(queue) == len(USERS)
    last = daemon.log().rstrip().splitlines()[-1]
    assert "Stopped: " in last and f"matched {len(written)}" in last, last
    assert f"{len(written)} matched" in daemon.output()


def scrape(port: int) -> dict[str, float]:
    """Every sample served at /metrics, by name."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=seconds(5)) as response:
        text = response.read().decode()
    return {s.name: s.value for family in text_string_to_metric_families(text)
            for s in family.samples if not s.labels or "le" not in s.labels}


def test_metrics_count_received_malformed_matched_rewritten_and_latency(
        tmp_path: Path, bus: Broker) -> None:
    """Assert /metrics counts two awards, a malformed delivery and an unmatched message."""
    args = build_user_site(tmp_path, USERS[:2])
    prefix, _, env = private_queue(bus, tmp_path)
    port = free_port()
    with watching([*args, "--source", "amqp", "--metrics", f"127.0.0.1:{port}"],
                  tmp_path / "watch.log", env) as daemon:
        assert scrape(port)["hubsgen_messages_received_total"] == 0
        for username in USERS[:2]:
            bus.publish(f"{prefix}.fedbadges.badge.award", award(username, "metered"))
        bus.publish_raw(f"{prefix}.fedbadges.badge.award", b"{not json", "broken-1")
        bus.publish(f"{prefix}.nobody.listens.here", {"hello": "world"})

        def all_four() -> dict[str, float] | None:
            metrics = scrape(port)
            done = (metrics["hubsgen_messages_received_total"] == 4
                    and metrics["hubsgen_refresh_latency_seconds_count"] == 2)
            return metrics if done else None

        metrics = daemon.wait_for(all_four, 30, "four messages handled")
    assert metrics["hubsgen_messages_malformed_total"] == 1
    assert metrics["hubsgen_messages_matched_total"] == 2
    assert metrics["hubsgen_files_rewritten_total"] == 8  # fragment, versions, page, feed each
    assert metrics["hubsgen_messages_quarantined_total"] == 1
    assert 0 < metrics["hubsgen_refresh_latency_seconds_sum"] < 30
    assert metrics["process_resident_memory_bytes"] > 0  # the standard collectors too
    assert {"python_gc_objects_collected_total", "python_info"} <= metrics.keys()
    assert (f"Quarantined message broken-1 ({prefix}.fedbadges.badge.award) at decode: "
            "message broken-1 on") in daemon.log()


def test_replay_skips_malformed_unknown_and_huge_messages_and_handles_the_rest(
        tmp_path: Path) -> None:
    """Assert bad JSON and a 1.1 MiB body are logged, counted and quarantined, an unknown
    topic is stored, and the award after them is handled."""
    args = build_user_site(tmp_path, USERS[:1])
    out = tmp_path / "build"
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    unknown = {"topic": "org.fedoraproject.prod.nobody.listens.here", "msg": {"n": 1},
               "msg_id": "unknown-1", "timestamp": T0.timestamp()}
    huge = {**unknown, "topic": "org.fedoraproject.prod.fedbadges.badge.award",
            "msg_id": "huge-1", "msg": {"blob": "x" * (1024 * 1024 + 100)}}
    good = fedmsg_envelope(messages.badge_award(T0 + timedelta(hours=1), USERS[0], "late",
                                                "Late", "After the bad ones"))
    path = tmp_path / "replay.jsonl"
    path.write_text("\n".join(["{not json", json.dumps(unknown), json.dumps(huge),
                               json.dumps(good)]) + "\n")
    with watching([*args, "--source", f"replay:{path}", "--once"], tmp_path / "watch.log",
                  ready=False) as daemon:
        assert daemon.wait(60) == 0
    log = daemon.log()
    assert "Quarantined message line 1 (no topic) at decode: message (no id): not JSON" in log
    assert "Quarantined message line 3 (no topic) at decode: message huge-1: body is" in log
    assert f"Message {good['msg_id']} (fedbadges.badge.award) refreshes {USERS[0]}/" in log
    assert "malformed 2, matched 1, pruned 0, quarantined 2, received 4" in log
    assert shown(out, USERS[0]) == {"late"}
    changed = {str(p.relative_to(out)) for p in out.rglob("*")
               if p.is_file() and before.get(p) != p.stat().st_mtime_ns}
    assert len(changed) == 4 and all(c.startswith(f"{USERS[0]}/") for c in changed)


FLAKY = '''
"""A widget that fails while its configuration says so, like one whose service is down."""
from hubs.validators import boolean
from hubs.widget import CONFIG_TOPICS, Argument, Hint, Widget, hub_reconfigured


def flaky_data(ctx):
    if ctx.config["fail"]:
        raise RuntimeError("the tracker is down")
    return {"word": ctx.config["word"]}


WIDGET = Widget(name="flaky", template="flaky.html", data=flaky_data,
                hint=Hint(topics=CONFIG_TOPICS), should_invalidate=hub_reconfigured,
                arguments=(Argument("fail", False, boolean, "fail on purpose"),
                           Argument("word", "fine", str, "what to show")))
'''


@pytest.fixture
def flaky_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A third-party 'flaky' widget, found through its entry point, for this test only."""
    root = install_plugins(tmp_path / "site", {"flaky": FLAKY},
                           {"flaky.html": "<p class='flaky'>{{ data.word }}</p>"},
                           {"flaky": "opswidgets.flaky:WIDGET"}, dist="opswidgets")
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    yield
    for name in [m for m in sys.modules if m.startswith("opswidgets")]:
        del sys.modules[name]


def reconfigure(engine: Engine, instance_id: int, **config: object) -> None:
    with Session(engine) as session:
        instance = session.get_one(WidgetInstance, instance_id)
        instance.config = {**instance.config, **config}
        session.commit()


def test_a_failing_widget_stays_stale_and_is_retried_with_backoff(
        tmp_path: Path, flaky_plugin: None) -> None:
    """Assert a widget whose data function raises keeps its last good fragment, marked stale,
    is retried after 0.2, 0.4, 0.8, 0.8 s (capped), and recovers with no message once it can."""
    db_url = f"sqlite:///{tmp_path / 'hubs.db'}"
    engine = make_engine(db_url)
    with Session(engine) as session:
        add_hub(session, "ralph", user_hub=True, widgets=[("flaky", {"word": "first"})])
        session.commit()
        flaky = session.scalars(select(WidgetInstance.id)).one()
    settings = load_settings(db_url=db_url, out_dir=tmp_path / "build")
    assert run_build(settings).failures == []
    reconfigure(engine, flaky, fail=True, word="second")
    path = tmp_path / "replay.jsonl"
    path.write_text("")
    options = WatchOptions(max_wait=0.05, retry_first=0.2, retry_max=0.8)
    stop = threading.Event()
    with open_watcher(settings, options) as watcher:
        thread = threading.Thread(target=watcher.run,
                                  args=(ReplaySource(str(path), follow=True), stop))
        thread.start()
        try:
            with path.open("a") as f:
                f.write(json.dumps({"topic": "org.fedoraproject.prod.hubs.widget.update",
                                    "msg": {"hub": "ralph"}, "msg_id": "reconfigured-1",
                                    "timestamp": T0.timestamp()}) + "\n")
            seen: dict[int, Retry] = {}

            def fourth_attempt_failed() -> bool:
                retry = watcher.retries.get(flaky)
                if retry is not None:
                    seen.setdefault(retry.attempts, retry)
                return len(seen) >= 4

            wait_until(fourth_attempt_failed, "four failed attempts", 30)
            on_disk = json.loads((settings.out_dir / "ralph" / "widgets" /
                                  f"{flaky}.json").read_bytes())
            page = (settings.out_dir / "ralph" / "index.html").read_text()
            gauge = watcher.metrics.registry.get_sample_value("hubsgen_retrying_widgets")
            reconfigure(engine, flaky, fail=False)
            wait_until(lambda: flaky not in watcher.retries, "a successful retry", 30)
        finally:
            stop.set()
            thread.join(10)
    engine.dispose()
    assert on_disk["data"] == {"word": "first"} and "tracker is down" in on_disk["error"]
    assert "is-stale" in page and gauge == 1
    delays = [options.retry_first * 2 ** (n - 1) for n in range(1, 5)]
    assert delays[-1] > options.retry_max
    # Attempt n runs once attempt n-1's backoff has passed, then waits its own backoff.
    gaps = {n: round(seen[n].due - seen[n - 1].due, 3) for n in (2, 3, 4)}
    log.info("Backoffs between failed attempts: %s", gaps)
    for n, gap in gaps.items():
        expected = min(delays[n - 1], options.retry_max)
        assert expected <= gap < expected + 0.5, (n, gap, expected)
    recovered = json.loads((settings.out_dir / "ralph" / "widgets" / f"{flaky}.json")
                           .read_bytes())
    assert recovered["data"] == {"word": "second"} and recovered["error"] is None
    assert watcher.stats["failed"] >= 4
