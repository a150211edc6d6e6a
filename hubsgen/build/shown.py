"""What the directory shows of each hub, kept in the build stamp, so a build of a few hubs (an
admin edit) tells whether the directory must change without listing every hub.

It is trusted only while the directory's files are the ones it was recorded with: a watch
that rewrote them since leaves it behind, and the next build rewrites the directory and the
record whole.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from hubs.listing import PEOPLE_DIR, SEARCH_INDEX, Entry
from hubsgen.build.stamp import Stamp
from hubsgen.output.hubs import Listed

DIRECTORY_FILES = ("index.html", SEARCH_INDEX, PEOPLE_DIR)
"""What the directory is written to; a rewrite of any replaces a file, and so changes its
stat (or, for the people/ pages, their folder's)."""


class ShownRecord:
    """The record in one output directory's stamp."""

    def __init__(self, stamp: Stamp) -> None:
        self.stamp = stamp

    def shows(self, hubs: Iterable[Listed]) -> bool:
        """Whether the directory on disk shows every one of *hubs* as it is now."""
        shown = self.stamp.read().get("shown", {})
        try:
            if shown["seal"] != self._seal():
                return False
            return all(shown["hubs"].get(hub.name) == _digest(hub) for hub in hubs)
        except (KeyError, TypeError, AttributeError):
            return False

    def record(self, hubs: Iterable[Listed | Entry]) -> None:
        """After the directory was written from *hubs*, every hub it lists."""
        self.stamp.update(shown={"seal": self._seal(),
                                 "hubs": {hub.name: _digest(hub) for hub in hubs}})

    def _seal(self) -> list[list[int] | None]:
        """Each directory file's inode, size and modification time; None for one not there."""
        seal: list[list[int] | None] = []
        for name in DIRECTORY_FILES:
            try:
                stat = os.stat(self.stamp.out.root / name)
            except OSError:
                seal.append(None)
                continue
            seal.append([stat.st_ino, stat.st_size, stat.st_mtime_ns])
        return seal


def _digest(hub: Listed | Entry) -> str:
    """The hub's directory entry (not its id, which the directory does not show) as a short
    hash: the record holds one per hub."""
    shown = repr((hub.name, hub.summary, hub.avatar, hub.archived, hub.user_hub))
    return hashlib.blake2b(shown.encode(), digest_size=8).hexdigest()
