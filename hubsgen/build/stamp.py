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
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

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
        primary = list(table.primary_key.columns)
        rows = select(table).order_by(*primary).execution_options(yield_per=STREAMED_ROWS)
        for row in session.execute(rows):
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


def _sources(registry: Registry) -> list[Path]:
    """The project's code, templates and static files, and every widget plugin's directory."""
    roots = {Path(hubs.__file__).parent, Path(hubsgen.__file__).parent}
    roots.update(template.parent for template in registry.templates.values())
    return sorted(path for root in roots for path in root.rglob("*")
                  if path.suffix in SOURCE_SUFFIXES and path.is_file())


def tree_digest(out: Output) -> tuple[str, int]:
    """Every file under the output root by path, size and modification time, so a file edited
    or deleted by hand (or rewritten by watch) tells the tree is not what the stamp saw; and
    how many files there are."""
    digest = hashlib.sha256()
    files = 0
    for relative, stat in _walk(str(out.root), ""):
        _feed(digest, relative, str(stat.st_size), str(stat.st_mtime_ns))
        files += 1
    return digest.hexdigest(), files


def _walk(directory: str, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
    """Files depth first, each folder's entries by name: sorting one folder at a time holds
    one folder's entries, not the 1.2 million files of 100,000 users' hubs, and only their
    names (a DirEntry each, for the 100,000 hub folders of the root, was most of a build's
    peak memory)."""
    with os.scandir(directory) as scanned:
        entries = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in scanned)
    for name, is_dir in entries:
        if name == STAMP_FILE or name.startswith(TEMP_PREFIX):
            continue
        path = os.path.join(directory, name)
        if is_dir:
            yield from _walk(path, prefix + name + "/")
        else:
            yield prefix + name, os.stat(path, follow_symlinks=False)


def _feed(digest: hashlib._Hash, *parts: str) -> None:
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")


class Stamp:
    """The stamp file of one output directory."""

    def __init__(self, out: Output) -> None:
        self.path = out.root / STAMP_FILE
        self.out = out

    def check(self, inputs: str | None) -> int | None:
        """How many files the output holds, if the last full build read exactly *inputs* and
        its output is untouched; None if a build has work to do."""
        if inputs is None:
            return None
        stamp = self.read()
        if stamp.get("inputs") != inputs:
            return None
        tree, files = tree_digest(self.out)
        return files if stamp.get("tree") == tree else None

    def record(self, inputs: str | None) -> None:
        """After a full build that rendered everything: a build cut short, or one of some
        hubs, changes the tree and so leaves the stamp behind."""
        if inputs is not None:
            self.update(inputs=inputs, tree=tree_digest(self.out)[0])

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

