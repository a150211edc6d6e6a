"""Reading message bodies: times in services' "YYYY-MM-DD HH:MM:SS" read as strptime reads them."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from hubs.bodies import naive_time

FIELDS = st.sampled_from(["2024", "2026", "0000", "9999", "02", "2", "29", "30", "31", "13",
                          "00", "23", "24", "59", "60", "61", "٠٢", " 1", "1 "])
TIMES = st.builds("{}-{}-{} {}:{}:{}".format, FIELDS, FIELDS, FIELDS, FIELDS, FIELDS, FIELDS)


def strptime_reading(text: str) -> datetime | str:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as e:
        return str(e)


@settings(max_examples=1000)
@given(TIMES | st.text(max_size=20))
def test_naive_time_reads_what_strptime_reads_and_refuses_what_it_refuses(text):
    try:
        got: datetime | str = naive_time(text)
    except ValueError as e:
        got = str(e)
    assert got == strptime_reading(text)
