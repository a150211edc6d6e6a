"""Bring a benchmark's database up to the present, as production's always is.

A store generated days ago has its newest message then. The first message a benchmark sends,
stamped now, would move the data clock across those days: the watcher would re-render every
daily widget of the site, and prune the days that fell out of the retention, in the middle of
the measurement. Production's watcher does both a little at a time, as the clock moves. So one
message concerning nobody, stamped now, moves the clock first, and what falls out of the
retention is pruned, before the site is built.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hubs.db import open_engine, session_factory
from hubs.events import Event
from hubs.settings import Settings
from hubs.store import prune, record


def make_current(url: str) -> None:
    """Store, in the database at *url*, a Koji build by nobody with a hub, sent now, and
    prune what is older than the default retention."""
    now = datetime.now(UTC)
    engine = open_engine(url)
    try:
        with session_factory(engine)() as session:
            record(session, [Event(f"bench-clock-{uuid.uuid4().hex}",
                                   "buildsys.build.state.change", now,
                                   summary="The benchmark's clock message")])
            prune(session, now - timedelta(days=Settings().retention_days))
            session.commit()
    finally:
        engine.dispose()
