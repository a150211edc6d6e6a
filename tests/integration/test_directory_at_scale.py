"""The directory at Fedora's size: 100,000 people and 500 teams, hubs rows only, rendered
through the writer build uses; every page and the search index within their budgets."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from sqlalchemy.orm import Session

from hubs.db import open_engine
from hubs.plugins import load_widgets
from hubs.render import Renderer
from hubs.services import Services
from hubs.settings import load_settings
from hubs.testing import make_engine
from hubsgen.demo.hubs_only import insert_hubs_only
from hubsgen.demo.population import REFERENCE
from hubsgen.output.directory import DirectoryResult, DirectoryWriter
from hubsgen.output.files import Output
from hubsgen.output.static import publish_static

USERS = 100_000
TEAMS = 500
PAGE_BUDGET = 200_000
INDEX_GZIP_BUDGET = 2_000_000


def write_directory(db_url: str, out: Output) -> DirectoryResult:
    renderer = Renderer(load_widgets(), Services(load_settings().services), REFERENCE,
                        publish_static(out).urls)
    engine = open_engine(db_url)
    try:
        with Session(engine) as session:
            return DirectoryWriter(renderer, out).write(session)
    finally:
        engine.dispose()


def test_directory_of_100000_users_stays_within_budget(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'hubs.db'}"
    engine = make_engine(db_url)
    assert insert_hubs_only(engine, USERS, TEAMS) == USERS + TEAMS
    engine.dispose()
    out = Output(tmp_path / "build")

    first = write_directory(db_url, out)

    pages = sorted((out.root / "people").iterdir())
    assert first.rendered == len(pages) + 1, "every people page and the index"
    sizes = {p.name: p.stat().st_size for p in [out.root / "index.html", *pages]}
    too_big = {name: size for name, size in sizes.items() if size >= PAGE_BUDGET}
    assert not too_big, f"pages over {PAGE_BUDGET} bytes: {too_big}"
    listed = sum(p.read_text().count('<li class="hub-card') for p in pages)
    assert listed == USERS
    linked = set(re.findall(r'href="people/([^"]+)"', (out.root / "index.html").read_text()))
    assert linked == {p.name for p in pages}, "the index links every people page"

    index = (out.root / "directory.json").read_bytes()
    assert len(json.loads(index)["people"]) == USERS
    assert len(gzip.compress(index)) < INDEX_GZIP_BUDGET

    again = write_directory(db_url, out)
    assert (again.rendered, again.written) == (0, 0), "nothing changed, nothing rendered"
