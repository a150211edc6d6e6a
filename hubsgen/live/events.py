"""The events shim: tells each open hub page which of its widgets changed, as server-sent events.

It serves only ``/events?hub=NAME`` (nginx serves the files). Rewritten versions.json files
are noticed with inotify through watchdog; each becomes one event, fanned out to the clients
of that hub. A client resumes after a disconnect with Last-Event-ID, or after loading a page
with ``since=`` the page's seq, and gets exactly what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from hubs.errors import ConfigError, ServiceError
from hubs.names import check_hub_name
from hubsgen.live.hubstates import HubStates, Update
from hubsgen.live.surge import Drain, release_memory, resident_megabytes

log = logging.getLogger(__name__)

QUEUE = 64
"""Updates a slow client may fall behind by before it is dropped (it resumes on reconnect)."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Limits:
    max_connections: int = 10_000
    max_per_address: int = 100
    keepalive: float = 15.0
    """Seconds between keep-alive comments, well inside proxies' read timeouts."""
    trusted_proxies: tuple[Network, ...] = ()
    """Peers whose X-Real-IP names the client (nginx). From any other peer the header is
    ignored: believed, it would let one client pose as any number of addresses."""


class Client:
    def __init__(self, address: str) -> None:
        self.address = address
        self.queue: asyncio.Queue[Update | None] = asyncio.Queue(QUEUE)
        self.dropped = False

    def send(self, update: Update) -> None:
        try:
            self.queue.put_nowait(update)
        except asyncio.QueueFull:
            self.dropped = True  # its stream ends after the current write; it resumes

    def stop(self) -> None:
        self.dropped = True
        # If the queue is full, the stream is busy writing and sees `dropped` after that.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


class EventsServer:
    def __init__(self, out: Path, limits: Limits = Limits()) -> None:
        self.out = out
        self.limits = limits
        self.states = HubStates(out)
        self.clients: defaultdict[str, set[Client]] = defaultdict(set)
        self.per_address: Counter[str] = Counter()
        self.total = 0
        self.drain = Drain(self._release_memory)
        self._warned_untrusted = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/events", self.events, allow_head=False)
        app.on_shutdown.append(self._close_streams)
        return app

    def changed(self, hub: str) -> None:
        """A versions.json was replaced: tell that hub's clients what changed."""
        if not self.states.knows(hub):
            return  # nobody has asked about this hub yet; it is read when somebody does
        update = self.states.refresh(hub)
        if update is None:
            return
        for client in self.clients.get(hub, ()):
            client.send(update)

    async def events(self, request: web.Request) -> web.StreamResponse:
        hub = request.query.get("hub", "")
        try:
            check_hub_name(hub)
            since = _since(request)
        except (ConfigError, ValueError) as e:
            raise web.HTTPBadRequest(text=f"{e}\n") from e
        address = self._address(request)
        if self.total >= self.limits.max_connections:
            raise web.HTTPServiceUnavailable(text="too many connections\n",
                                             headers={"Retry-After": "30"})
        if self.per_address[address] >= self.limits.max_per_address:
            raise web.HTTPTooManyRequests(text="too many connections from your address\n",
                                          headers={"Retry-After": "30"})
        if self.states.current(hub) is None:
            raise web.HTTPNotFound(text=f"no hub named {hub!r}\n")
        # What it missed, and joining, with no await between: an update arriving meanwhile
        # would otherwise be sent twice, or out of order.
        missed = self.states.since(hub, since)
        client = Client(address)
        self._join(hub, client)
        try:
            return await self._stream(request, missed, client)
        finally:
            self._leave(hub, client)

    async def _stream(self, request: web.Request, missed: list[Update],
                      client: Client) -> web.StreamResponse:
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            # Events say only which public fragments changed; any page may listen (the dev
            # server's pages are on another port).
            "Access-Control-Allow-Origin": "*"})
        await response.prepare(request)
        await response.write(b"retry: 3000\n\n")
        for old in missed:
            await response.write(old.to_sse())
        while not client.dropped:
            try:
                update = await asyncio.wait_for(client.queue.get(), self.limits.keepalive)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if update is None:
                break
            await response.write(update.to_sse())
        return response

    def _join(self, hub: str, client: Client) -> None:
        self.clients[hub].add(client)
        self.per_address[client.address] += 1
        self.total += 1
        self.drain.opened(self.total)

    def _leave(self, hub: str, client: Client) -> None:
        self.clients[hub].discard(client)
        if not self.clients[hub]:
            del self.clients[hub]
        self.per_address[client.address] -= 1
        if not self.per_address[client.address]:
            del self.per_address[client.address]
        self.total -= 1
        self.drain.closed(self.total)

    def _release_memory(self, peak: int) -> None:
        """Hand a drained surge's memory back; log what is still tracked (only open streams
        should be) and the size before and after."""
        before = resident_megabytes()
        release_memory()
        log.info("A surge of %d streams drained to %d: tracking %d hubs with clients, "
                 "%d addresses, %d tasks; memory %.0f MB, %.0f after release", peak,
                 self.total, len(self.clients), len(self.per_address),
                 len(asyncio.all_tasks()), before, resident_megabytes())

    def _address(self, request: web.Request) -> str:
        """Whom to count a stream against: its peer, or the client a trusted proxy names in
        X-Real-IP; for IPv6 its /64, since one client holds a whole /64."""
        address = peer = request.remote or ""
        forwarded = request.headers.get("X-Real-IP", "")
        if forwarded and self._trusted(peer):
            address = forwarded
        elif forwarded and not self._warned_untrusted:
            self._warned_untrusted = True  # once: a misconfigured proxy would say it per stream
            log.warning("Ignoring X-Real-IP from %s, which is not a trusted proxy: its streams "
                        "count against its own address (see hubsgen events --trusted-proxy)",
                        peer)
        try:
            if ipaddress.ip_address(address).version == 6:
                return str(ipaddress.ip_network(f"{address}/64", strict=False))
        except ValueError:
            pass
        return address

    def _trusted(self, peer: str) -> bool:
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(ip in network for network in self.limits.trusted_proxies)

    async def _close_streams(self, app: web.Application) -> None:
        for clients in self.clients.values():
            for client in clients:
                client.stop()


def _since(request: web.Request) -> int | None:
    """The state the client shows: Last-Event-ID on reconnect, else the page's since=."""
    raw = request.headers.get("Last-Event-ID") or request.query.get("since")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ValueError(f"since must be a whole number, got {raw!r}")
    return int(raw)


class _VersionsFiles(FileSystemEventHandler):
    """Hands the name of each hub whose versions.json was replaced to the event loop.

    Only renames and closes after writing count: reading a versions.json makes inotify events
    too, and reacting to those would re-read it forever.
    """

    EVENTS = [FileMovedEvent, FileClosedEvent, DirDeletedEvent, DirMovedEvent]

    def __init__(self, out: Path, loop: asyncio.AbstractEventLoop, server: EventsServer,
                 lost: asyncio.Event) -> None:
        self.out = out
        self.loop = loop
        self.server = server
        self.lost = lost

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            if Path(str(event.src_path)) == self.out:  # inotify watches what is gone now
                self.loop.call_soon_threadsafe(self.lost.set)
            return
        path = Path(str(getattr(event, "dest_path", "") or event.src_path))
        if path.name == "versions.json" and path.parent.parent == self.out:
            self.loop.call_soon_threadsafe(self.server.changed, path.parent.name)


async def serve_events(out: Path, host: str, port: int, limits: Limits,
                       stop: asyncio.Event,
                       on_listening: Callable[[], None] = lambda: None) -> None:
    """Serve until *stop* is set. Raises ServiceError if the output directory is deleted or
    moved away: its inotify watches are gone, so the service manager must start us again."""
    out = out.resolve()
    if not out.is_dir():
        raise ConfigError(f"output directory {out} does not exist; run hubsgen build first")
    server = EventsServer(out, limits)
    lost = asyncio.Event()
    observer = Observer()
    observer.schedule(_VersionsFiles(out, asyncio.get_running_loop(), server, lost), str(out),
                      recursive=True, event_filter=_VersionsFiles.EVENTS)
    observer.start()
    # handler_cancellation: a stream whose client left ends (and frees its place in the caps)
    # at once, not at its next keep-alive write.
    runner = web.AppRunner(server.app(), shutdown_timeout=2.0, handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("Serving events on http://%s:%d/events, watching %s for rewritten "
                 "versions.json files", f"[{host}]" if ":" in host else host, port, out)
        if limits.trusted_proxies:
            log.info("Believing X-Real-IP from %s", ", ".join(map(str, limits.trusted_proxies)))
        else:
            log.info("Believing no X-Real-IP: each stream counts against its peer's address")
        on_listening()
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(lost.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:  # the dev server closes this loop itself: leave no task behind
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if lost.is_set():
            raise ServiceError(f"output directory {out} was deleted or moved; restart hubsgen "
                               "events once it is back")
    finally:
        await runner.cleanup()
        observer.stop()
        observer.join()
