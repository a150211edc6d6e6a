"""What each hub's versions.json said last, and the recent updates a reconnecting client missed.

The events shim learns about rewrites from the files themselves, so it works whichever process
wrote them: a full build, one watcher, or several shard workers.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from hubs.render import Versions

WINDOW = 32
"""Updates kept per hub for clients that resume; older gaps get one complete update."""


@dataclass(frozen=True)
class Update:
    """One server-sent event: a hub's new state, from *base* (None: from nothing known).

    *widgets* holds only the versions that changed since *base*, unless *complete*, when it is
    the whole map, so the client can also notice widgets that were added or removed.
    """

    seq: int
    base: int | None
    widgets: dict[str, str]
    complete: bool

    def to_sse(self) -> bytes:
        data = json.dumps({"seq": self.seq, "widgets": self.widgets, "complete": self.complete},
                          sort_keys=True, separators=(",", ":"))
        return f"id: {self.seq}\nevent: versions\ndata: {data}\n\n".encode()


class HubStates:
    def __init__(self, out: Path, window: int = WINDOW) -> None:
        self.out = out
        self.window = window
        self._current: dict[str, Versions] = {}
        self._recent: dict[str, deque[Update]] = {}

    def knows(self, hub: str) -> bool:
        return hub in self._current

    def current(self, hub: str) -> Versions | None:
        """The hub's state, read from its versions.json the first time it is asked for."""
        if hub not in self._current:
            versions = self._read(hub)
            if versions is None:
                return None
            self._current[hub] = versions
        return self._current[hub]

    def refresh(self, hub: str) -> Update | None:
        """Re-read the hub's versions.json; the update it makes, or None if nothing changed."""
        new = self._read(hub)
        old = self._current.get(hub)
        if new is None or new == old:
            return None
        self._current[hub] = new
        if old is None or new.seq <= old.seq:  # first sight, or numbering restarted
            self._recent.pop(hub, None)  # the old numbers name other states now
            update = Update(new.seq, None, dict(new.widgets), complete=True)
        else:
            changed = {k: v for k, v in new.widgets.items() if old.widgets.get(k) != v}
            complete = new.widgets.keys() != old.widgets.keys()
            update = Update(new.seq, old.seq, dict(new.widgets) if complete else changed,
                            complete)
        self._recent.setdefault(hub, deque(maxlen=self.window)).append(update)
        return update

    def since(self, hub: str, seq: int | None) -> list[Update]:
        """What a client showing state *seq* (None: unknown) needs to be current: the chain of
        updates from *seq* if the window still holds it, else one complete update."""
        current = self.current(hub)
        if current is None or seq == current.seq:
            return []
        chain: list[Update] = []
        for update in self._recent.get(hub, ()):
            if update.base == (chain[-1].seq if chain else seq):
                chain.append(update)
        if chain and chain[-1].seq == current.seq:
            return chain
        return [Update(current.seq, None, dict(current.widgets), complete=True)]

    def _read(self, hub: str) -> Versions | None:
        try:
            return Versions.from_json((self.out / hub / "versions.json").read_bytes())
        except (OSError, ValueError):
            return None
