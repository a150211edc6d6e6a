"""What the directory shows, kept in the build stamp as its Layout (a digest per people page),
so a build of a few hubs (an admin edit) tells whether the directory must change, and which
pages, from those hubs' pages alone.

It is trusted only while the directory's files are the ones it was recorded with: a watch
that rewrote them since leaves it behind, and the next build rewrites the directory and the
record whole.
"""

from __future__ import annotations

import os

from hubs.listing import PEOPLE_DIR, SEARCH_INDEX
from hubsgen.build.stamp import Stamp
from hubsgen.output.directory import Layout

DIRECTORY_FILES = ("index.html", SEARCH_INDEX, PEOPLE_DIR)
"""What the directory is written to; a rewrite of any replaces a file, and so changes its
stat (or, for the people/ pages, their folder's)."""


class ShownRecord:
    """The record in one output directory's stamp."""

    def __init__(self, stamp: Stamp) -> None:
        self.stamp = stamp

    def layout(self) -> Layout | None:
        """What the directory on disk shows, if it is still as recorded."""
        shown = self.stamp.read().get("shown", {})
        try:
            if shown["seal"] != self._seal():
                return None
            return Layout.from_json(shown["layout"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def record(self, layout: Layout) -> None:
        """After the directory was written to show *layout*."""
        self.stamp.update(shown={"seal": self._seal(), "layout": layout.to_json()})

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
