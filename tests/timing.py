"""How long tests wait: each wait names what an idle machine needs, with room to spare, and one
factor stretches every wait at once for a busy machine.

``HUBS_TEST_TIME_SCALE`` sets the factor; it is 3 under ``CI=true`` (a shared runner, other jobs
beside ours) and 1 otherwise. Waits are deadlines on a condition, never sleeps, so a generous
deadline costs nothing when things work: only a failing test waits it out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

POLL = 0.02
"""Seconds between looks at a condition."""


def scale() -> float:
    """The factor every wait is multiplied by."""
    value = os.environ.get("HUBS_TEST_TIME_SCALE", "")
    if not value:
        return 3.0 if os.environ.get("CI") == "true" else 1.0
    try:
        factor = float(value)
    except ValueError:
        factor = 0.0
    if not factor > 0:
        raise ValueError(f"HUBS_TEST_TIME_SCALE={value!r} is not a positive number")
    return factor


def seconds(nominal: float) -> float:
    """*nominal* seconds (enough on an idle machine), stretched for this one."""
    return nominal * scale()


def milliseconds(nominal: float) -> float:
    """*nominal* seconds, stretched, in the milliseconds Playwright takes."""
    return seconds(nominal) * 1000


def wait_until[T](condition: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Poll *condition* until it is truthy and return its value; fail naming *what* if that
    takes longer than *timeout* nominal seconds."""
    limit = seconds(timeout)
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit:.0f} s")
        time.sleep(POLL)
