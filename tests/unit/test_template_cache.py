"""Compiled templates kept in the user's cache directory: they change no byte of a build, a
template edited since is compiled again, and a cache that cannot be written is no cache."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import jinja2
import pytest

from hubs import template_cache
from hubs.settings import load_settings
from hubs.testing import make_renderer
from hubsgen.build.run import run_build
from tests.sites import Site
from tests.unit.test_build import make_site


def cache_files(xdg: Path) -> dict[str, int]:
    """Each compiled template's file under *xdg*, with its mtime."""
    return {str(p.relative_to(xdg)): p.stat().st_mtime_ns for p in xdg.rglob("*.cache")}


def build_into(site: Site, out: Path) -> Path:
    assert run_build(load_settings(db_url=site.settings.db_url, out_dir=out)).failures == []
    return out


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != ".build-stamp.json"}


def test_a_build_from_compiled_templates_writes_the_same_tree(sqlite_url, tmp_path,
                                                              boom_plugin, monkeypatch):
    uncached = tmp_path / "not-a-directory"
    uncached.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(uncached))
    site = make_site(sqlite_url, tmp_path / "plain")
    assert site.build().failures == []

    xdg = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    build_into(site, tmp_path / "first")
    compiled = cache_files(xdg)
    assert len(compiled) > 5, "the first build kept the templates it compiled"
    cached = build_into(site, tmp_path / "cached")
    assert cache_files(xdg) == compiled, "the second build compiled nothing"
    assert tree(cached) == tree(site.out)


def test_an_edited_template_is_compiled_again(sqlite_url, tmp_path, boom_plugin, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    site = make_site(sqlite_url, tmp_path / "build")
    page = site.out / "designteam" / "index.html"
    assert site.build().failures == []
    assert "<p class='boom'>steady</p>" in page.read_text()

    template = tmp_path / "site" / "thirdparty_widgets" / "boom.html"
    before = template.stat()
    template.write_text("<p class='boom'>now {{ data.word }}</p>")
    os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the text tells
    assert site.build("designteam").failures == []
    assert "<p class='boom'>now steady</p>" in page.read_text()


def test_a_cache_that_cannot_be_written_is_no_cache(sqlite_url, tmp_path, boom_plugin,
                                                    monkeypatch, caplog):
    taken = tmp_path / "a-file"
    taken.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(taken))
    site = make_site(sqlite_url, tmp_path / "build")
    with caplog.at_level(logging.DEBUG, logger=template_cache.log.name):
        assert site.build().failures == []
    assert "<p class='boom'>steady</p>" in (site.out / "designteam" / "index.html").read_text()
    lines = [r.getMessage() for r in caplog.records if r.name == template_cache.log.name]
    assert any(f"cannot write {taken}" in line for line in lines), lines


@pytest.mark.parametrize("xdg", ["", "relative/cache"])
def test_without_an_absolute_xdg_cache_home_the_cache_is_in_the_home(xdg, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = template_cache.template_cache(site_env())
    assert cache is not None
    assert Path(cache.directory).parent == tmp_path / ".cache" / "hubsgen" / "templates"


def test_environments_that_compile_differently_have_caches_of_their_own():
    plain, other = site_env(), site_env()
    other.trim_blocks = not other.trim_blocks
    paths = {template_cache.template_cache(env).directory  # type: ignore[union-attr]
             for env in (plain, site_env(), other)}
    assert len(paths) == 2


def site_env() -> jinja2.Environment:
    return make_renderer().env
