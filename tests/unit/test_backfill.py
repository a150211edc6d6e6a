"""hubsgen backfill: datagrepper's raw API, paged, served by a real HTTP server on loopback."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from hubs.models import Message
from hubs.testing import fedmsg_envelope
from hubsgen.cli import cli
from hubsgen.demo import messages
from tests.loopback_http import serve
from tests.sites import widget_id

ROWS = 100


def datagrepper_pages(envelopes: list[dict]):
    """Answer /raw like datagrepper: messages between start and end, oldest first, paged."""
    def answer(query: dict[str, str]) -> dict:
        start, end = float(query["start"]), float(query["end"])
        chosen = [e for e in envelopes if start <= e["timestamp"] <= end]
        page, per_page = int(query["page"]), int(query["rows_per_page"])
        rows = chosen[(page - 1) * per_page:page * per_page]
        return {"raw_messages": rows, "count": len(rows), "total": len(chosen),
                "pages": math.ceil(len(chosen) / per_page), "arguments": dict(query)}
    return answer


def test_backfill_pages_through_datagrepper_and_refreshes_widgets(watched_site):
    site = watched_site
    now = datetime.now(UTC)
    awards = [fedmsg_envelope(messages.badge_award(now - timedelta(hours=1, seconds=n),
                                                   "ralph", f"b{n:03d}", f"Badge {n:03d}", ""))
              for n in range(250)]
    old = fedmsg_envelope(messages.badge_award(now - timedelta(days=30), "ralph", "old",
                                               "Too old", ""))
    with serve() as server:
        server.route_query("/raw", datagrepper_pages(sorted(
            [*awards, old], key=lambda e: e["timestamp"])))
        result = CliRunner().invoke(cli, [
            "backfill", "--datagrepper", server.url, "--since", "2d",
            "--db", site.settings.db_url, "--out", str(site.out)])
        pages = [r.query["page"] for r in server.requests if r.path == "/raw"]
    assert result.exit_code == 0, result.output
    assert pages == ["1", "2", "3"]
    with site.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(
            Message.topic == "fedbadges.badge.award")) == 250
    html = site.fragment("ralph", widget_id(site, "ralph", "badges"))["html"]
    assert "Badge 000" in html and "Too old" not in html
