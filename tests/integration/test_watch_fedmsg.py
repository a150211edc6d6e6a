"""``hubsgen watch --source fedmsg`` end to end: real fedmsg publishing on loopback ZeroMQ, the
console script in a subprocess, and the output tree compared file by file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.bus import Publish, join
from tests.integration.watching import (
    PROBE_HUB,
    SmallSite,
    badge_award_body,
    build_small_site,
    changed_since,
    koji_build_body,
    ralph_award_files,
    snapshot,
    stored,
    wait_for_changes,
    watching,
)


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> SmallSite:
    """The small site, on SQLite and on PostgreSQL."""
    return build_small_site(db_url, tmp_path)


def test_badge_award_rewrites_ralphs_badges_versions_and_page_only(
        site: SmallSite, endpoint: str, publish: Publish, tmp_path: Path) -> None:
    """Assert a fedbadges.badge.award for ralph, published with fedmsg, rewrites exactly his
    badges fragment, versions.json, page and feed; every other file keeps its bytes and mtime."""
    with watching("--source", "fedmsg", "--endpoint", endpoint, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path) as watch:
        join(watch, publish)
        before = snapshot(site.out)
        msg_id = publish("fedbadges", "badge.award", badge_award_body("ralph", "tester"))
        wait_for_changes(site.out, before, ralph_award_files(site))
        counts = watch.stop()
    assert changed_since(site.out, before) == ralph_award_files(site)
    assert counts["rewritten"] == 4 and counts["failed"] == 0
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
