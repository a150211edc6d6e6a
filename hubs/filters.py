"""Jinja2 filters the templates share: absolute times, dates, avatars.

Fragments hold absolute times only: one that says "3 days ago" is wrong a day later unless
re-rendered, and the watcher re-renders only what a message touches, so a watched tree would
drift from a clean build. The page's script (static/times.js) says how long ago instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2
from markupsafe import Markup

from hubs.avatars import avatar_url


def parse_time(value: str | datetime) -> datetime:
    """Data functions hand times over as ISO 8601 text (JSON has no dates)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_date(value: str | datetime) -> str:
    return parse_time(value).strftime("%-d %b %Y")


def format_datetime(value: str | datetime) -> str:
    return parse_time(value).astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


def time_element(value: str | datetime) -> Markup:
    """`<time datetime="2026-12-07T14:00:00Z">7 Dec 2026, 14:00 UTC</time>`: readable without
    JavaScript, and machine-readable for the script that turns it into "3 hours ago"."""
    moment = parse_time(value).astimezone(UTC)
    # Digits, month names and punctuation only: nothing to escape.
    return Markup(f'<time datetime="{moment:%Y-%m-%dT%H:%M:%SZ}">'
                  f"{moment:%-d %b %Y, %H:%M UTC}</time>")


def install(env: jinja2.Environment) -> None:
    env.filters["date"] = format_date
    env.filters["datetime"] = format_datetime
    env.filters["time"] = time_element
    env.filters["avatar"] = avatar_url
