"""The time filter and the data clock's day: what keeps fragments from going stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hubs.clock import today
from hubs.testing import make_renderer

PARIS = timezone(timedelta(hours=1))


@pytest.mark.parametrize("value", [
    "2026-12-07T14:00:00+00:00",
    "2026-12-07T15:00:00+01:00",
    "2026-12-07T14:00:00",  # naive: the store holds UTC
    datetime(2026, 12, 7, 14, 0, 59, 250_000, tzinfo=UTC),
])
def test_time_shows_the_absolute_utc_time_in_a_time_element(value):
    env = make_renderer().env
    html = env.from_string("<p>{{ t | time }}</p>").render(t=value)
    expected = (('<time datetime="2026-12-07T14:00:59Z">' if isinstance(value, datetime)
                 else '<time datetime="2026-12-07T14:00:00Z">') + "7 Dec 2026, 14:00 UTC</time>")
    assert html == f"<p>{expected}</p>"


def test_no_filter_says_how_long_ago():
    """Assert "ago" is gone: a fragment saying it is wrong once the data clock moves on."""
    assert "ago" not in make_renderer().env.filters


@pytest.mark.parametrize(("now", "midnight"), [
    (datetime(2026, 12, 7, 0, 0, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),
    (datetime(2026, 12, 7, 23, 59, 59, 999_999, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),
    (datetime(2026, 12, 8, 0, 30, tzinfo=PARIS), datetime(2026, 12, 7, tzinfo=UTC)),
])
def test_today_is_the_utc_midnight_starting_the_data_clocks_day(now, midnight):
    assert today(now) == midnight
    assert today(now).tzinfo == UTC
