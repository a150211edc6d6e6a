"""build/index.html, build/people/*.html and build/directory.json: what they link, how big
they get, and that each is rewritten only when what it shows changes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from hubs.listing import PAGE_SIZE, SUMMARY_CHARS
from hubs.models import Hub, WidgetInstance
from hubs.plugins import load_widgets
from hubs.render import Renderer
from hubs.services import Services
from hubs.settings import load_settings
from hubs.testing import T0, add_hub, make_engine
from hubsgen.output.directory import DirectoryWriter
from hubsgen.output.files import Output
from hubsgen.output.static import publish_static
from hubsgen.watch.daemon import WatchOptions, open_watcher
from tests.sites import Site, widget_id

PAGE_BUDGET = 200_000
DIRECTORY_FILES = {"index.html", "directory.json"}


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path):
    """designteam and i18n (archived) teams; adamw, ralph and rbean's own hubs; built."""
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "designteam", summary="Makes Fedora pretty",
                widgets=[("sticky", {"text": "Hi"})])
        add_hub(s, "i18n", summary="Translates Fedora", archived=True)
        for name, summary in (("adamw", "Adam W."), ("ralph", "Ralph Bean"), ("rbean", "")):
            add_hub(s, name, user_hub=True, summary=summary,
                    widgets=[("sticky", {"text": f"I am {name}"})])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    assert site.build().failures == []
    yield site
    engine.dispose()


def write_directory(site: Site, css: str | None = None) -> tuple[int, int]:
    """Write the directory as build does (with hubs.css at the URL *css*, if given); how many
    pages it rendered and files it wrote."""
    out = Output(site.out)
    urls = publish_static(out).urls
    if css is not None:
        urls["hubs.css"] = css
    renderer = Renderer(load_widgets(), Services(site.settings.services), T0, urls)
    with site.session() as session:
        result = DirectoryWriter(renderer, out).write(session)
    return result.rendered, result.written


def hrefs(path: Path) -> list[str]:
    return re.findall(r'href="([^"]+)"', path.read_text())


def test_index_lists_teams_and_links_every_people_page(site: Site) -> None:
    index = site.out / "index.html"
    html = index.read_text()
    assert '<nav class="people-nav" aria-label="People by name">' in html
    assert re.search(r"<h1>Hubs</h1>.*<h2 id=\"teams-heading\">.*<h2 id=\"people-heading\">",
                     html, re.S)
    assert {"designteam/index.html", "i18n/index.html", "people/a.html",
            "people/r.html"} <= set(hrefs(index))
    assert "ralph/index.html" not in html, "people are on their pages"
    assert re.search(r'i18n/index.html">.*<span class="tag">archived</span>', html)


def test_people_pages_list_their_hubs_and_link_back(site: Site) -> None:
    page = site.out / "people" / "r.html"
    html = page.read_text()
    assert "<h1>People: R</h1>" in html
    assert '<a href="../people/r.html" aria-current="true">R</a>' in html
    assert html.index("../ralph/index.html") < html.index("../rbean/index.html")
    assert "Ralph Bean" in html and "adamw" not in html
    assert {"../index.html", "../people/a.html"} <= set(hrefs(page))


def test_every_directory_link_resolves_to_a_file(site: Site) -> None:
    pages = [site.out / "index.html", *(site.out / "people").iterdir()]
    for page in pages:
        for href in (h for h in hrefs(page) if not h.startswith("#")):
            target = (page.parent / href).resolve()
            assert target.is_file(), f"{page.name} links {href}, which does not exist"


def test_search_box_is_hidden_until_its_script_runs(site: Site) -> None:
    for page, root in ((site.out / "index.html", ""), (site.out / "people" / "a.html", "../")):
        html = page.read_text()
        assert (f'<form class="directory-search" role="search" aria-label="Hubs" hidden '
                f'data-index="{root}directory.json" data-root="{root}">') in html
        script = re.search(r'<script src="([^"]+directory\.[0-9a-f]+\.js)" defer>', html)
        assert script and (page.parent / script[1]).is_file()


def test_search_index_holds_every_hub_by_kind(site: Site) -> None:
    index = json.loads((site.out / "directory.json").read_bytes())
    assert index == {
        "teams": [["designteam", "Makes Fedora pretty"], ["i18n", "Translates Fedora"]],
        "people": [["adamw", "Adam W."], ["ralph", "Ralph Bean"], ["rbean", ""]]}


def test_a_widget_edit_renders_and_writes_no_directory_file(site: Site) -> None:
    before = site.snapshot()
    with site.session() as s:
        s.get(WidgetInstance, widget_id(site, "ralph", "sticky")).config = {"text": "New"}
        s.commit()
    site.build("ralph")
    changed = site.changed_since(before)
    assert changed and all(p.startswith("ralph/") for p in changed), changed
    assert write_directory(site) == (0, 0)


def test_a_running_watch_rewrites_the_directory_only_when_it_shows_the_change(
        site: Site) -> None:
    """Assert watch, picking up edits no message announced, leaves the directory alone for
    a widget edit and rewrites ralph's people page and the search index for a new summary."""
    with open_watcher(site.settings, WatchOptions()) as watcher:
        before = site.snapshot()
        with site.session() as s:
            s.get(WidgetInstance, widget_id(site, "ralph", "sticky")).config = {"text": "New"}
            s.commit()
        watcher.sync_config()
        assert all(p.startswith("ralph/") for p in site.changed_since(before))

        before = site.snapshot()
        with site.session() as s:
            s.scalar(select(Hub).where(Hub.name == "ralph")).summary = "Ralph B."
            s.commit()
        watcher.sync_config()
        assert {p for p in site.changed_since(before) if not p.startswith("ralph/")} == {
            "people/r.html", "directory.json"}


def test_a_new_stylesheet_renders_every_directory_page_again(site: Site) -> None:
    """Assert pages whose hubs did not change are rendered anyway when what else they show
    (here the stylesheet's hashed URL) did."""
    assert write_directory(site, css="static/hubs.0123456789.css") == (3, 4), \
        "index.html, people/a.html and people/r.html rendered; 404.html written too"
    assert 'href="../static/hubs.0123456789.css"' in (site.out / "people" / "a.html").read_text()
    assert write_directory(site, css="static/hubs.0123456789.css") == (0, 0)


def test_adding_a_user_writes_its_people_page_the_index_and_the_search_index(
        site: Site) -> None:
    before = site.snapshot()
    with site.session() as s:
        add_hub(s, "rick", user_hub=True, summary="Rick", widgets=[("sticky", {"text": "Hi"})])
        s.commit()
    site.build("rick")
    changed = site.changed_since(before)
    assert {p for p in changed if not p.startswith("rick/")} == {
        "people/r.html", *DIRECTORY_FILES}
    assert "../rick/index.html" in (site.out / "people" / "r.html").read_text()


def test_renaming_a_user_rewrites_both_of_its_pages(site: Site) -> None:
    before = site.snapshot()
    with site.session() as s:
        s.scalar(select(Hub).where(Hub.name == "rbean")).name = "arbean"
        s.commit()
    site.build()
    changed = {p for p in site.changed_since(before) if "/" not in p or p.startswith("people/")}
    assert changed == {"people/a.html", "people/r.html", "directory.json"}, \
        "the index shows the same count and initials"


def test_an_initial_left_without_hubs_loses_its_page(site: Site) -> None:
    with site.session() as s:
        s.execute(delete(Hub).where(Hub.name == "adamw"))
        s.commit()
    site.build()
    assert sorted(p.name for p in (site.out / "people").iterdir()) == ["r.html"]
    assert "people/a.html" not in (site.out / "index.html").read_text()


def test_a_full_page_of_long_summaries_stays_under_budget(site: Site) -> None:
    """Assert PAGE_SIZE people with 20-letter names and summaries past the shown length fit
    one page under 200 KB, and as many such teams (a few hundred) the index."""
    now = datetime.now(UTC)
    rows = [{"name": f"m{n:05d}-{'x' * 13}", "summary": "Summary " * 40, "avatar": "",
             "archived": False, "user_hub": True, "created": now, "last_activity": now}
            for n in range(PAGE_SIZE)]
    rows += [{**row, "name": f"team-{n:03d}-{'y' * 11}", "user_hub": False}
             for n, row in enumerate(rows)]
    with site.session() as s:
        s.execute(insert(Hub), rows)
        s.commit()
    write_directory(site)
    page = site.out / "people" / "m.html"
    assert page.read_text().count('<li class="hub-card') == PAGE_SIZE
    assert ("Summary " * 40)[:SUMMARY_CHARS] not in page.read_text(), "summaries are cut"
    assert page.stat().st_size < PAGE_BUDGET
    assert (site.out / "index.html").read_text().count('<li class="hub-card') == PAGE_SIZE + 2
    assert (site.out / "index.html").stat().st_size < PAGE_BUDGET
