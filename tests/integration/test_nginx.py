"""deploy/nginx/hubs.conf in a real nginx, in front of a site built by ``hubsgen build``."""

from __future__ import annotations

import gzip
import http.client
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hubs.listing import Entry, make_listing, search_index
from hubsgen.build.stamp import STAMP_FILE
from tests.integration.nginx import running_nginx
from tests.integration.watching import SmallSite, build_small_site
from tests.timing import seconds

NO_UPSTREAM = "127.0.0.1:9"
"""Nothing listens there: only the events test starts an upstream, and its own nginx."""

POLICY = {"default-src": "'none'", "script-src": "'self'", "style-src": "'self'",
          "img-src": "'self' https:", "connect-src": "'self'", "base-uri": "'none'",
          "form-action": "'none'", "frame-ancestors": "'none'"}
"""The Content-Security-Policy, directive by directive: no inline script or style anywhere."""
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "strict-origin-when-cross-origin"}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes


def get(base: str, path: str, headers: Mapping[str, str] | None = None) -> Reply:
    """GET *path* as a browser would, bytes as sent: http.client neither decompresses nor
    raises on 304 or 404."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=seconds(10))
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> SmallSite:
    root = tmp_path_factory.mktemp("site")
    return build_small_site(f"sqlite:///{root / 'hubs.db'}", root)


@pytest.fixture(scope="module")
def base(site: SmallSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_nginx(site.out, NO_UPSTREAM, tmp_path_factory.mktemp("nginx")) as url:
        yield url


def served(site: SmallSite, kind: str) -> tuple[str, Path]:
    """A URL path of each kind of file the build writes, and the file nginx should send."""
    css = next((site.out / "static").glob("hubs.*.css"))
    return {
        "directory": ("/", site.out / "index.html"),
        "people": ("/people/r.html", site.out / "people" / "r.html"),
        "search-index": ("/directory.json", site.out / "directory.json"),
        "page": ("/ralph/", site.out / "ralph" / "index.html"),
        "versions": ("/ralph/versions.json", site.out / "ralph" / "versions.json"),
        "fragment": (f"/ralph/widgets/{site.ralph_badges}.json",
                     site.out / "ralph" / "widgets" / f"{site.ralph_badges}.json"),
        "feed": ("/ralph/feed.atom", site.out / "ralph" / "feed.atom"),
        "css": (f"/static/{css.name}", css),
    }[kind]


@pytest.mark.parametrize("kind, content_type", [
    ("directory", "text/html"), ("people", "text/html"), ("search-index", "application/json"),
    ("page", "text/html"),
    ("versions", "application/json"), ("fragment", "application/json"),
    ("feed", "application/atom+xml")])
def test_pages_and_json_are_revalidated_by_etag(site, base, kind, content_type):
    path, file = served(site, kind)
    reply = get(base, path)
    assert reply.status == 200 and reply.body == file.read_bytes()
    assert reply.headers["Content-Type"] == content_type
    assert reply.headers["Cache-Control"] == "no-cache"
    etag = reply.headers["ETag"]
    assert etag

    again = get(base, path, {"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again.headers["Cache-Control"] == "no-cache"


def test_static_files_are_cached_for_a_year(site, base):
    path, file = served(site, "css")
    reply = get(base, path)
    assert reply.status == 200 and reply.body == file.read_bytes()
    assert reply.headers["Content-Type"] == "text/css"
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("kind", ["page", "fragment", "feed", "css"])
def test_text_is_gzipped_for_clients_that_accept_it(site, base, kind):
    path, file = served(site, kind)
    reply = get(base, path, {"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in reply.headers["Vary"]
    assert gzip.decompress(reply.body) == file.read_bytes()


def test_the_search_index_is_gzipped_to_a_fraction(site, base):
    """Assert a directory.json of 2,000 people (the small site's is under gzip_min_length)
    goes out gzipped at under a third of its size."""
    people = [Entry(f"user{n:04d}", f"User Number {n}", "", False, True) for n in range(2000)]
    (site.out / "directory.json").write_bytes(search_index(make_listing(people)))
    path, file = served(site, "search-index")
    reply = get(base, path, {"Accept-Encoding": "gzip"})
    assert reply.status == 200 and reply.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(reply.body) == file.read_bytes()
    assert len(reply.body) < len(file.read_bytes()) / 3


@pytest.mark.parametrize("path", [
    "/nobody/", "/ralph/widgets/999999.json", "/static/hubs.0000000000.css", "/a/b/c/d",
    "/404.html"])
def test_missing_paths_get_the_not_found_page(site, base, path):
    reply = get(base, path)
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "text/html"
    assert reply.body == (site.out / "404.html").read_bytes()
    assert reply.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("name", [".tmp-index.html.k3j9x2", "ralph/.tmp-versions.json.8fq0zu",
                                  "ralph/.htpasswd"])
def test_dotfiles_and_half_written_files_are_not_served(site, base, name):
    (site.out / name).write_text("secret half-written content")
    reply = get(base, f"/{name}")
    assert reply.status == 404
    assert reply.body == (site.out / "404.html").read_bytes()


def test_the_build_stamp_is_not_served(site, base):
    assert (site.out / STAMP_FILE).is_file()
    assert get(base, f"/{STAMP_FILE}").status == 404


def test_directories_are_not_listed(site, base):
    reply = get(base, "/ralph/widgets/")
    assert reply.status in (403, 404)
    assert f"{site.ralph_badges}.json".encode() not in reply.body


def directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive: sources}."""
    pairs = (part.strip().partition(" ") for part in policy.split(";") if part.strip())
    return {name: sources for name, _, sources in pairs}


def assert_security_headers(headers: Message, path: str) -> None:
    """Each header once, as shipped: a location that forgot the snippet sends none."""
    policies = headers.get_all("Content-Security-Policy") or []
    assert len(policies) == 1, f"{path}: Content-Security-Policy {policies}"
    assert directives(policies[0]) == POLICY
    for name, value in SECURITY_HEADERS.items():
        assert headers.get_all(name) == [value], f"{path}: {name}"


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/ralph/", 200), ("/ralph/versions.json", 200), ("fragment", 200),
    ("css", 200), ("/nobody/", 404), ("/static/hubs.0000000000.css", 404),
    ("/ralph/.htpasswd", 404), ("/ralph/widgets/", 403), ("/events?hub=ralph", 502)],
    ids=["directory", "page", "versions", "fragment", "static", "missing", "missing-static",
         "dotfile", "listing", "events-down"])
def test_every_response_carries_the_security_headers(site, base, path, status):
    """Each location sets its own headers, so each must include the snippet; error pages too."""
    if path in ("fragment", "css"):
        path = served(site, path)[0]
    reply = get(base, path)
    assert reply.status == status
    assert_security_headers(reply.headers, path)


def test_a_revalidated_page_keeps_the_security_headers(site, base):
    path, _ = served(site, "page")
    again = get(base, path, {"If-None-Match": get(base, path).headers["ETag"]})
    assert again.status == 304
    assert_security_headers(again.headers, path)


def test_server_does_not_announce_its_version(base):
    assert get(base, "/").headers["Server"] == "nginx"


@dataclass
class EventStream:
    """A stand-in for ``hubsgen events``: each request gets one event at once, then the
    stream stays open until *release* is set, then one more event ends it."""

    address: str = ""
    requests: list[tuple[str, Message]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


def event(seq: int) -> bytes:
    return f'id: {seq}\nevent: versions\ndata: {{"seq":{seq},"widgets":{{}}}}\n\n'.encode()


@contextmanager
def event_stream() -> Iterator[EventStream]:
    stream = EventStream()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stream.requests.append((self.path, self.headers))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"retry: 3000\n\n" + event(1))
            self.wfile.flush()
            stream.release.wait(seconds(10))
            self.wfile.write(event(2))
            stream.finished.set()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stream.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stream
    finally:
        stream.release.set()
        server.shutdown()
        server.server_close()


def read_event(response: http.client.HTTPResponse) -> bytes:
    """The next event block, up to and including its blank line."""
    lines = []
    while (line := response.readline()) not in (b"\n", b""):
        lines.append(line)
    return b"".join(lines)


def test_events_are_streamed_unbuffered_with_the_client_address(site, tmp_path):
    with event_stream() as upstream, running_nginx(site.out, upstream.address, tmp_path) as base:
        connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=seconds(15))
        try:
            connection.request("GET", "/events?hub=ralph&since=3")
            response = connection.getresponse()
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/event-stream"
            assert_security_headers(response.headers, "/events")
            assert read_event(response) == b"retry: 3000\n"
            assert read_event(response).startswith(b"id: 1\n")
            assert not upstream.finished.is_set(), "nginx held the event until the stream ended"
            upstream.release.set()
            assert read_event(response).startswith(b"id: 2\n")
        finally:
            connection.close()
    [(path, headers)] = upstream.requests
    assert path == "/events?hub=ralph&since=3"
    assert headers["X-Real-IP"] == "127.0.0.1"
