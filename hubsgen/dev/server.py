"""``hubsgen serve``: build, serve build/ on loopback, rebuild what a saved file affects, and
reload the browser (livereload); the events shim runs beside it, as in production."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from livereload import Server
from livereload.handlers import LiveReloadHandler, StaticFileHandler
from tornado.ioloop import IOLoop
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from hubs.errors import ServiceError
from hubs.settings import Settings
from hubsgen.dev.site import DevSite
from hubsgen.live.events import Limits, serve_events

log = logging.getLogger(__name__)

SETTLE = 0.1
"""Seconds to gather the file events of one save (editors write several) before rebuilding."""


class _Files(StaticFileHandler):  # type: ignore[misc]  # livereload has no type hints
    """build/ as nginx would serve it, or the build error while there is one."""

    site: DevSite

    async def get(self, path: str, include_body: bool = True) -> None:
        error = self.site.error
        if error is not None and (path == "" or path.endswith(("/", ".html"))):
            self.set_status(500)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(error.page())
            return
        await super().get(path, include_body)


class _Sources(FileSystemEventHandler):
    """Collects the saved files that matter and rebuilds once they settle."""

    def __init__(self, site: DevSite, loop: IOLoop) -> None:
        self.site = site
        self.loop = loop
        self.pending: set[Path] = set()
        self.timer: object | None = None

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in {"opened", "closed_no_write"}:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw and self.site.relevant(Path(str(raw))):
                self.loop.add_callback(self._note, Path(str(raw)))

    def _note(self, path: Path) -> None:
        self.pending.add(path)
        if self.timer is not None:
            self.loop.remove_timeout(self.timer)
        self.timer = self.loop.call_later(SETTLE, self._rebuild)

    def _rebuild(self) -> None:
        paths, self.pending, self.timer = self.pending, set(), None
        started = time.perf_counter()
        rewrite = self.site.changed(paths)
        saved = ", ".join(sorted(p.name for p in paths))
        if self.site.error is None:
            log.info("%s", rewrite.summary(saved, time.perf_counter() - started))
        else:
            log.info("Saved %s: the pages show the error above until a save fixes it", saved)
        LiveReloadHandler.reload_waiters("*")


class _Server(Server):  # type: ignore[misc]  # livereload has no type hints
    """livereload's server, minus the handlers it adds to the livereload and tornado loggers:
    the root logger's (hubsgen/cli.py) already prints their lines, which showed twice."""

    def _setup_logging(self) -> None:
        pass


def serve(settings: Settings, host: str, port: int, events_port: int) -> None:
    """Serve until interrupted, the events shim beside it on *events_port*."""
    settings = replace(settings, live=replace(
        settings.live, events_url=f"http://{host}:{events_port}/events"))
    site = DevSite(settings)
    site.build()
    stop_events = _start_events(settings.out_dir, host, events_port)
    loop = IOLoop.current()
    observer = Observer()
    sources = _Sources(site, loop)
    for directory in sorted(site.watched_directories()):
        observer.schedule(sources, str(directory), recursive=directory != site.database_dir)
    observer.start()
    _Files.site = site
    server = _Server()
    server.SFH = _Files
    # livereload would poll the working directory for changes; watchdog watches the sources.
    server.watch(str(settings.out_dir / "index.html"), delay="forever")
    signal.signal(signal.SIGTERM, lambda *_: loop.add_callback_from_signal(loop.stop))
    log.info("Serving %s on http://%s:%d/ (events on port %d)", settings.out_dir, host, port,
             events_port)
    try:
        server.serve(port=port, host=host, root=str(settings.out_dir))
    finally:
        observer.stop()
        observer.join()
        stop_events()
        site.close()


def _start_events(out: Path, host: str, port: int) -> Callable[[], None]:
    """Run the events shim on its own event loop thread, once it listens (or say why it
    cannot: the port is taken, say); returns how to stop it."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failed: list[BaseException] = []
    listening = threading.Event()

    def run() -> None:
        task = loop.create_task(serve_events(out, host, port, Limits(), stop,
                                             on_listening=listening.set))
        try:
            loop.run_until_complete(task)
        except Exception as e:  # noqa: BLE001 - handed to the main thread below
            failed.append(e)
            listening.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="events", daemon=True)
    thread.start()
    listening.wait(30)
    if failed:
        raise ServiceError(f"the events shim could not start on port {port}: {failed[0]}")

    def stop_events() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)

    return stop_events
