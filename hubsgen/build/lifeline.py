"""Tie a build's worker processes to the build: killed, it must not leave them writing."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import threading
import time
from multiprocessing.context import BaseContext

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.5
"""How often a worker without the kernel's help looks whether its parent is still there."""


def worker_context() -> BaseContext:
    """Start workers as children of the build itself, so their parent is the build: fork on
    Linux (not Python 3.14's forkserver, whose process would be their parent), else spawn."""
    return multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")


def die_with_parent(parent: int) -> None:
    """Have this process end when *parent* does: on Linux the kernel sends SIGKILL, elsewhere
    a thread looks every POLL_SECONDS. A parent that died before we asked is caught by
    comparing pids right after asking."""
    if not _kernel_kills_orphan():
        threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _kernel_kills_orphan() -> bool:
    if sys.platform != "linux":
        return False
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)
