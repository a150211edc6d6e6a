"""Validators for widget arguments: each returns the clean value or raises ValueError saying
what is allowed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Validator = Callable[[Any], Any]

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


def text(max_length: int = 200) -> Validator:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be text")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters, got {len(value)}")
        return value

    return check


def integer(minimum: int, maximum: int) -> Validator:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"must be a whole number from {minimum} to {maximum}")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"must be a whole number from {minimum} to {maximum}") from None
        if not minimum <= number <= maximum:
            raise ValueError(f"must be from {minimum} to {maximum}, got {number}")
        return number

    return check


_PLAIN_LINK = re.compile(r"https?://[^/?#\[\]\t\n\r]+(?:[/?#][^\t\n\r]*)?")
"""What urlsplit surely reads as an http(s) link with a host, once the text is ASCII: no tab
or newline for it to remove, no bracket in the host for it to check."""


def link(value: Any) -> str:
    """An http or https URL, or empty for none; anything else could run script on click."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 1024:
        raise ValueError("must be an http:// or https:// link of at most 1024 characters")
    stripped = value.strip()
    if stripped.isascii() and _PLAIN_LINK.fullmatch(stripped):
        return stripped  # most links: urlsplit took four times as long to say the same
    parts = urlsplit(stripped)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// link, got {value!r}")
    return stripped


def link_or_nothing(value: Any) -> str:
    """*value* if it is an http(s) link, else "": for links that come from bus messages,
    which a widget shows or drops but never refuses."""
    try:
        return link(value)
    except ValueError:
        return ""


def username(value: Any) -> str:
    if not isinstance(value, str) or not USERNAME_RE.fullmatch(value):
        raise ValueError(
            "must be a Fedora account name: lower-case letters, digits, '_', '.', '-', "
            f"starting with a letter, got {value!r}"
        )
    return value


def name_list(value: Any) -> list[str]:
    """Names given as a list or as comma-separated text (calendars, packages)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("must be a list of names or comma-separated text")
    names = [i.strip() for i in items if i.strip()]
    for name in names:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}", name):
            raise ValueError(f"contains {name!r}: names use letters, digits and '_.+-'")
    return names


def choice(*allowed: str) -> Validator:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {value!r}")
        return str(value)

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def optional(validator: Validator) -> Validator:
    """Also accept empty (``""`` or null) for "not set", which the widget then works out."""

    def check(value: Any) -> Any:
        return "" if value is None or value == "" else validator(value)

    return check
