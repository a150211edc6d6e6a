"""Hub names, which become directory names under build/ and so must never escape it."""

from __future__ import annotations

import re

from hubs.errors import ConfigError

HUB_NAME_RE = re.compile(r"^[a-z0-9_-][a-z0-9_.-]{0,63}$")
RESERVED = frozenset({
    # What the site itself puts at the top of build/, and the events shim's path.
    "static", "index.html", "404.html", "events", "versions.json", "people", "directory.json",
    # Well-known root files browsers, crawlers and other clients ask for by name.
    "robots.txt", "favicon.ico", "sitemap.xml", "humans.txt", "security.txt", "ads.txt",
    "app-ads.txt", "crossdomain.xml", "browserconfig.xml", "manifest.json",
    "site.webmanifest", "apple-touch-icon.png", "apple-touch-icon-precomposed.png",
    "feed.atom", "feed.xml", "rss.xml", "atom.xml", "50x.html",
})
"""Names a hub directory would shadow at the root of the site."""


def check_hub_name(name: str) -> str:
    """Return *name* if it is a safe hub name, else say what is wrong with it."""
    if not isinstance(name, str) or not HUB_NAME_RE.fullmatch(name):
        raise ConfigError(
            f"hub name {name!r} is invalid: use 1 to 64 lower-case letters, digits, '-', '_' "
            "or '.', not starting with a dot"
        )
    if name in RESERVED:
        raise ConfigError(f"hub name {name!r} is reserved for the site itself: choose another")
    return name
