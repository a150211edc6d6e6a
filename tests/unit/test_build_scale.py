"""hubsgen build at scale: a build of some hubs does work in proportion to them, not to the
site, and the parent of a parallel build holds no hub objects while its workers render."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text, update
from sqlalchemy.orm import Session

from hubs.listing import load_entries
from hubs.models import Hub, WidgetInstance
from hubs.settings import load_settings
from hubs.testing import add_hub, make_engine
from hubsgen.build.run import run_build
from hubsgen.build.stamp import STAMP_FILE
from hubsgen.output.directory import entries_where, people_between
from hubsgen.output.files import replace_file
from tests.sites import Site

PAGE = "people/u.html"
"""The directory page listing the user hubs of these sites."""


def make_site(url: str, out: Path, people: int) -> Site:
    engine = make_engine(url)
    with Session(engine) as session:
        add_hub(session, "designteam", summary="The Fedora Design Team",
                widgets=[("sticky", {"text": "Design **all** the things"})])
        for n in range(people):
            add_hub(session, f"user{n:03d}", user_hub=True, summary=f"User {n}",
                    widgets=[("sticky", {"text": f"Hi from {n}"})])
        session.commit()
    return Site(engine, load_settings(db_url=url, out_dir=out))


@pytest.fixture
def site(sqlite_url, tmp_path):
    site = make_site(sqlite_url, tmp_path / "build", people=3)
    yield site
    site.engine.dispose()


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs meanwhile: the build opens its own."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def edit(site: Site, hub: str, **values: object) -> None:
    with site.session() as s:
        s.execute(update(Hub).where(Hub.name == hub).values(**values))
        s.commit()


def edit_widgets(site: Site, hub: str, text: str) -> None:
    with site.session() as s:
        hub_id = s.scalar(Hub.__table__.select().with_only_columns(Hub.id)
                          .where(Hub.name == hub))
        s.execute(update(WidgetInstance).where(WidgetInstance.hub_id == hub_id)
                  .values(config={"text": text}))
        s.commit()


def test_a_hub_build_runs_the_same_statements_on_a_site_ten_times_bigger(tmp_path):
    runs = []
    for people in (3, 30):
        site = make_site(f"sqlite:///{tmp_path}/{people}.db", tmp_path / f"build{people}",
                         people)
        site.build()
        edit_widgets(site, "user001", "Edited")
        with counted_statements() as statements:
            site.build("user001")
        runs.append(statements)
        site.engine.dispose()
    assert runs[0] == runs[1]
    listing_all = [s for s in runs[0]
                   if s.startswith("SELECT hubs.") and "FROM hubs" in s and "WHERE" not in s]
    assert listing_all == [], "a build of one hub reads no list of every hub"


def test_a_hub_build_leaves_the_directory_alone_when_its_entry_is_unchanged(site):
    site.build()
    before = site.snapshot()
    edit_widgets(site, "user001", "Edited")
    report = site.build("user001")
    changed = site.changed_since(before)
    assert changed and all(path.startswith("user001/") for path in changed)
    hub_and_static = [p for p in site.out.rglob("*") if p.is_file()
                      and p.relative_to(site.out).parts[0] in {"user001", "static"}]
    assert report.written + report.unchanged == len(hub_and_static), \
        "neither the directory nor 404.html was rendered"


@pytest.mark.parametrize("values", [{"summary": "Someone else"}, {"archived": True},
                                    {"avatar": "https://example.org/a.png"}])
def test_a_hub_build_rewrites_the_directory_when_its_entry_changed(site, values):
    site.build()
    before = site.snapshot()
    edit(site, "user001", **values)
    site.build("user001")
    assert PAGE in site.changed_since(before)
    again = site.snapshot()
    site.build("user001")
    assert site.changed_since(again) == set(), "the record now shows the new entry"


def test_a_new_hub_enters_the_directory_on_its_own_build(site):
    site.build()
    with site.session() as s:
        add_hub(s, "newcomer", user_hub=True, summary="Just arrived")
        s.commit()
    site.build("newcomer")
    assert "newcomer" in (site.out / "people" / "n.html").read_text()


def test_a_directory_rewritten_by_another_writer_is_not_trusted(site, tmp_path):
    """Watch rewrites the directory without the record: a summary edited back to what the
    record holds must still reach the directory."""
    site.build()
    edit(site, "user001", summary="Changed by watch")
    elsewhere = Site(site.engine, load_settings(db_url=site.settings.db_url,
                                                out_dir=tmp_path / "elsewhere"))
    elsewhere.build()
    page = site.out / PAGE
    replace_file(page, (elsewhere.out / PAGE).read_bytes())  # as a watch would
    edit(site, "user001", summary="User 1")
    site.build("user001")
    assert "User 1<" in page.read_text() and "Changed by watch" not in page.read_text()


def test_an_unreadable_stamp_rewrites_the_directory(site):
    site.build()
    (site.out / STAMP_FILE).write_text("{not json")
    edit(site, "user001", summary="Renamed")
    site.build("user001")
    assert "Renamed" in (site.out / PAGE).read_text()


def test_the_parent_of_a_parallel_build_holds_no_hub_objects_while_workers_render(
        sqlite_url, tmp_path):
    site = make_site(sqlite_url, tmp_path / "build", people=60)
    held = []

    def look(done: int) -> None:
        gc.collect()
        held.append(sum(isinstance(o, Hub) for o in gc.get_objects()))

    settings = load_settings(db_url=sqlite_url, out_dir=site.out, jobs=2)
    report = run_build(settings, on_progress=look)
    site.engine.dispose()
    assert report.hubs == 61 and report.failures == []
    assert len(held) > 1 and max(held) == 0


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != STAMP_FILE}


@pytest.mark.parametrize(("hub", "values", "whole"), [
    ("user004", {"summary": "Someone else"}, False),
    ("user000", {"summary": 'Says "hi" ["user001","x"], in café'}, False),
    ("user007", {"summary": "Last of all"}, False),
    ("user004", {"archived": True, "avatar": "https://example.org/a.png"}, False),
    ("designteam", {"summary": "Makes it pretty"}, True),
    ("user004", {"name": "user0041"}, True),
    ("user004", {"user_hub": False}, True),
])
def test_a_hub_build_leaves_the_directory_a_clean_build_would(db_url, tmp_path, monkeypatch,
                                                             hub, values, whole):
    """Assert a --hub build after an edit of its directory entry rewrites exactly the
    directory files a build of every hub changes, to the same bytes, on a directory of
    several pages whose names sort by code point (a collation ignoring '-', '_' and '.'
    would not); reading every hub (*whole*) only when a name or a team changed."""
    monkeypatch.setattr("hubs.listing.PAGE_SIZE", 2)
    site = make_site(db_url, tmp_path / "build", people=8)
    with site.session() as s:
        for name in ("user004-x", "user004.x", "user004_x", "user0040"):
            add_hub(s, name, user_hub=True, summary=name)
        s.commit()
    site.build()
    before = site.snapshot()
    edit(site, hub, **values)
    with counted_statements() as statements:
        site.build(values.get("name", hub))
    assert any(s.startswith("SELECT hubs.name") and "WHERE" not in s
               for s in statements) == whole
    clean = Site(site.engine, load_settings(db_url=site.settings.db_url,
                                            out_dir=tmp_path / "clean"))
    clean.build()
    built, expected = tree(site.out), tree(clean.out)

    def directory(paths: set[str]) -> set[str]:
        return {p for p in paths if p.startswith("people/") or "/" not in p}

    assert directory(site.changed_since(before)) == directory(
        {p for p in expected if before.get(p, (None,))[0] != expected[p]})
    assert {p for p in built.keys() | expected.keys() if built.get(p) != expected.get(p)
            and not p.startswith("user004/")} == set(), \
        "only a renamed hub's old folder differs, which a --hub build does not prune"


def test_a_hub_build_reads_its_page_of_the_directory_not_every_hub(sqlite_url, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr("hubs.listing.PAGE_SIZE", 2)
    site = make_site(sqlite_url, tmp_path / "build", people=8)
    site.build()
    edit(site, "user004", summary="Someone else")
    with counted_statements() as statements:
        site.build("user004")
    assert not [s for s in statements
                if s.startswith("SELECT hubs.") and "FROM hubs" in s and "WHERE" not in s]
    assert "Someone else" in (site.out / "people" / "u-3.html").read_text()


def test_the_directory_s_own_query_lists_hubs_as_load_entries_does(site):
    with site.session() as s:
        s.execute(text("UPDATE hubs SET name = '../escaped' WHERE name = 'user002'"))
        s.execute(text("UPDATE hubs SET archived = 1, avatar = 'a.png' WHERE name = 'user001'"))
        s.commit()
        assert entries_where(s) == load_entries(s)
        assert entries_where(s, *people_between(s, "user001", "user002")) == [
            entry for entry in load_entries(s) if entry.name == "user001"]


def test_a_full_build_lists_the_hubs_once(site):
    """The directory is written from the hubs the build listed, not from a second query."""
    with counted_statements() as statements:
        site.build(force=True)
    assert not [s for s in statements if s.startswith("SELECT hubs.name, hubs.summary")]
    assert "people/u.html" in {p.relative_to(site.out).as_posix()
                               for p in site.out.rglob("*.html")}


def test_a_team_build_on_a_site_of_teams_reads_only_the_teams(sqlite_url, tmp_path):
    site = make_site(sqlite_url, tmp_path / "build", people=0)
    site.build()
    with counted_statements() as statements:
        site.build("designteam")
    assert not [s for s in statements if s.startswith("SELECT hubs.name") and "WHERE" not in s]
