"""Gives memory back to the system once a surge of event streams has drained.

Closed streams leave nothing behind in the shim, but their memory stays with the process: the
interpreter's free lists keep objects that pin whole arenas until a full collection empties
them, and glibc keeps freed heap pages until malloc_trim. Without both, 3,000 streams that
came and went left the shim near its peak size for good.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
from collections.abc import Callable
from pathlib import Path

RELEASE_AFTER = 500
"""Streams closed since the peak that make a release worth it (some 18 KB each)."""
SETTLE = 1.0
"""Seconds without a stream closing before releasing, so a surge draining is released once."""
MAX_WAIT = 10.0
"""Seconds a release may wait for that, on a site where streams never stop closing."""


class Drain:
    """Calls *release* once the open streams have fallen RELEASE_AFTER below their peak."""

    def __init__(self, release: Callable[[int], None]) -> None:
        self.release = release
        self.peak = 0
        self.open = 0
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0

    def opened(self, total: int) -> None:
        self.open = total
        self.peak = max(self.peak, total)

    def closed(self, total: int) -> None:
        self.open = total
        if self.peak - total < RELEASE_AFTER:
            return
        loop = asyncio.get_running_loop()
        if self._timer is None:
            self._deadline = loop.time() + MAX_WAIT
        else:
            self._timer.cancel()
        self._timer = loop.call_at(min(loop.time() + SETTLE, self._deadline), self._fire)

    def _fire(self) -> None:
        self._timer = None
        peak, self.peak = self.peak, self.open
        self.release(peak)


def release_memory() -> None:
    """Hand freed memory back to the system: a full collection also empties the free lists."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim; other C libraries have none, and return memory by themselves."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def resident_megabytes() -> float:
    """This process's resident memory, from /proc (Linux); 0 where that is missing."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
