"""A real HTTP server on 127.0.0.1 for tests of code that calls Fedora's web services.

Tests configure JSON routes, make a route fail with 503 a few times or stall past the client's
timeout, then read back the requests it received: the client under test talks real HTTP over
a real socket, so timeouts, retries and decoding are exercised as in production.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Route:
    """What one path answers: *failures* 503s first, then *body* after stalling *stall* s."""

    body: bytes
    content_type: str = "application/json"
    failures: int = 0
    stall: float = 0.0
    answer: Callable[[dict[str, str]], Any] | None = None
    """Computes the JSON payload from the query instead (paged APIs)."""


@dataclass(frozen=True)
class Request:
    """One request the server received; ``query`` keeps each parameter's last value."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class LoopbackServer:
    """Serves configured routes from a background thread; unknown paths answer 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._release = threading.Event()  # ends every stall when the server stops
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        daemon=True, name="loopback-http")

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, path: str, payload: Any, *, failures: int = 0, stall: float = 0.0) -> None:
        """Answer GET *path* (any query) with *payload* as JSON."""
        self.routes[path] = Route(json.dumps(payload).encode(), failures=failures, stall=stall)

    def route_query(self, path: str, answer: Callable[[dict[str, str]], Any]) -> None:
        """Answer GET *path* with the JSON of ``answer(query)``, e.g. a page of results."""
        self.routes[path] = Route(b"", answer=answer)

    def route_raw(self, path: str, body: bytes, content_type: str) -> None:
        """Answer GET *path* with *body* as is, to test what clients do with non-JSON."""
        self.routes[path] = Route(body, content_type=content_type)

    def hits(self, path: str) -> int:
        """How many requests reached *path*, failed or not."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _answer(self, method: str, target: str, headers: dict[str, str]) -> tuple[int, Route]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(Request(method, parts.path, query, headers))
            route = self.routes.get(parts.path)
            if route is None:
                return 404, Route(json.dumps({"error": "Not Found"}).encode())
            if route.failures > 0:
                route.failures -= 1
                return 503, Route(b"<html>Service Unavailable</html>", content_type="text/html")
        if route.stall:
            self._release.wait(route.stall)
        if route.answer is not None:
            return 200, Route(json.dumps(route.answer(query)).encode())
        return 200, route


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) closes its socket: nothing to report."""


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            status, route = server._answer("GET", self.path, dict(self.headers.items()))
            self.send_response(status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean; tests read ``server.requests`` instead."""

    return Handler


@contextmanager
def serve() -> Iterator[LoopbackServer]:
    """A started server, stopped (stalled handlers released) on exit."""
    server = LoopbackServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
