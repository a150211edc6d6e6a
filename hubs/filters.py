"""Jinja2 filters the templates share: dates relative to the data clock, avatars."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2

from hubs.avatars import avatar_url


def parse_time(value: str | datetime) -> datetime:
    """Data functions hand times over as ISO 8601 text (JSON has no dates)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_date(value: str | datetime) -> str:
    return parse_time(value).strftime("%-d %b %Y")


def format_datetime(value: str | datetime) -> str:
    return parse_time(value).astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


def describe_age(value: str | datetime, now: datetime) -> str:
    """"3 days ago", measured from the data clock so the same database renders the same."""
    seconds = int((now - parse_time(value)).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("week", 604_800),
                       ("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            amount = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"


def install(env: jinja2.Environment, now: datetime) -> None:
    env.filters["date"] = format_date
    env.filters["datetime"] = format_datetime
    env.filters["ago"] = lambda value: describe_age(value, now)
    env.filters["avatar"] = avatar_url
    env.globals["now"] = now
