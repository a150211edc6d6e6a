"""``hubsgen events``, the real console script, over a real build that another process rewrites.

Each test starts the shim on a free loopback port and reads its streams with aiohttp, as a
browser's EventSource would through nginx. State changes are real: a sticky note's text changes
in the database and the project's build rewrites the fragment, versions.json and the page from
this (test) process, so the shim must notice rewrites made by another writer.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from yarl import URL

from hubs.models import Hub, WidgetInstance
from hubs.settings import load_settings
from hubs.testing import add_hub, make_engine
from tests import timing
from tests.integration.watching import HUBSGEN, _environment
from tests.ports import free_port
from tests.sites import Site

TIMEOUT = 30.0
"""Nominal seconds (see tests.timing) any single wait may take before the test fails."""


# --- The site and the shim ---

@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    """ralph's hub (two sticky notes) and the lounge (one), built."""
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "ralph", user_hub=True, widgets=[
            ("sticky", {"text": "Hi"}), ("sticky", {"text": "On the side"}, "side")])
        add_hub(s, "lounge", widgets=[("sticky", {"text": "Nothing happens here"})])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    assert site.build().failures == []
    yield site
    engine.dispose()


@dataclass
class Shim:
    """One running ``hubsgen -v events``; its log is stderr."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> URL:
        return URL(f"http://127.0.0.1:{self.port}/events")

    def raw_url(self, target: str) -> URL:
        """*target* sent as is, without the client normalising ``..`` away."""
        return URL(f"http://127.0.0.1:{self.port}{target}", encoded=True)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cpu_seconds(self) -> float:
        """User plus system time the process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def start_shim(site: Site, tmp_path: Path) -> Iterator[Callable[..., Shim]]:
    """Start ``hubsgen events OPTIONS`` over the site's build; every shim is killed after."""
    started: list[Shim] = []

    def start(*options: str, verbose: bool = True) -> Shim:
        port = free_port()
        log_path = tmp_path / f"events-{len(started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own console script
                [str(HUBSGEN), *(["-v"] if verbose else []), "events",
                 "--listen", f"127.0.0.1:{port}", "--out", str(site.out), *options],
                cwd=tmp_path, env=_environment(tmp_path), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=log)
        shim = Shim(process, port, log_path)
        started.append(shim)

        def listening() -> bool:
            if process.poll() is not None:
                pytest.fail(f"hubsgen events exited {process.returncode}:\n{shim.log()}")
            return "Serving events" in shim.log()

        timing.wait_until(listening, "hubsgen events listening", TIMEOUT)
        return shim

    yield start
    for shim in started:
        shim.kill()


# --- Changing the site as the watcher would ---

def versions(site: Site, hub: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((site.out / hub / "versions.json").read_bytes())
    return doc


def page_seq(site: Site, hub: str) -> int:
    """The data-seq of the hub's page, which the live client sends as since=."""
    html = (site.out / hub / "index.html").read_text(encoding="utf-8")
    found = re.search(r'<main [^>]*data-seq="(\d+)"', html)
    assert found, f"no data-seq in {hub}/index.html"
    return int(found.group(1))


def change_note(site: Site, hub: str, text: str) -> str:
    """Give the hub's first sticky note *text* and rebuild; the note's widget id."""
    with site.session() as s:
        note = s.scalars(select(WidgetInstance).join(Hub).where(
            Hub.name == hub, WidgetInstance.plugin == "sticky")
            .order_by(WidgetInstance.position)).first()
        assert note is not None
        note.config = {**note.config, "text": text}
        widget_id = str(note.id)
        s.commit()
    before = versions(site, hub)["seq"]
    assert site.build().failures == []
    assert versions(site, hub)["seq"] == before + 1, "the rebuild made a new state"
    return widget_id


# --- Reading streams ---

@dataclass(frozen=True)
class Event:
    id: int
    name: str
    data: dict[str, Any]


def parse_event(frame: str) -> Event | None:
    """The event a frame carries; None for ``retry:`` and comments."""
    fields = dict(line.split(": ", 1) for line in frame.split("\n") if not line.startswith(":"))
    if "event" not in fields:
        return None
    return Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))


class Stream:
    """An open event stream, read in the background frame by frame (blocks ended by a blank
    line), so waits with timeouts never cut a frame in half."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.frames: asyncio.Queue[str | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        lines: list[str] = []
        try:
            async for raw in self.response.content:
                line = raw.decode().rstrip("\r\n")
                if line:
                    lines.append(line)
                elif lines:
                    await self.frames.put("\n".join(lines))
                    lines = []
        except aiohttp.ClientError:
            pass  # the server went away: that is the end of the stream
        await self.frames.put(None)

    async def frame(self, timeout: float | None = None) -> str | None:
        """The next frame within *timeout* seconds (default: TIMEOUT, stretched); None when
        the stream has ended."""
        async with asyncio.timeout(timing.seconds(TIMEOUT) if timeout is None else timeout):
            return await self.frames.get()

    async def event(self) -> Event:
        """The next event, past keep-alives; fails if the stream ends first."""
        async with asyncio.timeout(timing.seconds(TIMEOUT)):
            while True:
                frame = await self.frame()
                assert frame is not None, "the stream ended before an event"
                event = parse_event(frame)
                if event is not None:
                    return event

    async def frames_within(self, seconds: float) -> list[str]:
        """Every frame that arrives in the next *seconds* (to show what did not come)."""
        frames: list[str] = []
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                frame = await self.frame(left)
            except TimeoutError:
                break
            if frame is None:
                break
            frames.append(frame)
        return frames

    async def events_within(self, seconds: float) -> list[Event]:
        return [e for f in await self.frames_within(seconds) if (e := parse_event(f))]

    def stop(self) -> None:
        self._reader.cancel()


def client() -> aiohttp.ClientSession:
    """No connection limit (the default is 100) and no overall timeout: streams are long."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                 timeout=aiohttp.ClientTimeout(total=None,
                                                               sock_connect=timing.seconds(5)))


@asynccontextmanager
async def stream(session: aiohttp.ClientSession, shim: Shim, hub: str,
                 since: int | None = None, **headers: str) -> AsyncIterator[Stream]:
    """An accepted stream, past its ``retry:`` line: the shim now sends it every change."""
    params = {"hub": hub} if since is None else {"hub": hub, "since": str(since)}
    response = await session.get(shim.url, params=params, headers=_headers(headers))
    opened: Stream | None = None
    try:
        assert response.status == 200, f"{response.status}: {await response.text()}"
        assert response.headers["Content-Type"].startswith("text/event-stream")
        opened = Stream(response)
        assert await opened.frame() == "retry: 3000", "the first thing sent"
        yield opened
    finally:
        if opened is not None:
            opened.stop()
        response.close()


async def refused(session: aiohttp.ClientSession, shim: Shim, hub: str,
                  **headers: str) -> tuple[int, str, str | None]:
    """Status, body and Retry-After of a request that must not open a stream."""
    async with session.get(shim.url, params={"hub": hub}, headers=_headers(headers)) as r:
        return r.status, await r.text(), r.headers.get("Retry-After")


def _headers(names: dict[str, str]) -> dict[str, str]:
    """Keyword arguments as header names: X_Real_IP is X-Real-IP."""
    return {k.replace("_", "-"): v for k, v in names.items()}


def run(scenario: Coroutine[Any, Any, None]) -> None:
    """Drive an async scenario from a plain test, with an overall deadline."""
    async def bounded() -> None:
        async with asyncio.timeout(timing.seconds(120)):
            await scenario

    asyncio.run(bounded())


# --- Tests ---

def test_without_v_the_shim_says_once_where_it_listens_and_what_it_watches(site, start_shim):
    """Assert ``hubsgen events`` started without -v logs one line naming its address, port
    and the output directory it watches: a service that starts in silence looks hung."""
    shim = start_shim(verbose=False)
    lines = [line for line in shim.log().splitlines() if "Serving events" in line]
    assert len(lines) == 1, shim.log()
    assert f"on http://127.0.0.1:{shim.port}/events, watching {site.out.resolve()} " in lines[0]


def test_a_rebuild_sends_one_event_naming_only_the_changed_widget(site, start_shim):
    shim = start_shim("--keepalive", "0.2")
    seq = page_seq(site, "ralph")

    async def scenario() -> None:
        async with client() as session, stream(session, shim, "ralph", since=seq) as ralph:
            widget = change_note(site, "ralph", "Meeting moved to Wednesday")
            now = versions(site, "ralph")
            assert now["seq"] == seq + 1
            assert await ralph.event() == Event(now["seq"], "versions", {
                "seq": now["seq"], "widgets": {widget: now["widgets"][widget]},
                "complete": False})
            assert await ralph.events_within(1.0) == [], "one rebuild, one event"

    run(scenario())


def test_an_idle_stream_leaves_the_shim_idle(site, start_shim):
    """Reading versions.json must not make the shim read it again (inotify reports reads)."""
    shim = start_shim()

    async def scenario() -> None:
        async with client() as session, stream(session, shim, "ralph",
                                               since=page_seq(site, "ralph")):
            before = shim.cpu_seconds()
            await asyncio.sleep(1.0)
            used = shim.cpu_seconds() - before
            assert used < 0.3, f"the shim used {used:.2f} s of CPU in 1 s with nothing to do"

    run(scenario())


def test_a_reconnecting_client_gets_the_updates_it_missed(site, start_shim):
    """Last-Event-ID takes precedence over since=, which the page's URL still carries."""
    shim = start_shim()

    async def scenario() -> None:
        async with client() as session:
            async with stream(session, shim, "ralph", since=1) as watcher:
                widget = change_note(site, "ralph", "Second")
                second = versions(site, "ralph")
                change_note(site, "ralph", "Third")
                third = versions(site, "ralph")
                assert [(await watcher.event()).id, (await watcher.event()).id] == [2, 3]
            async with stream(session, shim, "ralph", since=3, Last_Event_ID="1") as back:
                assert [await back.event(), await back.event()] == [
                    Event(2, "versions", {"seq": 2, "complete": False,
                                          "widgets": {widget: second["widgets"][widget]}}),
                    Event(3, "versions", {"seq": 3, "complete": False,
                                          "widgets": {widget: third["widgets"][widget]}})]
                assert await back.events_within(0.5) == []

    run(scenario())


def test_updates_the_shim_did_not_see_come_as_one_complete_map(site, start_shim):
    """Nobody watched ralph while he changed twice: the shim cannot replay, so it sends all."""
    shim = start_shim()
    change_note(site, "ralph", "Second")
    change_note(site, "ralph", "Third")
    now = versions(site, "ralph")

    async def scenario() -> None:
        async with client() as session, stream(session, shim, "ralph",
                                               Last_Event_ID="1") as back:
            assert await back.event() == Event(3, "versions", {
                "seq": 3, "widgets": now["widgets"], "complete": True})
            assert await back.events_within(0.5) == []

    run(scenario())


def test_a_client_without_a_seq_gets_the_whole_map_at_once(site, start_shim):
    shim = start_shim()
    now = versions(site, "ralph")

    async def scenario() -> None:
        async with client() as session, stream(session, shim, "ralph") as fresh:
            assert await fresh.event() == Event(now["seq"], "versions", {
                "seq": now["seq"], "widgets": now["widgets"], "complete": True})

    run(scenario())


def test_a_current_client_gets_only_keep_alives(site, start_shim):
    shim = start_shim("--keepalive", "0.2")

    async def scenario() -> None:
        async with client() as session, stream(session, shim, "ralph",
                                               since=page_seq(site, "ralph")) as current:
            frames = await current.frames_within(1.0)
            assert len(frames) >= 2, f"keep-alives every 0.2 s, got {frames}"
            assert set(frames) == {": keep-alive"}

    run(scenario())


def test_a_hubs_clients_hear_nothing_of_another_hub(site, start_shim):
    shim = start_shim()

    async def scenario() -> None:
        async with (client() as session,
                    stream(session, shim, "ralph", since=page_seq(site, "ralph")) as ralph,
                    stream(session, shim, "lounge", since=page_seq(site, "lounge")) as lounge):
            note = change_note(site, "lounge", "Something happened")
            assert set((await lounge.event()).data["widgets"]) == {note}
            mine = change_note(site, "ralph", "Only mine")
            event = await ralph.event()  # events come in order: lounge's would be first
            assert (event.id, set(event.data["widgets"])) == (versions(site, "ralph")["seq"],
                                                             {mine})

    run(scenario())


@pytest.mark.parametrize(("query", "status", "says"), [
    ({"hub": "../x"}, 400, "invalid"),
    ({"hub": "ralph/widgets"}, 400, "invalid"),
    ({"hub": "static"}, 400, "reserved"),
    ({}, 400, "invalid"),
    ({"hub": "nobody"}, 404, "nobody"),
    ({"hub": "ralph", "since": "abc"}, 400, "abc"),
    ({"hub": "ralph", "since": "-1"}, 400, "-1"),
], ids=["traversal", "slash", "reserved", "no-hub", "unknown-hub", "since-abc", "since-negative"])
def test_bad_requests_are_refused_with_a_reason(site, start_shim, query, status, says):
    shim = start_shim()

    async def scenario() -> None:
        async with client() as session, session.get(shim.url, params=query) as response:
            assert response.status == status
            assert says in await response.text()

    run(scenario())


def test_a_bad_last_event_id_is_refused(site, start_shim):
    shim = start_shim()

    async def scenario() -> None:
        async with client() as session:
            status, body, _ = await refused(session, shim, "ralph", Last_Event_ID="abc")
            assert (status, "abc" in body) == (400, True)

    run(scenario())


@pytest.mark.parametrize("target", [
    "/", "/index.html", "/ralph/index.html", "/ralph/versions.json", "/ralph/", "/static/",
    "/404.html", "/events/ralph", "/events/../x", "/events/../ralph/versions.json",
    "/events/%2e%2e/ralph/versions.json", "/events/..%2Fralph%2Fversions.json"])
def test_only_events_are_served_never_a_file(site, start_shim, target):
    shim = start_shim()
    files = [site.out / "index.html", site.out / "ralph" / "index.html",
             site.out / "ralph" / "versions.json"]

    async def scenario() -> None:
        async with client() as session, session.get(shim.raw_url(target)) as response:
            assert response.status == 404
            body = await response.read()
            assert b"<main" not in body and b'"seq"' not in body
            assert all(path.read_bytes() not in body for path in files)

    run(scenario())


@pytest.mark.parametrize("proxy", ["127.0.0.1", "127.0.0.0/8"])
def test_streams_over_the_per_address_cap_get_429(site, start_shim, proxy):
    """Behind nginx every request comes from loopback, a trusted proxy: X-Real-IP names the
    browser, and a request without it counts against the proxy itself."""
    shim = start_shim("--max-per-address", "1", "--trusted-proxy", proxy)

    async def scenario() -> None:
        async with (client() as session, stream(session, shim, "ralph"),
                    stream(session, shim, "ralph", X_Real_IP="203.0.113.1"),
                    stream(session, shim, "lounge", X_Real_IP="203.0.113.2")):
            status, _, retry_after = await refused(session, shim, "ralph")
            assert (status, retry_after is not None) == (429, True)
            status, _, _ = await refused(session, shim, "lounge", X_Real_IP="203.0.113.1")
            assert status == 429, "counted per forwarded address, across hubs"

    run(scenario())


@pytest.mark.parametrize("options", [(), ("--trusted-proxy", "192.0.2.1"),
                                     ("--trusted-proxy", "::1")],
                         ids=["no-proxy", "another-proxy", "ipv6-loopback-only"])
def test_x_real_ip_from_an_untrusted_peer_counts_against_the_peer(site, start_shim, options):
    """A local process is no proxy: inventing a client address per stream must not take it
    past the cap, as 3,000 streams from one process once did."""
    shim = start_shim("--max-per-address", "50", *options)

    async def scenario() -> None:
        async with client() as session, AsyncExitStack() as streams:
            await asyncio.gather(*(
                streams.enter_async_context(stream(session, shim, "ralph",
                                                   X_Real_IP=f"198.51.100.{n}"))
                for n in range(50)))
            for headers in ({"X_Real_IP": "198.51.100.200"}, {"X_Real_IP": "2001:db8::1"}, {}):
                status, _, _ = await refused(session, shim, "lounge", **headers)
                assert status == 429, f"{headers} opened stream 51 from one peer"
        assert shim.log().count("Ignoring X-Real-IP from 127.0.0.1") == 1, shim.log()

    run(scenario())


def test_a_closed_stream_frees_its_place_at_once(site, start_shim):
    """A reloaded page closes its stream and opens another: the closed one must not count
    until the next keep-alive write finds it gone (15 s here)."""
    shim = start_shim("--max-per-address", "1")

    async def scenario() -> None:
        async with client() as session:
            async with stream(session, shim, "ralph"):
                pass
            deadline = time.monotonic() + timing.seconds(3)
            while (status := await _open_and_close(session, shim)) == 429:
                assert time.monotonic() < deadline, "the closed stream still counts"
                await asyncio.sleep(0.1)
            assert status == 200

    run(scenario())


async def _open_and_close(session: aiohttp.ClientSession, shim: Shim) -> int:
    """Try to open a ralph stream; its status (a stream opened is closed again at once)."""
    async with session.get(shim.url, params={"hub": "ralph"}) as response:
        return response.status


def test_streams_over_the_total_cap_get_503(site, start_shim):
    shim = start_shim("--max-connections", "2")

    async def scenario() -> None:
        async with (client() as session, stream(session, shim, "ralph"),
                    stream(session, shim, "lounge", X_Real_IP="203.0.113.9")):
            status, body, retry_after = await refused(session, shim, "ralph",
                                                      X_Real_IP="203.0.113.10")
            assert (status, retry_after is not None) == (503, True), body

    run(scenario())


def test_sigterm_ends_the_shim_promptly_with_a_stream_open(site, start_shim):
    shim = start_shim()

    async def scenario() -> None:
        async with client() as session, stream(session, shim, "ralph",
                                               since=page_seq(site, "ralph")) as open_stream:
            started = time.monotonic()
            shim.process.send_signal(signal.SIGTERM)
            assert await open_stream.frame(timing.seconds(5)) is None, "the stream just ends"
            code = await asyncio.to_thread(shim.process.wait, timing.seconds(5))
            assert code == 0, shim.log()
            assert time.monotonic() - started < timing.seconds(4)
            assert "Traceback" not in shim.log()

    run(scenario())


def test_a_deleted_output_directory_stops_the_shim_with_an_error(site, start_shim):
    """Its inotify watches go with the directory: serving on would leave pages on stale news,
    so it exits non-zero and the service manager starts it again."""
    shim = start_shim()
    shutil.rmtree(site.out)
    code = shim.process.wait(timing.seconds(10))
    assert code == 1, shim.log()
    assert "was deleted or moved; restart hubsgen events once it is back" in shim.log()


def test_after_a_surge_of_streams_the_shim_tracks_nothing_and_releases_memory(site, start_shim):
    """Per-stream state goes with its stream: once 1,500 streams have closed, the shim reports
    nothing tracked and no stream's task left, and it hands the memory back (its log says how
    much; not asserted, the allocator decides). It serves on as before."""
    shim = start_shim("--max-per-address", "2000")
    seq = page_seq(site, "ralph")

    async def scenario() -> None:
        async with client() as session:
            async with AsyncExitStack() as streams:
                for _ in range(6):  # 250 at a time: the listen backlog is finite
                    await asyncio.gather(*(
                        streams.enter_async_context(stream(session, shim, hub, since=seq))
                        for hub in ["ralph", "lounge"] * 125))
            await asyncio.to_thread(timing.wait_until,
                                    lambda: DRAINED.search(shim.log()) is not None,
                                    "the surge reported drained", TIMEOUT)
            drained = DRAINED.search(shim.log())
            assert drained is not None
            assert drained.group("peak", "open", "hubs", "addresses") == ("1500", "0", "0", "0")
            assert int(drained.group("tasks")) < 10, "a stream's task outlived its stream"
            async with stream(session, shim, "ralph", since=seq) as again:
                widget = change_note(site, "ralph", "After the surge")
                assert set((await again.event()).data["widgets"]) == {widget}

    run(scenario())


DRAINED = re.compile(r"A surge of (?P<peak>\d+) streams drained to (?P<open>\d+): tracking "
                     r"(?P<hubs>\d+) hubs with clients, (?P<addresses>\d+) addresses, "
                     r"(?P<tasks>\d+) tasks")


def test_one_rebuild_reaches_two_hundred_streams(site, start_shim):
    shim = start_shim("--max-per-address", "500")
    seq = page_seq(site, "ralph")

    async def scenario() -> None:
        async with client() as session, AsyncExitStack() as streams:
            opened = await asyncio.gather(*(
                streams.enter_async_context(stream(session, shim, "ralph", since=seq))
                for _ in range(200)))
            widget = change_note(site, "ralph", "To everyone")
            received = await asyncio.gather(*(s.event() for s in opened))
            now = versions(site, "ralph")
            assert {(e.id, json.dumps(e.data["widgets"])) for e in received} == {
                (seq + 1, json.dumps({widget: now["widgets"][widget]}))}

    run(scenario())
