"""The live client (hubs/static/live.js) in headless Chromium, against a real build.

The build directory is served by Python's http.server from a thread; ``/events`` on the same
server is a fake events shim that streams whatever frames a test pushes, or answers 404 while
switched off. Tests change a sticky note in the database and rebuild, exactly as the watcher
would rewrite a fragment, versions.json and the page, then observe the page's DOM.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hubs.models import Hub, Message, WidgetInstance
from hubs.settings import LiveSettings, load_settings
from hubs.testing import T0, add_events, add_hub, make_engine
from hubsgen.demo import messages
from tests.conftest import require
from tests.sites import Site
from tests.timing import milliseconds, wait_until

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # a laptop without the dev extras: the browser fixture skips
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
HUB = "designteam"
USER = "ralph"
"""A user hub of badges, none earned yet: tests award them with images this server serves."""
LIVE = LiveSettings(events_url="/events", poll_seconds=0.5)
LINKS = "Start at [one](https://example.org/1) or [two](https://example.org/2)."


def paragraphs(word: str, count: int) -> str:
    return "\n\n".join(f"{word} paragraph {n}: enough words to fill a line or so of the column."
                       for n in range(count))


# --- The server: the build directory, plus a fake events shim ---

class LiveServer:
    """Serves *root* over HTTP on loopback; ``/events`` streams frames the test pushes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events_on = True
        self.broken: set[str] = set()
        """Paths answered 503, as a server in trouble would."""
        self.requests: list[str] = []
        self._streams: list[queue.Queue[bytes | None]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True, name="live-http")

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def push(self, seq: int, widgets: dict[str, str], complete: bool = False) -> None:
        """Send a versions event to every connected page."""
        data = json.dumps({"seq": seq, "widgets": widgets, "complete": complete})
        self._send(f"id: {seq}\nevent: versions\ndata: {data}\n\n".encode())

    def hits(self, path: str) -> list[dict[str, str]]:
        """The query of each request that reached *path*."""
        with self._lock:
            parts = [urlsplit(r) for r in self.requests]
        return [{k: v[-1] for k, v in parse_qs(p.query).items()} for p in parts if p.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._send(None)  # ends every stream
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _send(self, frame: bytes | None) -> None:
        with self._lock:
            for stream in self._streams:
                stream.put(frame)

    def _open_stream(self) -> queue.Queue[bytes | None]:
        stream: queue.Queue[bytes | None] = queue.Queue()
        with self._lock:
            self._streams.append(stream)
        return stream

    def _close_stream(self, stream: queue.Queue[bytes | None]) -> None:
        with self._lock:
            self._streams.remove(stream)


def _handler_for(server: LiveServer) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(server.root), **kwargs)

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            with server._lock:
                server.requests.append(self.path)
            path = urlsplit(self.path).path
            if path == "/events" and server.events_on:
                self.stream_events()
            elif path == "/events" or path in server.broken:
                self.send_error(404 if path == "/events" else 503)
            else:
                super().do_GET()

        def stream_events(self) -> None:
            stream = server._open_stream()  # before the headers: a page that saw open hears all
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(b"retry: 3000\n\n")
                while (frame := stream.get()) is not None:
                    self.wfile.write(frame)
            except OSError:
                pass  # the page went away
            finally:
                server._close_stream(stream)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean; tests read ``server.requests`` instead."""

    return Handler


# --- Fixtures ---

@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    """One team hub of sticky notes, long enough to scroll, built with a live client."""
    engine: Engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, HUB, summary="The Fedora Design Team", widgets=[
            ("sticky", {"title": "Note", "text": "Meeting on Tuesday."}),
            ("sticky", {"title": "Links", "text": LINKS}),
            ("sticky", {"title": "Guide", "text": paragraphs("Guide", 12)}),
            ("sticky", {"title": "Roadmap", "text": paragraphs("Roadmap", 40)}),
            ("sticky", {"title": "Elsewhere", "text": "On the side."}, "side"),
        ])
        add_hub(s, USER, user_hub=True, widgets=[("badges", {})])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    rebuild(site)
    yield site
    engine.dispose()


@pytest.fixture
def server(site: Site) -> Iterator[LiveServer]:
    server = LiveServer(site.out)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        require("playwright is not installed")
    if not CHROMIUM.exists():
        require(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    page.set_default_timeout(milliseconds(10))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], "uncaught errors in the page"


# --- Helpers ---

def rebuild(site: Site, hub: str = HUB) -> dict[str, Any]:
    """Rebuild as the watcher would; *hub*'s versions.json afterwards."""
    assert site.build(live=LIVE).failures == []
    versions: dict[str, Any] = json.loads((site.out / hub / "versions.json").read_bytes())
    return versions


def widget_ids(site: Site) -> dict[str, str]:
    """Sticky title -> widget id, as the page spells it."""
    with site.session() as s:
        rows = s.scalars(select(WidgetInstance).join(Hub).where(Hub.name == HUB))
        return {w.config["title"]: str(w.id) for w in rows}


def badges_widget(site: Site) -> str:
    with site.session() as s:
        return str(s.scalars(select(WidgetInstance.id).join(Hub).where(Hub.name == USER)).one())


def award(site: Site, server: LiveServer, *names: str) -> dict[str, Any]:
    """Award ralph badges named *names*, a day apart, their images on *server* (which has
    none: they answer 404); rebuild, and return ralph's versions.json."""
    with site.session() as s:
        done = s.scalar(select(func.count(Message.id))) or 0
        add_events(s, [dataclasses.replace(
            messages.badge_award(T0 + timedelta(days=done + n), USER, name.lower(), name,
                                 f"For {name}"),
            body={"user": {"username": USER},
                  "badge": {"badge_id": name.lower(), "name": name,
                            "description": f"For {name}",
                            "image": f"{server.url}/pngs/{name.lower()}.png"}})
            for n, name in enumerate(names)])
        s.commit()
    return rebuild(site, USER)


def set_text(site: Site, widget_id: str, text: str) -> None:
    with site.session() as s:
        instance = s.get_one(WidgetInstance, int(widget_id))
        instance.config = {**instance.config, "text": text}
        s.commit()


def publish(server: LiveServer, versions: dict[str, Any], *widget_ids: str) -> None:
    """Announce *widget_ids*' new versions, as the shim does after a rebuild."""
    server.push(versions["seq"], {i: versions["widgets"][i] for i in widget_ids})


def open_live(page: Page, server: LiveServer, hub: str = HUB) -> None:
    page.goto(f"{server.url}/{hub}/")
    page.wait_for_selector('.live-badge[data-state="live"]')


def focused(page: Page) -> list[str | None]:
    """The focused element's widget id, tag, link and text."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        return [el.closest(".widget")?.id ?? null, el.tagName, el.getAttribute("href"),
                el.textContent.trim()]; }""")


def wait_for_version(page: Page, widget_id: str, version: str) -> None:
    page.wait_for_function(
        "([id, version]) => document.getElementById(`widget-${id}`).dataset.version === version",
        arg=[widget_id, version])


def text_of(page: Page, widget_id: str) -> str:
    return page.locator(f"#widget-{widget_id}").inner_text()


# --- Tests ---

@pytest.mark.parametrize("anchoring", ["browser", "script"])
def test_event_swaps_only_that_widget_and_keeps_the_view_still(site, server, page, anchoring):
    """Assert an event replaces the Note's content and nothing else, marks and announces it,
    and that the widget in view stays put while the Note above it grows: live.js keeps it
    there, whether or not the browser has scroll anchoring (its absence simulated here)."""
    if anchoring == "script":
        page.add_init_script("""{
            const supports = CSS.supports.bind(CSS);
            CSS.supports = (...args) => args[0] !== "overflow-anchor" && supports(...args);
        }""")
    ids = widget_ids(site)
    open_live(page, server)
    if anchoring == "script":
        page.add_style_tag(content="* { overflow-anchor: none !important; }")
    assert server.hits("/events") == [{"hub": HUB, "since": "1"}]
    page.evaluate("""() => { window.contentBefore = new Map([...document.querySelectorAll(
        ".widget")].map((w) => [w.id, w.firstElementChild])); }""")
    roadmap = page.locator(f"#widget-{ids['Roadmap']}")
    roadmap.evaluate("(el) => el.scrollIntoView()")
    in_view_before = roadmap.bounding_box()["y"]
    scrolled_before = page.evaluate("scrollY")
    note_height = page.locator(f"#widget-{ids['Note']}").bounding_box()["height"]
    assert page.locator(f"#widget-{ids['Note']}").bounding_box()["y"] + note_height < 0

    set_text(site, ids["Note"], paragraphs("Moved", 8))
    versions = rebuild(site)
    publish(server, versions, ids["Note"])
    wait_for_version(page, ids["Note"], versions["widgets"][ids["Note"]])

    assert page.locator(f"#widget-{ids['Note']}.is-updated").count() == 1
    assert "Moved paragraph 7" in text_of(page, ids["Note"])
    replaced = page.evaluate("""() => [...contentBefore]
        .filter(([id, node]) => document.getElementById(id).firstElementChild !== node)
        .map(([id]) => id)""")
    assert replaced == [f"widget-{ids['Note']}"]
    page.wait_for_function(
        "document.querySelector('[data-live-status]').textContent === 'Note updated'")
    assert abs(roadmap.bounding_box()["y"] - in_view_before) < 1
    grown = page.locator(f"#widget-{ids['Note']}").bounding_box()["height"] - note_height
    assert grown > 100
    assert abs(page.evaluate("scrollY") - scrolled_before - grown) < 1
    page.wait_for_function(f"!document.getElementById('widget-{ids['Note']}')"
                           ".classList.contains('is-updated')")


def test_a_widget_growing_across_the_top_of_the_view_keeps_the_next_one_still(
        site, server, page):
    """Assert that while the Guide, straddling the top of the view, grows at its top swap
    after swap, the Roadmap below it (what the reader was reading) stays where it was: the
    browser's anchor would be inside the Guide, which each swap replaces."""
    ids = widget_ids(site)
    page.set_viewport_size({"width": 1100, "height": 500})
    open_live(page, server)
    roadmap = page.locator(f"#widget-{ids['Roadmap']}")
    page.evaluate("(y) => window.scrollBy(0, y)", roadmap.bounding_box()["y"] - 100)
    start = roadmap.bounding_box()["y"]
    assert abs(start - 100) < 1
    guide = page.locator(f"#widget-{ids['Guide']}").bounding_box()
    assert guide["y"] < 0 < guide["y"] + guide["height"] < 100

    for n in range(1, 9):
        set_text(site, ids["Guide"], paragraphs("New", n) + "\n\n" + paragraphs("Guide", 12))
        versions = rebuild(site)
        publish(server, versions, ids["Guide"])
        wait_for_version(page, ids["Guide"], versions["widgets"][ids["Guide"]])
        assert abs(roadmap.bounding_box()["y"] - start) <= 2, f"after swap {n}"
    assert f"New paragraph {n - 1}" in text_of(page, ids["Guide"])


def test_focus_stays_on_the_equivalent_element(site, server, page):
    """Assert a keyboard user on the Links note's second link is on the new second link after
    the note changes, and the page does not scroll back to it (they had scrolled away)."""
    ids = widget_ids(site)
    open_live(page, server)
    page.get_by_role("link", name="two").focus()
    page.locator(f"#widget-{ids['Roadmap']}").evaluate("(el) => el.scrollIntoView()")
    scrolled_before = page.evaluate("scrollY")
    assert scrolled_before > 0

    set_text(site, ids["Links"], "Now: [uno](https://example.org/1) [dos](https://example.org/2)")
    versions = rebuild(site)
    publish(server, versions, ids["Links"])
    wait_for_version(page, ids["Links"], versions["widgets"][ids["Links"]])

    focused = page.evaluate("""(id) => {
        const el = document.activeElement;
        return [el.closest(".widget")?.id, el.tagName, el.textContent]; }""", ids["Links"])
    assert focused == [f"widget-{ids['Links']}", "A", "dos"]
    assert page.evaluate("scrollY") == scrolled_before


def test_focus_stays_on_its_link_while_new_badges_arrive_before_it(site, server, page):
    """Assert a keyboard user on "All of ralph's badges" stays on it through awards that
    each insert a badge link before it (by position, focus would land on a badge)."""
    award(site, server, "First")
    open_live(page, server, USER)
    page.get_by_role("link", name="All of ralph's badges").focus()
    expected = focused(page)
    assert expected[1:] == ["A", "https://badges.fedoraproject.org/user/ralph",
                            "All of ralph's badges"]
    widget = badges_widget(site)

    for name in ["Second", "Third", "Fourth", "Fifth", "Sixth"]:
        versions = award(site, server, name)
        publish(server, versions, widget)
        wait_for_version(page, widget, versions["widgets"][widget])
        assert page.locator(f"#widget-{widget} img[alt='{name}']").count() == 1
        assert focused(page) == expected, f"after {name}"


def text_on_images(page: Page) -> dict[str, list[tuple[str, bool]]]:
    """Text Chromium laid out over each image, by the image's alt: for each piece, the text
    and whether its box is non-empty and within the image's. Read from the layout tree (the
    DevTools protocol's DOM snapshot), as a screenshot would show it, not from the DOM."""
    snapshot = page.context.new_cdp_session(page).send(
        "DOMSnapshot.captureSnapshot", {"computedStyles": []})
    strings, document = snapshot["strings"], snapshot["documents"][0]
    nodes, layout = document["nodes"], document["layout"]
    box = dict(zip(layout["nodeIndex"], layout["bounds"], strict=True))
    found: dict[str, list[tuple[str, bool]]] = {}
    for node, text, (x, y, w, h) in zip(layout["nodeIndex"], layout["text"], layout["bounds"],
                                        strict=True):
        image = nodes["parentIndex"][node]
        if text < 0 or strings[nodes["nodeName"][image]] != "IMG":
            continue
        names = [strings[i] for i in nodes["attributes"][image]]
        alt = dict(zip(names[::2], names[1::2], strict=True)).get("alt", "")
        ix, iy, iw, ih = box[image]
        inside = w > 0 and h > 0 and ix <= x and x + w <= ix + iw and iy <= y and y + h <= iy + ih
        found.setdefault(alt, []).append((strings[text], inside))
    return found


def test_a_badge_whose_image_is_missing_shows_its_name(site, server, page):
    """Assert that when badge images answer 404, each tile shows the badge's name, laid out
    within the tile, not a blank grey square."""
    names = ["Crypto Panda", "Tester", "Associate Editor (Badges III)"]
    award(site, server, *names)
    page.goto(f"{server.url}/{USER}/")
    page.wait_for_function("""(count) => {
        const images = [...document.querySelectorAll(".badges-badge img")];
        return images.length === count
            && images.every((img) => img.complete && img.naturalWidth === 0); }""",
        arg=len(names))
    assert len(server.hits("/pngs/tester.png")) == 1

    drawn = text_on_images(page)
    assert {name: drawn.get(name) for name in names} == {name: [(name, True)] for name in names}


def test_a_new_widget_reloads_the_layout_and_keeps_focus(site, server, page):
    """Assert a complete map naming a widget the page lacks brings in the rebuilt page's
    columns and seq, keeping focus on the equivalent link."""
    ids = widget_ids(site)
    open_live(page, server)
    page.get_by_role("link", name="two").focus()
    with site.session() as s:
        hub = s.scalars(select(Hub).where(Hub.name == HUB)).one()
        hub.widgets.append(WidgetInstance(plugin="sticky", column="side", position=9,
                                          config={"title": "Fresh", "text": "Brand new."}))
        s.commit()
    versions = rebuild(site)
    new_id = widget_ids(site)["Fresh"]

    server.push(versions["seq"], versions["widgets"], complete=True)
    page.wait_for_selector(f"#widget-{new_id}")

    assert page.locator("main").get_attribute("data-seq") == str(versions["seq"])
    assert text_of(page, new_id).endswith("Brand new.")
    focused = page.evaluate("[document.activeElement.closest('.widget')?.id, "
                            "document.activeElement.textContent]")
    assert focused == [f"widget-{ids['Links']}", "two"]
    page.wait_for_function(
        "document.querySelector('[data-live-status]').textContent === 'Page layout updated'")


def badge_says(page: Page, state: str) -> str:
    """Wait until the live badge is in *state*; its text."""
    page.wait_for_function(
        "(state) => document.querySelector('.live-badge')?.dataset.state === state", arg=state)
    return page.locator(".live-badge").inner_text()


def test_without_an_events_service_the_page_polls_and_says_so(site, server, page):
    """Assert a page served with no events service (a static server: /events is 404) settles
    on polling, says how often it checks, asks for /events once in its first minutes, not
    every few seconds, picks up a rebuild by polling, and goes live once events exist."""
    ids = widget_ids(site)
    server.events_on = False
    page.clock.install()  # time flows as usual, and is brought forward below
    page.goto(f"{server.url}/{HUB}/")
    assert badge_says(page, "polling") == "Updates every 0.5 s"
    for _ in range(6):  # a minute, in steps: every timer due in it fires
        polls = len(server.hits(f"/{HUB}/versions.json"))
        page.clock.fast_forward("00:10")
        wait_until(lambda: len(server.hits(f"/{HUB}/versions.json")) > polls,  # noqa: B023
                   "a poll after the clock moved", 10)
    assert len(server.hits("/events")) == 1
    assert badge_says(page, "polling") == "Updates every 0.5 s"

    set_text(site, ids["Note"], "Polled into view.")
    versions = rebuild(site)
    wait_for_version(page, ids["Note"], versions["widgets"][ids["Note"]])
    assert "Polled into view." in text_of(page, ids["Note"])
    assert badge_says(page, "polling") == "Updates every 0.5 s"

    server.events_on = True
    page.clock.fast_forward("04:01")  # past the rare retry, five minutes after the first try
    assert badge_says(page, "live") == "Live"
    assert len(server.hits("/events")) == 2
    assert server.hits("/events")[-1] == {"hub": HUB, "since": str(versions["seq"])}


def test_opened_as_a_file_the_page_fetches_nothing_and_says_reload(site, page):
    """Assert a page opened from disk (file://), where the browser refuses every fetch, asks
    for neither /events nor versions.json, and its badge says to reload instead of claiming
    to poll (and, three minutes on, calling itself out of date)."""
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.clock.install()
    page.goto((site.out / HUB / "index.html").as_uri())
    assert badge_says(page, "file") == "Reload for updates"
    page.clock.fast_forward("05:00")
    assert badge_says(page, "file") == "Reload for updates"
    assert [url for url in fetched if "/events" in url or "versions.json" in url] == []


def test_when_events_go_away_the_page_catches_up_and_retries_soon(site, server, page):
    """Assert a page whose event stream worked, then went away, says 'Catching up', polls,
    and tries events again within a retry (max(2 x poll, 10 s)), going live once they are
    back."""
    ids = widget_ids(site)
    page.clock.install()
    open_live(page, server)
    server.events_on = False
    server._send(None)  # ends every stream: the shim restarts, say
    assert badge_says(page, "catching-up") == "Catching up"

    set_text(site, ids["Note"], "Polled meanwhile.")
    versions = rebuild(site)
    wait_for_version(page, ids["Note"], versions["widgets"][ids["Note"]])

    server.events_on = True
    page.clock.fast_forward("00:11")
    assert badge_says(page, "live") == "Live"
    assert server.hits("/events")[-1] == {"hub": HUB, "since": str(versions["seq"])}


def hide(page: Any, hidden: bool) -> None:
    """Switch the tab to the background (or back), as the browser tells a page."""
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def test_a_hidden_tab_lets_go_of_its_stream_and_catches_up_when_shown(site, server, page):
    """Assert a background tab closes its event stream (browsers give a site six HTTP/1.1
    connections), and when shown again asks for what came after its seq."""
    page.goto(f"{server.url}/{HUB}/")
    page.wait_for_selector('.live-badge[data-state="live"]')
    opened = len(server.hits("/events"))
    hide(page, True)
    assert page.evaluate("document.querySelector('.live-badge').dataset.state") != "live"
    hide(page, False)  # a tab that kept its stream would open no new one
    wait_until(lambda: len(server.hits("/events")) == opened + 1, "a new stream", 10)
    assert server.hits("/events")[-1] == {"hub": HUB, "since": "1"}
    page.wait_for_selector('.live-badge[data-state="live"]')


def test_a_whole_map_numbered_below_the_page_reloads_it(site, server, page):
    """Assert that when the hub's numbering restarts (its output rebuilt from nothing), the
    page reloads instead of ignoring every state numbered below the one it had."""
    ids = widget_ids(site)
    page.goto(f"{server.url}/{HUB}/")
    page.wait_for_selector('.live-badge[data-state="live"]')
    server.push(7, {ids["Note"]: "v-seven"})
    page.evaluate("window.beforeRestart = true")
    server.push(1, {i: "whatever" for i in ids.values()}, complete=True)
    page.wait_for_function("window.beforeRestart === undefined")


def test_badge_says_out_of_date_when_nothing_is_confirmed(site, server, page):
    """Assert the badge turns 'Out of date' after three minutes without a successful poll,
    and back to saying how often it polls when a poll succeeds again."""
    server.events_on = False
    server.broken.add(f"/{HUB}/versions.json")
    page.clock.install()
    page.goto(f"{server.url}/{HUB}/")
    wait_until(lambda: server.hits(f"/{HUB}/versions.json"), "poll of versions.json", 10)

    page.clock.fast_forward("03:10")
    page.wait_for_selector('.live-badge[data-state="stale"]')
    assert page.locator(".live-badge").inner_text() == "Out of date"

    server.broken.clear()
    assert badge_says(page, "polling") == "Updates every 0.5 s"


def test_times_say_how_long_ago_by_the_readers_clock_and_keep_up(site, server, page):
    """Assert each <time> reads how long ago by the reader's clock, its absolute time as its
    title: as built, a minute later, and in a fragment swapped in afterwards."""
    badges = badges_widget(site)
    award(site, server, "Tester")  # at T0, 2 Nov 2026, 12:00 UTC
    page.clock.install(time=T0 + timedelta(hours=3))
    open_live(page, server, USER)
    latest = page.locator(f"#widget-{badges} .badges-total time")
    assert latest.inner_text() == "3 hours ago"
    assert latest.get_attribute("title") == "2 Nov 2026, 12:00 UTC"
    page.clock.run_for(60 * 60 * 1000)
    assert latest.inner_text() == "4 hours ago"

    versions = award(site, server, "Mentor")  # at T0 + 1 day
    page.clock.fast_forward("20:30:00")
    publish(server, versions, badges)
    wait_for_version(page, badges, versions["widgets"][badges])
    assert latest.inner_text() == "30 minutes ago"
    assert latest.get_attribute("title") == "3 Nov 2026, 12:00 UTC"


def test_hostile_note_arrives_inert(site, server, page):
    """Assert markup that would run script, arriving through a live update, runs none."""
    ids = widget_ids(site)
    open_live(page, server)
    set_text(site, ids["Note"], 'Hello <img src=x onerror="window.pwned = 1">\n\n'
                                "<script>window.pwned = 2</script>\n\n"
                                '<a href="javascript:window.pwned = 3">click</a> '
                                "[me](javascript:window.pwned=4)")
    versions = rebuild(site)
    publish(server, versions, ids["Note"])
    wait_for_version(page, ids["Note"], versions["widgets"][ids["Note"]])

    note = page.locator(f"#widget-{ids['Note']}")
    assert "Hello" in note.inner_text()
    assert note.locator("script, img, [onerror], a[href^='javascript']").count() == 0
    assert page.evaluate("window.pwned") is None


def test_without_javascript_a_reload_shows_the_update_and_no_badge(site, server, browser):
    """Assert the page needs no script: loaded after a rebuild it shows the new note, and
    no badge (the client makes it)."""
    ids = widget_ids(site)
    set_text(site, ids["Note"], "Read without script.")
    rebuild(site)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/{HUB}/")
        assert "Read without script." in text_of(page, ids["Note"])
        assert page.locator(".live-badge").count() == 0
        assert server.hits("/events") == []
    finally:
        context.close()
