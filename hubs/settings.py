"""Settings: defaults, then a TOML file, then environment variables, then the command-line
options a user gave; every value checked against its key's rule on the way in."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hubs.db import URL_ENV, resolve_url
from hubs.errors import ConfigError
from hubs.services import DEFAULT_URLS, ServiceSettings
from hubs.understand.topics import ENVIRONMENTS


@dataclass(frozen=True)
class LiveSettings:
    """What hub pages tell their live client (the ``[live]`` table of the settings file)."""

    events_url: str = "/events"
    """Where the events shim answers, as the browser sees it (nginx proxies /events)."""
    poll_seconds: float = 15.0
    """How often a page polls versions.json while events are unavailable."""


@dataclass(frozen=True)
class BusSettings:
    """Which bus the watcher listens to and announcements go on (the ``[bus]`` table)."""

    environment: str = "prod"
    """Fedora's environment, one of ENVIRONMENTS: a staging deployment subscribes to stg topics
    and announces on them, never on production's."""


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
    bus: BusSettings = field(default_factory=BusSettings)
    site_url: str = DEFAULT_SITE_URL
    """Where the output directory is served, ending in "/": feeds link absolutely to it."""


@dataclass(frozen=True)
class Rule:
    """What one key accepts, in words for its error message and the README."""

    allowed: str
    accepts: Callable[[Any], bool]
    from_text: Callable[[str], Any] = str
    """How an environment variable's text becomes a value; text it cannot read stays text,
    which *accepts* then refuses."""


def _whole(low: int, high: int, unit: str) -> Rule:
    def accepts(value: Any) -> bool:
        return type(value) is int and low <= value <= high  # not bool, though bool is an int

    return Rule(f"a whole number of {unit} from {low} to {high}", accepts, _parsed(int))


def _seconds(low: float, high: float) -> Rule:
    def accepts(value: Any) -> bool:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and low <= value <= high  # also refuses nan

    return Rule(f"a number of seconds from {low:g} to {high:g}", accepts, _parsed(float))


def _parsed(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            return text

    return parse


def _is_link(value: Any) -> bool:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:  # an unclosed [IPv6 address
        return False
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_site_root(value: Any) -> bool:
    if not _is_link(value):
        return False
    parts = urlsplit(value)
    return not parts.query and not parts.fragment


def _is_text(value: Any) -> bool:
    return isinstance(value, str | Path) and str(value) != "" and "\0" not in str(value)


_FLAG = Rule("true or false", lambda v: isinstance(v, bool),
             lambda text: {"true": True, "false": False}.get(text.lower(), text))
_LINK = Rule("an http:// or https:// link", _is_link)

SCHEMA: dict[str, dict[str, Rule]] = {
    "": {
        "db_url": Rule("a database URL as text, like sqlite:///hubs.db", _is_text),
        "out_dir": Rule("a directory path as non-empty text", _is_text),
        "jobs": _whole(1, 256, "processes"),
        "retention_days": _whole(1, 36500, "days"),
        "site_url": Rule("an http:// or https:// URL of the site's root, such as "
                         f"{DEFAULT_SITE_URL}", _is_site_root),
    },
    "services": {
        "enabled": _FLAG,
        "timeout": _seconds(0.1, 600),
        "retries": _whole(0, 10, "retries"),
    },
    "services.urls": {name: _LINK for name in DEFAULT_URLS},
    "live": {
        "events_url": Rule(
            "a path starting with / or an http:// or https:// link",
            lambda v: _is_link(v) or (isinstance(v, str) and v[:1] == "/" and v[:2] != "//")),
        "poll_seconds": _seconds(0.5, 3600),
    },
    "bus": {
        "environment": Rule(f"one of {', '.join(ENVIRONMENTS)}",
                            lambda v: isinstance(v, str) and v in ENVIRONMENTS),
    },
}
"""Every key of the settings file by table ("" is the top level), with what it accepts."""


def _variable(table: str, key: str) -> str:
    """HUBSGEN_, the table and the key in capitals; db_url keeps its older $HUBS_DB_URL."""
    return URL_ENV if key == "db_url" else "_".join(filter(None, ("HUBSGEN", table, key))).upper()


ENVIRONMENT = {(table, key): _variable(table, key)
               for table in ("", "services", "live", "bus") for key in SCHEMA[table]}
"""The environment variable that overrides each (table, key); [services.urls] has none."""

Layers = dict[str, dict[str, Any]]


def load_settings(config_path: Path | None = None, **options: Any) -> Settings:
    """Layer the file, then the environment, then every option that is not None over the
    defaults. ``services`` and ``live`` options are whole tables, already typed."""
    layers: Layers = {table: {} for table in SCHEMA}
    if config_path is not None:
        _merge(layers, _read_file(config_path))
    _merge(layers, _read_environment())
    tables = {k: options.pop(k) for k in ("services", "live") if options.get(k) is not None}
    given = {k: v for k, v in options.items() if v is not None}
    _refuse_unknown("command line", given, set(SCHEMA[""]), "")
    for key, value in given.items():
        layers[""][key] = _checked("command line", "", key, value)
    return _settings(layers, tables)


def _settings(layers: Layers, tables: dict[str, Any]) -> Settings:
    top = dict(layers[""])
    if "out_dir" in top:
        top["out_dir"] = Path(top["out_dir"])
    if "site_url" in top and not top["site_url"].endswith("/"):
        top["site_url"] += "/"  # feeds join paths onto it
    urls = {**DEFAULT_URLS, **layers["services.urls"]}
    services = tables.get("services") or ServiceSettings(**layers["services"], urls=urls)
    live = tables.get("live") or LiveSettings(**layers["live"])
    return Settings(**top, services=services, live=live, bus=BusSettings(**layers["bus"]))


def _merge(into: Layers, layer: Layers) -> None:
    for table, values in layer.items():
        into[table].update(values)


def _read_file(path: Path) -> Layers:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from e
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: not a valid TOML file ({e})") from e
    layers: Layers = {table: {} for table in SCHEMA}
    _read_table(path, raw, "", layers)
    return layers


def _read_table(path: Path, raw: dict[str, Any], table: str, layers: Layers) -> None:
    """Check one table's keys into *layers*, and its sub-tables' in turn."""
    subtables = {name.rpartition(".")[2]: name for name in SCHEMA
                 if name and name.rpartition(".")[0] == table}
    _refuse_unknown(str(path), raw, set(SCHEMA[table]) | set(subtables), table)
    for key, value in raw.items():
        if key not in subtables:
            layers[table][key] = _checked(str(path), table, key, value)
        elif isinstance(value, dict):
            _read_table(path, value, subtables[key], layers)
        else:
            raise ConfigError(f"{path}: {_where(table)}{key} must be a table, got {_shown(value)}")


def _read_environment() -> Layers:
    """Each variable that is set and not empty, read as its key's rule reads text."""
    layers: Layers = {table: {} for table in SCHEMA}
    for (table, key), name in ENVIRONMENT.items():
        text = os.environ.get(name, "")
        if text:
            rule = SCHEMA[table][key]
            value = rule.from_text(text)
            if not rule.accepts(value):
                _refuse(f"${name}", table, key, text)  # quote the text, as the user wrote it
            layers[table][key] = value
    return layers


def _checked(source: str, table: str, key: str, value: Any) -> Any:
    if not SCHEMA[table][key].accepts(value):
        _refuse(source, table, key, value)
    return value


def _refuse(source: str, table: str, key: str, given: Any) -> None:
    allowed = SCHEMA[table][key].allowed
    raise ConfigError(f"{source}: {_where(table)}{key} must be {allowed}, got {_shown(given)}")


def _refuse_unknown(source: str, raw: dict[str, Any], valid: set[str], table: str) -> None:
    unknown = sorted(set(raw) - valid)
    if unknown:
        raise ConfigError(f"{source}: unknown {_where(table)}key(s) {', '.join(unknown)}; "
                          f"valid keys: {', '.join(sorted(valid))}")


def _where(table: str) -> str:
    return f"[{table}] " if table else ""


def _shown(value: Any) -> str:
    """*value* as TOML writes it, shortened, so a message quotes what the user typed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)
