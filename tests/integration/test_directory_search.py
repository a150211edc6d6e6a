"""The directory's search box in Debian's Chromium, behind nginx with the shipped config and
Content-Security-Policy: typing a hub's name shows a link to it, and the link opens the hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.integration.nginx import running_nginx
from tests.integration.watching import SmallSite, build_small_site
from tests.timing import milliseconds

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
NO_UPSTREAM = "127.0.0.1:9"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`));
"""


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> SmallSite:
    """ralph's hub, and the designteam and lounge teams."""
    return build_small_site(sqlite_url, tmp_path)


@pytest.fixture
def base(site: SmallSite, tmp_path: Path) -> Iterator[str]:
    with running_nginx(site.out, NO_UPSTREAM, tmp_path) as url:
        yield url


@pytest.fixture
def requested() -> list[str]:
    """URLs of the requests for directory.json the page made."""
    return []


@pytest.fixture
def page(base: str, requested: list[str]) -> Iterator[Any]:
    """A Chromium tab recording CSP violations and every request for directory.json."""
    if not CHROMIUM.exists():
        require(f"{CHROMIUM} is not installed (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_page()
        tab.set_default_timeout(milliseconds(10))
        tab.add_init_script(RECORD_VIOLATIONS)
        tab.on("request", lambda r: requested.append(r.url)
               if r.url.endswith("/directory.json") else None)
        yield tab
        browser.close()


def results(page: Any) -> list[str]:
    return page.locator("#hub-search-results a").evaluate_all("(as) => as.map((a) => a.href)")


def test_typing_a_name_shows_a_link_that_opens_the_hub(page: Any, base: str,
                                                      requested: list[str]) -> None:
    page.goto(f"{base}/")
    search = page.get_by_label("Find a hub by name")
    assert search.is_visible(), "the script unhides the search box"
    assert requested == [], "the index is fetched only when someone searches"

    search.press_sequentially("ralp")
    link = page.locator("#hub-search-results a", has_text="ralph")
    link.wait_for()
    assert results(page) == [f"{base}/ralph/index.html"]
    assert page.locator("#hub-search-status").inner_text() == "1 hub matches “ralp”."
    assert requested == [f"{base}/directory.json"]

    link.click()
    page.wait_for_url(f"{base}/ralph/index.html")
    assert page.locator("#hub-name").inner_text() == "ralph"
    assert page.evaluate("window.cspViolations") == []


def test_the_keyboard_reaches_and_follows_a_result(page: Any, base: str) -> None:
    page.goto(f"{base}/people/r.html")
    search = page.get_by_label("Find a hub by name")
    search.focus()
    search.press_sequentially("team")  # matches designteam's name, from a people page
    page.locator("#hub-search-results a", has_text="designteam").wait_for()
    assert results(page) == [f"{base}/designteam/index.html"]

    search.press("ArrowDown")
    assert page.evaluate("document.activeElement.href") == f"{base}/designteam/index.html"
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "hub-search"
    search.press("Enter")  # the best match
    page.wait_for_url(f"{base}/designteam/index.html")
    assert page.evaluate("window.cspViolations") == []


def test_no_match_says_so_and_escape_clears(page: Any, base: str) -> None:
    page.goto(f"{base}/")
    search = page.get_by_label("Find a hub by name")
    search.press_sequentially("zzz")
    status = page.locator("#hub-search-status")
    status.filter(has_text="No hub matches “zzz”.").wait_for()
    assert results(page) == []
    search.press("Escape")
    assert search.input_value() == "" and status.inner_text() == ""
