"""A built site under test: its database, its output, and what a run changed in it."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hubs.models import Hub, WidgetInstance
from hubs.settings import Settings, load_settings
from hubs.testing import T0, fedmsg_envelope
from hubsgen.build.run import BuildReport, run_build
from hubsgen.build.stamp import STAMP_FILE
from hubsgen.demo import messages
from hubsgen.watch.daemon import WatchOptions, run_watch
from hubsgen.watch.sources.replay import ReplaySource


@dataclass
class Site:
    engine: Engine
    settings: Settings

    @property
    def out(self) -> Path:
        return self.settings.out_dir

    def build(self, *hubs: str, force: bool = False, **options: object) -> BuildReport:
        settings = load_settings(db_url=self.settings.db_url, out_dir=self.out, **options)
        return run_build(settings, hubs, force=force)

    def session(self) -> Session:
        return Session(self.engine)

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every file's bytes and mtime, to see exactly what a build touched; but the build
        stamp, which holds mtimes."""
        return {str(p.relative_to(self.out)): (p.read_bytes(), p.stat().st_mtime_ns)
                for p in sorted(self.out.rglob("*")) if p.is_file() and p.name != STAMP_FILE}

    def changed_since(self, before: dict[str, tuple[bytes, int]]) -> set[str]:
        after = self.snapshot()
        return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}

    def fragment(self, hub: str, widget_id: int) -> dict[str, object]:
        return json.loads((self.out / hub / "widgets" / f"{widget_id}.json").read_bytes())


def replay(site: Site, tmp_path: Path, *lines: object, **options: object) -> Counter[str]:
    """Write *lines* (envelopes, or raw text) to a file and watch it until exhausted."""
    path = tmp_path / f"replay-{len(list(tmp_path.glob('replay-*')))}.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines))
    return run_watch(site.settings, ReplaySource(str(path)), threading.Event(),
                     WatchOptions(**options))


def widget_id(site: Site, hub: str, plugin: str) -> int:
    with site.session() as s:
        return s.scalar(select(WidgetInstance.id).join(Hub).where(
            Hub.name == hub, WidgetInstance.plugin == plugin))


def award(days_after: float, username: str = "ralph", badge: str = "tester") -> dict:
    event = messages.badge_award(T0 + timedelta(days=days_after), username, badge,
                                 badge.title(), f"Earned {badge}")
    return fedmsg_envelope(event)


