"""What one source made of a message: the names it concerns and how the feed shows it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reading:
    """One source's answer; empty fields mean "did not say", not "none"."""

    source: str
    usernames: frozenset[str] = frozenset()
    packages: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    summary: str = ""
    link: str = ""
    icon: str = ""

    @property
    def names_anything(self) -> bool:
        return bool(self.usernames or self.packages or self.groups)


def names(values: Any) -> frozenset[str]:
    """Non-empty strings out of whatever a processor returned (a set, a list, None)."""
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes)):
        return frozenset()
    return frozenset(v.strip() for v in values if isinstance(v, str) and v.strip())


def one_line(text: Any, limit: int = 300) -> str:
    """A feed line: first line of *text*, whitespace collapsed, cut at *limit* characters."""
    if not isinstance(text, str):
        return ""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


def web_url(url: Any) -> str:
    """*url* if it is an http(s) address, else "" (no javascript: or relative links in feeds)."""
    if isinstance(url, str) and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return ""
