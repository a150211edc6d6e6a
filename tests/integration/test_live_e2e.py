"""The whole live path as deployed: a fedmsg message on loopback, ``hubsgen watch`` rewriting the
fragment, ``hubsgen events`` announcing it, nginx (the shipped config) in front, and the hub
page open in Debian's Chromium swapping in just that widget, under the shipped
Content-Security-Policy, which nothing on the page may violate."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.integration.bus import Publish, join
from tests.integration.nginx import running_nginx
from tests.integration.watching import (
    HUBSGEN,
    SmallSite,
    badge_award_body,
    build_small_site,
    run_hubsgen,
    watching,
)
from tests.ports import free_port
from tests.timing import milliseconds, seconds, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}`
    + `:${e.lineNumber}`));
"""
"""Runs before the page's own scripts: every CSP violation in the document, as text."""


class Shim:
    """``hubsgen events`` on a fixed port, which a test stops and starts again."""

    def __init__(self, out: Path, port: int, cwd: Path) -> None:
        self.out, self.port, self.cwd = out, port, cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log_path = self.cwd / f"events-{self.starts}.log"
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(HUBSGEN), "-v", "events", "--listen", f"127.0.0.1:{self.port}",
                 "--trusted-proxy", "127.0.0.1", "--out", str(self.out)],
                cwd=self.cwd, stdout=log, stderr=log)
        wait_until(lambda: "Serving events" in log_path.read_text(), "hubsgen events up", 30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(seconds(10))


@dataclass
class Stack:
    site: SmallSite
    base: str  # nginx, http://127.0.0.1:PORT
    shim: Shim
    config: Path


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        require(f"{CHROMIUM} is not installed (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def stack(sqlite_url: str, tmp_path: Path) -> Iterator[Stack]:
    """The small site rebuilt with a half-second poll, behind nginx, with the shim running."""
    site = build_small_site(sqlite_url, tmp_path)
    config = tmp_path / "hubsgen.toml"
    config.write_text("[live]\npoll_seconds = 0.5\n")
    run_hubsgen("--config", str(config), "build", "--db", sqlite_url, "--out", str(site.out),
                cwd=tmp_path)
    shim = Shim(site.out, free_port(), tmp_path)
    shim.start()
    try:
        with running_nginx(site.out, f"127.0.0.1:{shim.port}", tmp_path) as base:
            yield Stack(site, base, shim, config)
    finally:
        shim.stop()


@dataclass
class LivePage:
    """A page in Chromium and what it said about the Content-Security-Policy."""

    page: Any
    console: list[str]

    def violations(self) -> list[str]:
        """What the policy blocked: violation events, and Chromium's console refusals."""
        return [*self.page.evaluate("window.cspViolations"),
                *(text for text in self.console if "Content Security Policy" in text)]


def open_live_page(browser: Any, stack: Stack) -> LivePage:
    """ralph's page through nginx, under the shipped policy, once its client says it is live."""
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    live = LivePage(page, [])
    page.on("console", lambda message: live.console.append(message.text))
    response = page.goto(f"{stack.base}/ralph/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    badge_says(page, "live")
    return live


def badge_says(page: Any, state: str, timeout: float | None = None) -> None:
    """Wait until the live badge shows *state*. A function, not an expression: Playwright
    evaluates an expression anew at each poll, which the policy refuses (no 'unsafe-eval')."""
    page.wait_for_function(
        "(state) => document.querySelector('.live-badge')?.dataset.state === state",
        arg=state, timeout=milliseconds(30) if timeout is None else timeout)


def badges_show(page: Any, widget: int, name: str) -> None:
    """Wait until the badges widget shows a badge named *name* (its image's alt text)."""
    page.wait_for_function(
        "([id, name]) => [...document.querySelectorAll(`#widget-${id} img`)]"
        ".some((img) => img.alt.includes(name))", arg=[widget, name], timeout=milliseconds(20))


def test_an_award_redraws_only_that_widget_via_events_then_polling_then_events_again(
        stack: Stack, endpoint: str, publish: Publish, browser: Any, tmp_path: Path) -> None:
    site = stack.site
    sticky = site.ralph_badges + 1  # ralph's second widget: add_hub numbers them in order
    with watching("--source", "fedmsg", "--endpoint", endpoint, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path, config=stack.config) as watch:
        join(watch, publish)
        live = open_live_page(browser, stack)
        page = live.page
        page.evaluate("""(id) => {
            const note = document.getElementById('widget-' + id);
            window.noteNode = note.firstElementChild;
            window.noteHtml = note.innerHTML;
        }""", sticky)

        publish("fedbadges", "badge.award", badge_award_body("ralph", "first-light"))
        badges_show(page, site.ralph_badges, "First-Light")
        assert page.evaluate("""(id) => {
            const note = document.getElementById('widget-' + id);
            return note.firstElementChild === window.noteNode && note.innerHTML === window.noteHtml;
        }""", sticky), "the other widget was redrawn"

        stack.shim.stop()
        badge_says(page, "catching-up", timeout=milliseconds(20))
        publish("fedbadges", "badge.award", badge_award_body("ralph", "by-polling"))
        badges_show(page, site.ralph_badges, "By-Polling")

        stack.shim.start()
        badge_says(page, "live", timeout=milliseconds(30))
        publish("fedbadges", "badge.award", badge_award_body("ralph", "events-again"))
        badges_show(page, site.ralph_badges, "Events-Again")
        watch.stop()
    assert live.violations() == []


def test_without_javascript_the_page_shows_the_update_on_reload(
        stack: Stack, endpoint: str, publish: Publish, browser: Any, tmp_path: Path) -> None:
    site = stack.site
    with watching("--source", "fedmsg", "--endpoint", endpoint, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path, config=stack.config) as watch:
        join(watch, publish)
        publish("fedbadges", "badge.award", badge_award_body("ralph", "no-script"))
        watch.wait_for_log(f"Wrote ralph/widgets/{site.ralph_badges}.json")
        watch.wait_for_log("Wrote ralph/index.html")
        watch.stop()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{stack.base}/ralph/")
    assert page.query_selector(f"#widget-{site.ralph_badges} img[alt='No-Script']")
    assert page.query_selector(".live-badge") is None
    context.close()


def test_hostile_markup_in_a_message_stays_inert_in_the_live_page(
        stack: Stack, endpoint: str, publish: Publish, browser: Any, tmp_path: Path) -> None:
    site = stack.site
    hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    body = badge_award_body("ralph", "plain")
    body["badge"]["name"] = f"Evil {hostile}"
    body["badge"]["description"] = hostile
    with watching("--source", "fedmsg", "--endpoint", endpoint, "--db", site.db_url,
                  "--out", str(site.out), cwd=tmp_path, config=stack.config) as watch:
        join(watch, publish)
        live = open_live_page(browser, stack)
        page = live.page
        publish("fedbadges", "badge.award", body)
        badges_show(page, site.ralph_badges, "Evil <img")  # the markup shows as text
        watch.stop()
    widget = f"#widget-{site.ralph_badges}"
    assert page.evaluate("window.pwned") is None
    assert page.query_selector(f"{widget} script") is None
    assert page.query_selector(f"{widget} img[src='x']") is None
    assert live.violations() == []


def test_the_policy_blocks_inline_script_and_style_in_the_browser(
        stack: Stack, browser: Any) -> None:
    """The control for the tests above: the policy is in force, and what it blocks is seen."""
    live = open_live_page(browser, stack)
    assert live.violations() == []
    live.page.evaluate("""() => {
        const note = document.querySelector('.widget');
        note.insertAdjacentHTML('beforeend', '<p id="styled" style="color: red">Red</p>');
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.body.append(script);
    }""")
    live.page.wait_for_function("() => window.cspViolations.length >= 2")
    assert live.page.evaluate("window.inlineRan") is None
    assert live.page.evaluate(
        "getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    directives = sorted(v.split()[0] for v in live.page.evaluate("window.cspViolations"))
    assert directives == ["script-src-elem", "style-src-attr"]
    assert any("Content Security Policy" in text for text in live.console)
