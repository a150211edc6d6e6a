"""``hubsgen serve`` driven for real: a third-party widget's template edited on disk rewrites only
that widget's files and reloads the browser (livereload's own protocol); a broken template
shows as an error page naming the file and line; the next save recovers; each rebuild says
what it did in one line, without -v too."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.models import Hub
from hubs.testing import add_hub, make_engine
from tests.integration.watching import HUBSGEN, _environment, changed_since, snapshot
from tests.plugin_dist import install_plugins
from tests.ports import free_port
from tests.timing import seconds, wait_until

NOTE = '''
from hubs.widget import Argument, Hint, Panel, Widget
from thirdparty_widgets._words import say

WIDGET = Widget(name="note", template="note.html",
                data=lambda ctx: {"word": say(ctx.config["word"])},
                should_invalidate=lambda event, instance: False, hint=Hint(),
                arguments=(Argument("word", "hello", str, "what to say"),), chrome=Panel("Note"))
'''
WORDS = '''
def say(word):
    return word
'''


@dataclass
class Served:
    url: str
    out: Path
    template: Path
    note_id: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=seconds(5)) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[Served]:
    """``hubsgen -v serve`` over hubs alpha (a third-party note and a sticky) and beta."""
    yield from _serve(sqlite_url, tmp_path, "-v")


@pytest.fixture
def served_quietly(sqlite_url: str, tmp_path: Path) -> Iterator[Served]:
    """The same, without -v: what a widget author sees by default."""
    yield from _serve(sqlite_url, tmp_path)


def _serve(sqlite_url: str, tmp_path: Path, *verbosity: str) -> Iterator[Served]:
    site_packages = install_plugins(tmp_path / "site", {"note": NOTE, "_words": WORDS},
                                    {"note.html": "<p class='note'>{{ data.word }}</p>\n"},
                                    {"note": "thirdparty_widgets.note:WIDGET"})
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        alpha = add_hub(s, "alpha", widgets=[("note", {"word": "first"}),
                                             ("sticky", {"text": "Alpha's note"})])
        add_hub(s, "beta", widgets=[("sticky", {"text": "Beta's note"})])
        note_id = alpha.widgets[0].id
        s.commit()
    engine.dispose()
    port = free_port()
    env = {**_environment(tmp_path), "PYTHONPATH": str(site_packages)}
    out = tmp_path / "build"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(HUBSGEN), *verbosity, "serve", "--port", str(port),
                                    "--events-port", str(free_port()), "--db", sqlite_url,
                                    "--out", str(out)], cwd=tmp_path, env=env,
                                   stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(f"{url}/alpha/", process, tmp_path), "hubsgen serve up", 30)
        yield Served(url, out, site_packages / "thirdparty_widgets" / "note.html", note_id,
                     process, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(seconds(15))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("hubsgen serve ignored SIGTERM")


def _up(url: str, process: subprocess.Popen[bytes], cwd: Path) -> bool:
    if process.poll() is not None:
        pytest.fail(f"hubsgen serve exited {process.returncode}:\n"
                    f"{(cwd / 'serve.log').read_text()}")
    try:
        return get(url)[0] == 200
    except OSError:
        return False


class Browser:
    """A livereload client, as livereload.js speaks it: hello, info, then wait for reloads."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, served: Served) -> Browser:
        ws = await session.ws_connect(served.url.replace("http", "ws") + "/livereload")
        await ws.send_str(json.dumps({"command": "hello", "protocols": [
            "http://livereload.com/protocols/official-7"]}))
        hello = json.loads((await ws.receive(timeout=seconds(10))).data)
        assert hello["command"] == "hello"
        await ws.send_str(json.dumps({"command": "info", "url": f"{served.url}/alpha/",
                                      "plugins": {}}))
        return cls(ws)

    async def reloaded(self) -> None:
        while True:
            message = json.loads((await self.ws.receive(timeout=seconds(20))).data)
            if message["command"] == "reload":
                return


def save(path: Path, text: str) -> None:
    """As an editor saves: new content, a new mtime even within the same second."""
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_template_edit_rewrites_only_its_widget_and_reloads_the_browser(
        served: Served) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            browser = await Browser.connect(session, served)
            before = snapshot(served.out)
            save(served.template, "<p class='note'>{{ data.word | upper }}!</p>\n")
            await browser.reloaded()
            assert changed_since(served.out, before) == {
                f"alpha/widgets/{served.note_id}.json", "alpha/versions.json",
                "alpha/index.html"}
            assert "FIRST!" in get(f"{served.url}/alpha/")[1]

    asyncio.run(scenario())


def test_a_broken_template_shows_an_error_page_until_it_is_fixed(served: Served) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            browser = await Browser.connect(session, served)
            save(served.template, "<p>\n{% if %}</p>\n")
            await browser.reloaded()
            status, page = get(f"{served.url}/alpha/")
            assert status == 500
            assert f"{served.template}:2" in page and "TemplateSyntaxError" in page
            assert get(f"{served.url}/alpha/versions.json")[0] == 200  # data files still serve

            save(served.template, "<p class='note'>fixed: {{ data.word }}</p>\n")
            await browser.reloaded()
            status, page = get(f"{served.url}/alpha/")
            assert status == 200 and "fixed: first" in page

    asyncio.run(scenario())


def test_a_hub_changed_in_the_database_is_rewritten_alone(served: Served,
                                                          sqlite_url: str) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            browser = await Browser.connect(session, served)
            before = snapshot(served.out)
            engine = make_engine(sqlite_url)
            with Session(engine) as s:
                beta = s.scalars(select(Hub).where(Hub.name == "beta")).one()
                beta.widgets[0].config = {"text": "Beta, edited"}
                s.commit()
            engine.dispose()
            await browser.reloaded()
            assert {path.split("/")[0] for path in changed_since(served.out, before)} == {"beta"}
            assert "Beta, edited" in get(f"{served.url}/beta/")[1]

    asyncio.run(scenario())


def test_a_helper_module_edit_reaches_the_widget_that_imports_it(served: Served) -> None:
    """Assert saving a helper module (not a widget's own) re-imports it before the widget
    module that holds what it imported, so the page shows the new code's output."""
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            browser = await Browser.connect(session, served)
            save(served.template.with_name("_words.py"),
                 "def say(word):\n    return word.upper() + '?'\n")
            await browser.reloaded()
            assert "FIRST?" in get(f"{served.url}/alpha/")[1]

    asyncio.run(scenario())


def test_without_v_a_save_logs_one_line_saying_what_was_rebuilt(served_quietly: Served) -> None:
    """Assert that by default the dev server says where it serves, once, and after a save one
    line naming the hub rebuilt, the time it took and the files written, and nothing else."""
    served = served_quietly

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            browser = await Browser.connect(session, served)
            save(served.template, "<p class='note'>{{ data.word | upper }}!</p>\n")
            await browser.reloaded()  # sent after the line is logged

    asyncio.run(scenario())
    lines = served.log().splitlines()
    assert sum(f"on {served.url}/" in line for line in lines) == 1, lines
    rebuilt = [line for line in lines if "Rebuilt" in line]
    assert len(rebuilt) == 1, lines
    assert re.search(r"INFO hubsgen\.dev\.server: Rebuilt alpha in \d+\.\d\d s: 3 files written "
                     r"\(saved note\.html\)$", rebuilt[0]), rebuilt[0]
    assert not [line for line in lines if " DEBUG " in line or "Wrote " in line], lines


def test_with_v_each_line_is_printed_once(served: Served) -> None:
    """Assert livereload's lines, and tornado's, reach the log once, through hubsgen's
    handler: livereload adds handlers of its own, which printed each of them twice."""
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            browser = await Browser.connect(session, served)
            save(served.template, "<p class='note'>{{ data.word }}.</p>\n")
            await browser.reloaded()

    asyncio.run(scenario())
    lines = served.log().splitlines()
    port = served.url.rsplit(":", 1)[1]
    assert sum(f"Serving on http://127.0.0.1:{port}" in line for line in lines) == 1, lines
    assert sum("Rebuilt alpha" in line for line in lines) == 1, lines
    assert not [line for line in lines if re.match(r"\[[DIWE] \d{6} ", line)], lines  # tornado's
