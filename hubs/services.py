"""The one door to Fedora's web services (badges, Bodhi, fedocal, datagrepper, Pagure).

Off by default: a build then reads only the local database, so it is fast, offline and
deterministic. Switched on, each call has a timeout and retries transient failures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hubs.errors import ServiceError

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

DEFAULT_URLS = {
    "badges": "https://badges.fedoraproject.org",
    "bodhi": "https://bodhi.fedoraproject.org",
    "fedocal": "https://calendar.fedoraproject.org",
    "datagrepper": "https://apps.fedoraproject.org/datagrepper",
    "pagure": "https://src.fedoraproject.org",
}


@dataclass(frozen=True)
class ServiceSettings:
    enabled: bool = False
    timeout: float = 5.0
    retries: int = 2
    urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))


class Services:
    """JSON over HTTP with timeouts and retries; one pooled session for all services."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._session: requests.Session | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def get_json(self, service: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` from *service* and decode its JSON; raise ServiceError naming the URL."""
        if not self.enabled:
            raise ServiceError(f"web services are switched off; {service} was asked for {path}")
        import requests  # here, not at the top: off by default, and a tenth of a --hub build

        url = self.settings.urls[service].rstrip("/") + "/" + path.lstrip("/")
        try:
            response = self._http().get(url, params=params, timeout=self.settings.timeout)
            response.raise_for_status()
        except requests.RequestException as e:
            raise ServiceError(f"{service}: GET {url} failed: {e}") from e
        try:
            return response.json()
        except ValueError as e:  # requests' JSONDecodeError is both of these; say which
            raise ServiceError(f"{service}: GET {url} did not return JSON") from e

    def _http(self) -> requests.Session:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        if self._session is None:
            retry = Retry(
                total=self.settings.retries,
                backoff_factor=0.2,
                status_forcelist=(429, 500, 502, 503, 504),
                allowed_methods=frozenset({"GET"}),
            )
            session = requests.Session()
            session.mount("http://", HTTPAdapter(max_retries=retry))
            session.mount("https://", HTTPAdapter(max_retries=retry))
            session.headers["User-Agent"] = "hubsgen (Fedora Hubs pre-renderer)"
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
