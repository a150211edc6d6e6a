"""The one HTTP client layer, against a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubs.errors import ServiceError
from hubs.services import Services, ServiceSettings
from tests.loopback_http import LoopbackServer, serve


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve() as server:
        yield server


def services_for(server: LoopbackServer, *, timeout: float = 5.0,
                 retries: int = 2) -> Services:
    return Services(ServiceSettings(enabled=True, timeout=timeout, retries=retries,
                                    urls={"bodhi": server.url + "/api/"}))


def test_disabled_services_refuse_without_touching_the_network(server):
    services = Services(ServiceSettings(urls={"bodhi": server.url}))
    with pytest.raises(ServiceError, match="switched off.*bodhi.*/updates/"):
        services.get_json("bodhi", "/updates/")
    assert server.requests == []


def test_success_decodes_json_and_sends_the_params(server):
    server.route("/api/updates/", {"updates": [{"alias": "FEDORA-2026-1"}], "total": 1})
    services = services_for(server)
    try:
        answer = services.get_json("bodhi", "/updates/", {"user": "ralph", "rows_per_page": 5})
    finally:
        services.close()
    assert answer == {"updates": [{"alias": "FEDORA-2026-1"}], "total": 1}
    [request] = server.requests
    assert (request.method, request.path) == ("GET", "/api/updates/")
    assert request.query == {"user": "ralph", "rows_per_page": "5"}
    assert request.headers["User-Agent"].startswith("hubsgen")


def test_transient_503s_are_retried_until_success(server):
    server.route("/api/updates/", {"updates": []}, failures=2)
    services = services_for(server, retries=2)
    try:
        assert services.get_json("bodhi", "updates/") == {"updates": []}
    finally:
        services.close()
    assert server.hits("/api/updates/") == 3


def test_503s_beyond_the_retries_raise_naming_the_url(server):
    server.route("/api/updates/", {"updates": []}, failures=5)
    services = services_for(server, retries=1)
    try:
        with pytest.raises(ServiceError, match=r"bodhi: GET http://127\.0\.0\.1:\d+/api/updates/"):
            services.get_json("bodhi", "/updates/")
    finally:
        services.close()
    assert server.hits("/api/updates/") == 2


def test_a_stall_beyond_the_timeout_raises(server):
    server.route("/api/updates/", {"updates": []}, stall=30)
    services = services_for(server, timeout=0.2, retries=0)
    try:
        with pytest.raises(ServiceError, match="bodhi: GET .*/api/updates/ failed"):
            services.get_json("bodhi", "/updates/")
    finally:
        services.close()
    assert server.hits("/api/updates/") == 1


def test_a_missing_path_raises(server):
    services = services_for(server, retries=0)
    try:
        with pytest.raises(ServiceError, match="404"):
            services.get_json("bodhi", "/nowhere")
    finally:
        services.close()


def test_non_json_raises_naming_the_url(server):
    server.route_raw("/api/updates/", b"<html>maintenance</html>", "text/html")
    services = services_for(server)
    try:
        with pytest.raises(ServiceError) as caught:
            services.get_json("bodhi", "/updates/")
    finally:
        services.close()
    assert str(caught.value) == f"bodhi: GET {server.url}/api/updates/ did not return JSON"
