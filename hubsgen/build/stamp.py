"""The build stamp: a digest of everything a full build read, kept next to what it wrote.

A build renders pages from the database, the code and templates, and the settings; the data
clock comes from the database too, so the same inputs always give the same bytes. When none of
them changed and the output tree is as the last full build left it, a rebuild can skip rendering
altogether, which matters when one takes minutes: a cron job or a deploy hook can run
`hubsgen build` freely.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Select, Table, column, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

import hubs
import hubsgen
from hubs.models import (
    Hub,
    HubCount,
    Membership,
    Message,
    MessageTag,
    User,
    UserAlias,
    WidgetInstance,
)
from hubs.plugins import Registry
from hubs.settings import Settings
from hubsgen.output.files import TEMP_PREFIX, Output

STAMP_FILE = ".build-stamp.json"
"""In the output root; nginx serves no dot-file."""

CONFIG_TABLES: tuple[Table, ...] = tuple(
    model.__table__ for model in (Hub, WidgetInstance, Membership, User, UserAlias)  # type: ignore[misc]
)
"""Hashed row by row: small, and edited in place."""

STREAMED_ROWS = 2000
"""Rows of a table fetched at a time while hashing: a table of 100,000 hubs' widgets read at
once would hold every row in memory."""

SOURCE_SUFFIXES = {".py", ".html", ".css", ".js", ".svg", ".png", ".ico"}


def inputs_digest(session: Session, registry: Registry, settings: Settings) -> str | None:
    """What a full build would read, as one hash; None when it reads the network too (web
    services on), since nothing here can tell whether their answers changed."""
    if settings.services.enabled:
        return None
    digest = hashlib.sha256()
    _feed(digest, "settings", repr((settings.retention_days, settings.live, settings.site_url)))
    _feed(digest, "version", version("hubsgen"))
    for table in CONFIG_TABLES:
        _feed(digest, table.name)
        for row in session.execute(_raw_rows(table)):
            _feed(digest, repr(tuple(row)))
    # Messages and their tags are only ever added (with rising ids) or pruned: counts and
    # the highest message id tell any such change.
    counts = session.execute(select(
        select(func.count()).select_from(Message).scalar_subquery(),
        select(func.max(Message.id)).scalar_subquery(),
        select(func.count()).select_from(MessageTag).scalar_subquery())).one()
    _feed(digest, "messages", *map(str, counts))
    # The per-hub counts follow the store, except when `hubsgen db recount` mends them.
    totals = session.execute(select(func.count(), func.sum(HubCount.messages),
                                    func.sum(HubCount.hub_id * HubCount.messages))).one()
    _feed(digest, "hub counts", *map(str, totals))
    for path in _sources(registry):
        _feed(digest, str(path), hashlib.sha256(path.read_bytes()).hexdigest())
    return digest.hexdigest()


def _raw_rows(table: Table) -> Select[Any]:
    """*table*'s rows by primary key, streamed, in untyped columns: the values as the driver
    reads them. Decoding each widget's JSON and each time was a third of the digest, and the
    rows only need to compare."""
    columns: list[ColumnClause[Any]] = [column(c.name) for c in table.columns]
    return (select(*columns).select_from(table)
            .order_by(*(column(c.name) for c in table.primary_key.columns))
            .execution_options(yield_per=STREAMED_ROWS))


def _sources(registry: Registry) -> list[Path]:
    """The project's code, templates and static files, and every widget plugin's directory."""
    roots = {Path(hubs.__file__).parent, Path(hubsgen.__file__).parent}
    roots.update(template.parent for template in registry.templates.values())
    return sorted(path for root in roots for path in root.rglob("*")
                  if path.suffix in SOURCE_SUFFIXES and path.is_file())


@dataclass(frozen=True)
class TreeScan:
    """One walk of the output tree: what the stamp compares, and the temp files found."""

    digest: str
    """Every file by path, size and modification time, so a file edited or deleted by hand
    (or rewritten by watch) tells the tree is not what the stamp saw."""
    files: int
    temps: list[str]
    """The temp files' paths: writers' leftovers, or files being written now."""


def scan_tree(out: Output) -> TreeScan:
    """Walk the output tree once: a no-change rebuild of 11,000 hubs walked it twice, once
    for the digest and once for leftovers, and each walk was a fifth of its time."""
    digest = hashlib.sha256()
    files = 0
    temps: list[str] = []
    for relative, stat in _walk(str(out.root), "", temps):
        _feed(digest, relative, str(stat.st_size), str(stat.st_mtime_ns))
        files += 1
    return TreeScan(digest.hexdigest(), files, temps)


def _walk(directory: str, prefix: str,
          temps: list[str]) -> Iterator[tuple[str, os.stat_result]]:
    """Files depth first, each folder's entries by name, temp files put in *temps* instead:
    sorting one folder at a time holds one folder's entries, not the 1.2 million files of
    100,000 users' hubs, and of a subfolder only its name (a DirEntry each, for the 100,000
    hub folders of the root, was most of a build's peak memory)."""
    entries: list[tuple[str, os.stat_result | None]] = []  # a folder's stat is None
    with os.scandir(directory) as scanned:
        for entry in scanned:
            if entry.name.startswith(TEMP_PREFIX):
                if not entry.is_dir(follow_symlinks=False):
                    temps.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                entries.append((entry.name, None))
            elif entry.name != STAMP_FILE:
                entries.append((entry.name, entry.stat(follow_symlinks=False)))
    entries.sort(key=itemgetter(0))
    for name, stat in entries:
        if stat is None:
            yield from _walk(os.path.join(directory, name), prefix + name + "/", temps)
        else:
            yield prefix + name, stat


def _feed(digest: hashlib._Hash, *parts: str) -> None:
    """Each part, then a NUL, in one update: the tree's walk feeds three parts for each of
    its files (131,000 at 11,000 hubs)."""
    digest.update("".join(f"{part}\0" for part in parts).encode())


class Stamp:
    """The stamp file of one output directory."""

    def __init__(self, out: Output) -> None:
        self.path = out.root / STAMP_FILE
        self.out = out

    def check(self, inputs: str | None, tree: TreeScan) -> int | None:
        """How many files the output holds, if the last full build read exactly *inputs* and
        its output is untouched (*tree*, scanned now); None if a build has work to do."""
        stamp = self.read()
        if inputs is None or stamp.get("inputs") != inputs or stamp.get("tree") != tree.digest:
            return None
        return tree.files

    def record(self, inputs: str | None) -> None:
        """After a full build that rendered everything: a build cut short, or one of some
        hubs, changes the tree and so leaves the stamp behind."""
        if inputs is not None:
            self.update(inputs=inputs, tree=scan_tree(self.out).digest)

    def read(self) -> dict[str, Any]:
        """What the stamp file holds; nothing if it is missing or unreadable."""
        try:
            stamp = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        return stamp if isinstance(stamp, dict) else {}

    def update(self, **entries: object) -> None:
        """Replace *entries* in the stamp file, keeping the others."""
        stamp = self.read() | entries
        self.out.write(json.dumps(stamp, separators=(",", ":")).encode() + b"\n", STAMP_FILE)

