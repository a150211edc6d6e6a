"""Peak memory of a process tree, sampled from /proc (the benchmarks' shared helper)."""

from __future__ import annotations

import threading
from pathlib import Path


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


class PeakMemory:
    """Samples a process tree every 20 ms until stopped: peak of the sum, and of one process."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tree_kb = self.largest_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.is_set():
            sizes = [rss_kb(p) for p in tree(self.pid)]
            self.tree_kb = max(self.tree_kb, sum(sizes))
            self.largest_kb = max(self.largest_kb, max(sizes, default=0))
            self._done.wait(0.02)
