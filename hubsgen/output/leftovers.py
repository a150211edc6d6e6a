"""Remove the temp files that writers killed mid-write left anywhere in the output directory."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from hubsgen.output.files import TEMP_PREFIX, Output

STALE_SECONDS = 600.0
"""Age past which a temp file is a leftover whoever wrote it: a write takes milliseconds."""


def remove_leftovers(out: Output) -> int:
    """Remove every temp file under the output root whose writer is gone; return how many.

    A temp file is named after its writer's pid (see ``output._create_temp``). While that
    process lives (a running watcher, this process) the file may be mid-write, so it stays
    until it is STALE_SECONDS old. Writers are assumed to share this host's pids, as the
    systemd units do.
    """
    return remove_stale(out, [os.path.join(directory, name)
                              for directory, _dirs, names in os.walk(out.root)
                              for name in names if name.startswith(TEMP_PREFIX)])


def remove_stale(out: Output, temps: Iterable[str]) -> int:
    """Remove those of *temps* (temp files under the output root, found by a walk of it)
    whose writer is gone, as remove_leftovers does; return how many."""
    removed = 0
    now = time.time()
    for temp in temps:
        path = Path(temp)
        if _stale(path, now):
            try:
                out.remove(path)
            except FileNotFoundError:
                continue  # its writer renamed it into place meanwhile
            removed += 1
    return removed


def _stale(path: Path, now: float) -> bool:
    try:
        if now - path.lstat().st_mtime > STALE_SECONDS:
            return True
    except FileNotFoundError:
        return False
    _name, pid, _number = (path.name.rsplit(".", 2) + ["", ""])[:3]  # .tmp-NAME.PID.N
    return pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Dead but not yet reaped (Linux), as orphans stay where pid 1 does not reap them."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
