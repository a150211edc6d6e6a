"""Settings: defaults, then a TOML file, then the command-line options a user gave."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hubs.db import resolve_url
from hubs.errors import ConfigError
from hubs.services import DEFAULT_URLS, ServiceSettings


@dataclass(frozen=True)
class LiveSettings:
    """What hub pages tell their live client (the ``[live]`` table of the settings file)."""

    events_url: str = "/events"
    """Where the events shim answers, as the browser sees it (nginx proxies /events)."""
    poll_seconds: float = 15.0
    """How often a page polls versions.json while events are unavailable."""


DEFAULT_SITE_URL = "https://hubs.fedoraproject.org/"
"""Where the original Fedora Hubs were served."""


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=lambda: resolve_url(None))
    out_dir: Path = Path("build")
    jobs: int = 1
    retention_days: int = 400
    """How long the message store keeps messages; the widgets look back a year at most."""
    services: ServiceSettings = field(default_factory=ServiceSettings)
    live: LiveSettings = field(default_factory=LiveSettings)
    site_url: str = DEFAULT_SITE_URL
    """Where the output directory is served, ending in "/": feeds link absolutely to it."""


def load_settings(config_path: Path | None = None, **options: Any) -> Settings:
    """Layer the file over the defaults, then every option that is not None over both."""
    values: dict[str, Any] = {}
    if config_path is not None:
        values = _read_file(config_path)
    values.update({k: v for k, v in options.items() if v is not None})
    if "db_url" in values:
        values["db_url"] = resolve_url(values["db_url"])
    if "out_dir" in values:
        values["out_dir"] = Path(values["out_dir"])
    jobs = values.get("jobs", 1)
    if not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    if "site_url" in values:
        values["site_url"] = site_url(values["site_url"])
    return Settings(**values)


def site_url(value: Any) -> str:
    """An absolute http(s) URL of the site's root, normalised to end in "/"."""
    refusal = ConfigError(f"site_url must be an http:// or https:// URL of the site's root, "
                          f"such as {DEFAULT_SITE_URL}, got {value!r}")
    if not isinstance(value, str):
        raise refusal
    try:
        parts = urlsplit(value)
    except ValueError as e:  # a malformed IPv6 host
        raise refusal from e
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment):
        raise refusal
    return value if value.endswith("/") else value + "/"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"config file {path}: {e}") from e
    _refuse_unknown(path, raw, {f.name for f in dataclasses.fields(Settings)})
    services = raw.pop("services", None)
    if services is not None:
        _refuse_unknown(path, services, {f.name for f in dataclasses.fields(ServiceSettings)},
                        "[services] ")
        urls = services.get("urls", {})
        _refuse_unknown(path, urls, set(DEFAULT_URLS), "[services.urls] ")
        services["urls"] = {**DEFAULT_URLS, **urls}
        raw["services"] = ServiceSettings(**services)
    live = raw.pop("live", None)
    if live is not None:
        _refuse_unknown(path, live, {f.name for f in dataclasses.fields(LiveSettings)}, "[live] ")
        poll = live.get("poll_seconds", LiveSettings.poll_seconds)
        if not isinstance(poll, int | float) or poll <= 0:
            raise ConfigError(f"config file {path}: [live] poll_seconds must be a positive "
                              f"number of seconds, got {poll!r}")
        raw["live"] = LiveSettings(**live)
    return raw


def _refuse_unknown(path: Path, raw: dict[str, Any], valid: set[str], where: str = "") -> None:
    unknown = sorted(set(raw) - valid)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown {where}key(s) {', '.join(unknown)}; "
            f"valid keys: {', '.join(sorted(valid))}"
        )
