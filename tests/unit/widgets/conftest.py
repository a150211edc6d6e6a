"""Fixtures for widgets that read Fedora's web services: a real HTTP server stands in for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubs.services import DEFAULT_URLS, Services, ServiceSettings
from tests.loopback_http import LoopbackServer, serve


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A server on 127.0.0.1; each service lives under its own prefix (``/bodhi/updates/``)."""
    with serve() as server:
        yield server


@pytest.fixture
def live_services(loopback: LoopbackServer) -> Iterator[Services]:
    """Web services switched on, every one of them answered by ``loopback``."""
    urls = {service: f"{loopback.url}/{service}" for service in DEFAULT_URLS}
    services = Services(ServiceSettings(enabled=True, timeout=5.0, retries=0, urls=urls))
    yield services
    services.close()
