from __future__ import annotations

import importlib
import sys
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hubs.settings import load_settings
from hubs.testing import T0, add_events, add_hub, make_engine
from hubsgen.build.run import run_build
from hubsgen.demo import messages
from tests.plugin_dist import BOOM, install_plugins
from tests.sites import Site


@pytest.fixture
def boom_plugin(tmp_path, monkeypatch):
    """A third-party 'boom' widget installed for this test only."""
    root = install_plugins(tmp_path / "site", {"boom": BOOM},
                           {"boom.html": "<p class='boom'>{{ data.word }}</p>"},
                           {"boom": "thirdparty_widgets.boom:WIDGET"})
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    yield
    for name in [m for m in sys.modules if m.startswith("thirdparty_widgets")]:
        del sys.modules[name]


@pytest.fixture
def watched_site(sqlite_url, tmp_path):
    """A built site: ralph's hub (badges, sticky) and designteam's (feed, stats)."""
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "ralph", user_hub=True, widgets=[
            ("badges", {"username": "ralph"}), ("sticky", {"text": "Hi"})])
        add_hub(s, "designteam", members={"owner": ["duffy"]}, widgets=[
            ("feed", {}), ("stats", {}, "side")])
        add_events(s, [messages.wiki_edit(T0 - timedelta(days=1), "duffy", "Design")])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    assert run_build(site.settings).failures == []
    yield site
    engine.dispose()
