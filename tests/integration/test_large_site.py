"""A 2,000-user synthetic site through the real scripts: populate, then watch a replay.

At this size Python 3.11's garbage collector freed an SQLAlchemy InstanceState's attribute
values while session teardown was still copying them, and hubsgen died with SIGSEGV while
loading its hint index (see tools/find-python). Dev mode's allocator checks turn such
corruption into a crash every time instead of now and then.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.db import open_engine
from hubs.models import Hub, WidgetInstance
from hubs.testing import fedmsg_envelope
from hubsgen.demo.messages import badge_award
from tests.integration.watching import run_hubsgen

POPULATE = Path(__file__).resolve().parents[2] / "populate.py"
AWARDED = 40


def badges_of_user_hubs(db_url: str, limit: int) -> dict[str, int]:
    """Hub name -> badges widget id, for the first *limit* user hubs that show badges."""
    engine = open_engine(db_url)
    with Session(engine) as session:
        rows = session.execute(
            select(Hub.name, WidgetInstance.id).join(WidgetInstance.hub)
            .where(WidgetInstance.plugin == "badges", Hub.user_hub).order_by(Hub.id)
            .limit(limit)).all()
    engine.dispose()
    return {name: widget_id for name, widget_id in rows}


def test_watch_survives_a_2000_user_site(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db_url = f"sqlite:///{tmp_path / 'hubs.db'}"
    subprocess.run([sys.executable, str(POPULATE), "--db", db_url, "--users", "2000",
                    "--groups", "10", "--seed", "1"], check=True, capture_output=True)
    badges = badges_of_user_hubs(db_url, AWARDED)
    assert len(badges) == AWARDED
    when = datetime.now(UTC) - timedelta(minutes=5)
    replay = tmp_path / "awards.jsonl"
    replay.write_text("".join(
        json.dumps(fedmsg_envelope(badge_award(when, user, f"large-{n}", f"Large site {n}",
                                               "Survived a big index"))) + "\n"
        for n, user in enumerate(badges)))

    monkeypatch.setenv("PYTHONDEVMODE", "1")
    out = tmp_path / "build"
    run_hubsgen("--db", db_url, "watch", "--out", str(out), "--source", f"replay:{replay}",
                "--once", cwd=tmp_path)

    for n, (user, widget_id) in enumerate(badges.items()):
        fragment = json.loads((out / user / "widgets" / f"{widget_id}.json").read_bytes())
        assert f"Large site {n}" in fragment["html"], user
