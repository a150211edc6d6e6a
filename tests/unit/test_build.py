"""hubsgen build: the output contract, and the atomic/unchanged/prune/deterministic semantics."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from hubs.errors import ConfigError
from hubs.models import Hub, WidgetInstance
from hubs.settings import load_settings
from hubs.testing import add_hub, make_engine
from hubsgen.build.run import CHUNK
from tests.sites import Site

FRAGMENT_KEYS = {"id", "hub", "plugin", "version", "html", "data", "error"}


def populate(session: Session) -> None:
    add_hub(session, "designteam", summary="The Fedora Design Team",
            members={"owner": ["duffy"], "member": ["ralph"]},
            widgets=[("sticky", {"text": "Design **all** the things"}),
                     ("boom", {"word": "steady"}, "side")])
    add_hub(session, "ralph", user_hub=True, summary="Ralph Bean",
            widgets=[("sticky", {"text": "Hi, I hack on fedmsg."})])
    add_hub(session, "i18n", summary="The Internationalization Team", archived=True,
            widgets=[("sticky", {"text": "Translate!"})])


def make_site(url: str, out: Path) -> Site:
    engine = make_engine(url)
    with Session(engine) as session:
        populate(session)
        session.commit()
    return Site(engine, load_settings(db_url=url, out_dir=out))


@pytest.fixture
def site(sqlite_url, tmp_path, boom_plugin):
    site = make_site(sqlite_url, tmp_path / "build")
    yield site
    site.engine.dispose()


def widget_id(site: Site, hub: str, plugin: str) -> int:
    with site.session() as s:
        return s.scalar(select(WidgetInstance.id).join(Hub).where(
            Hub.name == hub, WidgetInstance.plugin == plugin))


def test_output_contract(site):
    report = site.build()
    assert report.failures == []
    out = site.out
    assert sorted(p.name for p in out.iterdir()) == [
        ".build-stamp.json", "404.html", "designteam", "directory.json", "i18n", "index.html",
        "people", "ralph", "static"]
    assert sorted(p.name for p in (out / "people").iterdir()) == ["r.html"]
    assert 'href="/index.html"' in (out / "404.html").read_text(), "served at any depth"

    page = (out / "designteam" / "index.html").read_text()
    versions = json.loads((out / "designteam" / "versions.json").read_bytes())
    fragments = sorted((out / "designteam" / "widgets").iterdir())
    assert len(fragments) == len(versions["widgets"]) == 2
    assert versions["seq"] == 1 and 'data-seq="1"' in page
    for path in fragments:
        fragment = json.loads(path.read_bytes())
        assert set(fragment) == FRAGMENT_KEYS
        assert fragment["hub"] == "designteam"
        assert fragment["error"] is None
        assert path.name == f"{fragment['id']}.json"
        assert versions["widgets"][str(fragment["id"])] == fragment["version"]
        assert re.fullmatch(r"[0-9a-f]{16}", fragment["version"])
        assert (f'data-widget-id="{fragment["id"]}" data-version="{fragment["version"]}"'
                in page)
        assert fragment["html"] in page, "the page must be complete without JavaScript"
    assert "<strong>all</strong>" in page

    directory = (out / "index.html").read_text()
    assert "designteam/index.html" in directory and "i18n/index.html" in directory
    assert 'href="people/r.html"' in directory, "people are on pages of their own"
    assert 'href="../ralph/index.html"' in (out / "people" / "r.html").read_text()

    css = [p.name for p in (out / "static").iterdir() if p.suffix == ".css"]
    assert len(css) == 1 and re.fullmatch(r"hubs\.[0-9a-f]{10}\.css", css[0])
    assert f'href="../static/{css[0]}"' in page
    assert f'href="static/{css[0]}"' in directory


@pytest.mark.parametrize("force", [False, True], ids=["stamped", "forced"])
def test_no_change_rebuild_rewrites_nothing(site, force):
    site.build()
    before = site.snapshot()
    report = site.build(force=force)
    assert report.skipped is not force
    assert report.written == 0 and report.removed == 0
    assert report.unchanged == len(before)
    assert site.changed_since(before) == set()


def test_one_config_change_rewrites_only_that_fragment_its_versions_and_page(site):
    site.build()
    before = site.snapshot()
    sticky = widget_id(site, "designteam", "sticky")
    with site.session() as s:
        s.execute(update(WidgetInstance).where(WidgetInstance.id == sticky)
                  .values(config={"text": "New note"}))
        s.commit()
    report = site.build()
    assert site.changed_since(before) == {
        f"designteam/widgets/{sticky}.json", "designteam/versions.json", "designteam/index.html"}
    assert report.written == 3
    versions = json.loads((site.out / "designteam" / "versions.json").read_bytes())
    assert versions["seq"] == 2, "a new set of versions is the next state"
    assert 'data-seq="2"' in (site.out / "designteam" / "index.html").read_text()
    assert json.loads((site.out / "ralph" / "versions.json").read_bytes())["seq"] == 1


def test_removed_widgets_and_hubs_are_pruned(site):
    site.build()
    boom = widget_id(site, "designteam", "boom")
    with site.session() as s:
        s.execute(delete(WidgetInstance).where(WidgetInstance.id == boom))
        s.delete(s.scalar(select(Hub).where(Hub.name == "i18n")))
        s.commit()
    report = site.build()
    assert not (site.out / "designteam" / "widgets" / f"{boom}.json").exists()
    versions = json.loads((site.out / "designteam" / "versions.json").read_bytes())
    assert str(boom) not in versions["widgets"]
    assert not (site.out / "i18n").exists()
    assert "i18n/index.html" not in (site.out / "index.html").read_text()
    assert report.removed == 2


def test_files_gone_from_the_tree_come_back_and_only_they_are_written(site):
    """A hub directory, or a widgets directory, that the build makes afresh is written
    without reading anything back: its files return as they were, the rest keep theirs."""
    site.build()
    before = site.snapshot()
    shutil.rmtree(site.out / "designteam")
    shutil.rmtree(site.out / "ralph" / "widgets")
    report = site.build()
    gone = {path for path in before
            if path.startswith(("designteam/", "ralph/widgets/"))}
    assert site.changed_since(before) == gone
    assert report.written == len(gone) == 6
    assert {path: data for path, (data, _) in site.snapshot().items()} == {
        path: data for path, (data, _) in before.items()}


def dead_pid() -> int:
    """The pid of a process that has ended: a writer killed mid-write."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def test_every_build_removes_leftover_temp_files_but_a_live_writers(site):
    """Assert full and skipped builds remove temp files of dead writers at any depth, --hub
    builds those under their hubs' folders, and all keep those of a live writer (a watcher
    mid-write) unless they are too old for that."""
    site.build()
    gone = dead_pid()
    first = [site.out / f".tmp-index.html.{gone}.0",
             site.out / "designteam" / f".tmp-versions.json.{gone}.3",
             site.out / "designteam" / "widgets" / f".tmp-1.json.{gone}.7",
             site.out / "static" / f".tmp-hubs.css.{gone}.1"]
    with subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                          stdin=subprocess.PIPE) as writer:
        mid_write = [site.out / "ralph" / "widgets" / f".tmp-9.json.{writer.pid}.0",
                     site.out / "ralph" / ".tmp-index.html.x1y2"]  # no pid: only age tells
        too_old = site.out / "ralph" / f".tmp-versions.json.{writer.pid}.1"
        for path in [*first, *mid_write, too_old]:
            path.write_bytes(b"half a fragm")
        an_hour_ago = time.time() - 3600
        os.utime(too_old, (an_hour_ago, an_hour_ago))

        report = site.build()
        assert report.skipped, "temp files are no part of the stamp's tree"
        assert not any(p.exists() for p in [*first, too_old])
        assert all(p.exists() for p in mid_write)

        later = site.out / "ralph" / "widgets" / f".tmp-5.json.{gone}.2"
        elsewhere = site.out / "i18n" / "widgets" / f".tmp-5.json.{gone}.2"
        for path in (later, elsewhere):
            path.write_bytes(b"{")
        site.build("ralph")
        assert not later.exists()
        assert elsewhere.exists(), "a --hub build walks no other hub's folder"
        assert all(p.exists() for p in mid_write)
        writer.stdin.close()
    site.build(force=True)
    assert list(site.out.rglob(".tmp-*")) == mid_write[1:]


def test_building_one_hub_touches_only_it_and_the_directory(site):
    site.build()
    before = site.snapshot()
    with site.session() as s:
        s.execute(update(WidgetInstance).values(config={"text": "Changed everywhere"})
                  .where(WidgetInstance.plugin == "sticky"))
        s.execute(update(Hub).where(Hub.name == "ralph").values(summary="Ralph B."))
        s.commit()
    site.build("ralph")
    changed = site.changed_since(before)
    assert "ralph/index.html" in changed
    assert {p for p in changed if not p.startswith("ralph/")} == {
        "people/r.html", "directory.json"}, "ralph's summary shows there, not on the index"
    assert (site.out / "designteam").exists() and (site.out / "i18n").exists()


def test_unknown_hub_is_refused(site):
    with pytest.raises(Exception, match="no hub named nope"):
        site.build("nope")


def test_same_database_builds_byte_identical_trees(site, tmp_path):
    site.build()
    first = {k: v[0] for k, v in site.snapshot().items()}
    again = Site(site.engine, load_settings(db_url=site.settings.db_url, out_dir=tmp_path / "b2"))
    again.build()
    assert {k: v[0] for k, v in again.snapshot().items()} == first


def test_parallel_build_matches_serial_build(site, tmp_path):
    with site.session() as s:
        for n in range(2 * CHUNK + 3):
            add_hub(s, f"user{n:03d}", user_hub=True, widgets=[("sticky", {"text": f"n={n}"})])
        s.commit()
    serial = site.build(jobs=1)
    parallel = Site(site.engine, load_settings(db_url=site.settings.db_url,
                                               out_dir=tmp_path / "parallel"))
    report = parallel.build(jobs=2)
    assert report.hubs == serial.hubs == 2 * CHUNK + 6
    assert ({k: v[0] for k, v in parallel.snapshot().items()}
            == {k: v[0] for k, v in site.snapshot().items()})


def test_sqlite_and_postgresql_build_the_same_site(pg_url, tmp_path, boom_plugin):
    from_sqlite = make_site(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "a")
    from_pg = make_site(pg_url, tmp_path / "b")
    try:
        assert from_pg.build().failures == from_sqlite.build().failures == []
        assert ({k: v[0] for k, v in from_pg.snapshot().items()}
                == {k: v[0] for k, v in from_sqlite.snapshot().items()})
    finally:
        from_pg.engine.dispose()
        from_sqlite.engine.dispose()


def set_boom(site: Site, **config: object) -> int:
    boom = widget_id(site, "designteam", "boom")
    with site.session() as s:
        s.execute(update(WidgetInstance).where(WidgetInstance.id == boom).values(config=config))
        s.commit()
    return boom


def test_failing_widget_without_history_shows_an_error_panel_and_others_render(site):
    boom = set_boom(site, fail=True)
    report = site.build()
    assert report.failed == 1
    assert report.failures[0].startswith(f"widget designteam/{boom} (boom): RuntimeError")
    fragment = site.fragment("designteam", boom)
    assert "the tracker is down" in fragment["error"]
    assert "data-error-panel" in fragment["html"]
    page = (site.out / "designteam" / "index.html").read_text()
    assert "<strong>all</strong>" in page
    assert (site.out / "ralph" / "index.html").exists()


def test_failing_widget_keeps_its_last_good_fragment_marked_stale(site):
    boom = set_boom(site, word="sunny")
    site.build()
    good = site.fragment("designteam", boom)
    set_boom(site, fail=True, word="rainy")
    site.build()
    stale = site.fragment("designteam", boom)
    assert stale["html"] == good["html"] and "sunny" in stale["html"]
    assert stale["data"] == good["data"]
    assert "RuntimeError: the tracker is down" in stale["error"]
    assert stale["version"] != good["version"]
    page = (site.out / "designteam" / "index.html").read_text()
    assert f'widget widget-boom is-stale" id="widget-{boom}"' in page
    # It stays the last good one through further failures, and recovers when fixed.
    site.build()
    assert site.fragment("designteam", boom)["html"] == good["html"]
    set_boom(site, word="sunny")
    site.build()
    assert site.fragment("designteam", boom) == good


def test_hostile_text_stays_inert(site):
    with site.session() as s:
        hub = s.scalar(select(Hub).where(Hub.name == "ralph"))
        hub.summary = "<script>alert('summary')</script>"
        hub.widgets[0].config = {"text": "<script>alert('note')</script>\n\n<b onclick=x>hi</b>"}
        s.commit()
    site.build()
    page = (site.out / "ralph" / "index.html").read_text()
    directory = (site.out / "people" / "r.html").read_text()
    for html in (page, directory):
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;" in html
    assert "onclick" not in page and "<b>hi</b>" in page


def test_building_a_hub_whose_stored_name_is_bad_says_why(site):
    with site.session() as s:
        s.execute(text("UPDATE hubs SET name = '../escaped' WHERE name = 'ralph'"))
        s.commit()
    with pytest.raises(ConfigError, match=r"hub name '\.\./escaped' is invalid"):
        site.build("../escaped")


def test_hub_with_a_bad_name_in_the_database_is_skipped(site, tmp_path):
    with site.session() as s:
        s.execute(text("UPDATE hubs SET name = '../escaped' WHERE name = 'ralph'"))
        s.commit()
    report = site.build()
    assert any("hub name '../escaped' is invalid" in f for f in report.failures)
    assert not (tmp_path / "escaped").exists()
    assert "escaped" not in (site.out / "index.html").read_text()
    assert not (site.out / "people").exists() and b"escaped" not in (
        site.out / "directory.json").read_bytes()
