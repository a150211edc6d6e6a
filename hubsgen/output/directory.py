"""Write the hub directory (index, people pages, search index), rendering only pages whose
hubs changed, and say what it shows (its Layout) so a build of named hubs can rewrite just
their pages; shared by build, watch, serve and the admin commands."""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from hubs.listing import (
    PEOPLE_DIR,
    SEARCH_INDEX,
    SUMMARY_CHARS,
    Entry,
    Listing,
    PeoplePage,
    load_entries,
    make_listing,
    search_index,
)
from hubs.models import Hub
from hubs.names import HUB_NAME_RE, RESERVED
from hubs.render import Renderer
from hubsgen.output.files import TEMP_PREFIX, Output

log = logging.getLogger(__name__)

DIGEST_RE = re.compile(rb'<meta name="hubs-digest" content="([0-9a-f]{64})">')
HEAD_BYTES = 4096
"""How much of a page is read to find its digest, which its template puts in the head."""


class PageShown(NamedTuple):
    """What a people page shows: where it starts, its place among the pages, its digest and
    a hash of its names alone (equal names, equal page boundaries)."""

    first: str
    initial: str
    number: int
    of: int
    digest: str
    names: str


@dataclass(frozen=True)
class Layout:
    """What the directory on disk shows, in a few hundred values at 100,000 hubs: enough to
    tell from a hub's page alone whether the directory shows it as the database has it."""

    fingerprint: str
    teams: str
    """The digest of the team entries the index lists."""
    pages: tuple[PageShown, ...]

    def page_of(self, name: str) -> int:
        """The index of the page whose names *name* falls among; there must be a page."""
        return max(0, bisect.bisect_right([page.first for page in self.pages], name) - 1)

    def bounds(self, index: int) -> tuple[str | None, str | None]:
        """The names page *index* holds: from its first (None: from the start) to the next
        page's first, excluded (None: to the end)."""
        low = self.pages[index].first if index else None
        high = self.pages[index + 1].first if index + 1 < len(self.pages) else None
        return low, high

    def to_json(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "teams": self.teams,
                "pages": [list(page) for page in self.pages]}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Layout:
        """Raises KeyError, TypeError or ValueError if *value* is not one."""
        pages = tuple(PageShown(str(f), str(i), int(n), int(o), str(d), str(m))
                      for f, i, n, o, d, m in value["pages"])
        return cls(str(value["fingerprint"]), str(value["teams"]), pages)


@dataclass
class DirectoryResult:
    """What writing the directory did, and how many of its pages had to be rendered."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    rendered: int = 0
    layout: Layout | None = field(default=None, repr=False)
    """What the directory shows now."""


class DirectoryWriter:
    """People pages first, then the index and search index that link to them, then pages no
    longer listed are removed: a reader never follows a link to a page not yet written."""

    def __init__(self, renderer: Renderer, out: Output) -> None:
        self.renderer = renderer
        self.out = out

    def fingerprint(self) -> str:
        """What the pages show besides their hubs (see Renderer.directory_fingerprint)."""
        return self.renderer.directory_fingerprint()

    def write(self, session: Session, entries: Iterable[Entry] | None = None
              ) -> DirectoryResult:
        """The whole directory, of *entries* (sorted by name) or, by default, every hub's."""
        listing = make_listing(load_entries(session) if entries is None else entries)
        result = DirectoryResult()
        fingerprint = self.fingerprint()
        pages = tuple((page.initial, page.of) for page in listing.pages if page.number == 1)
        initials = tuple(initial for initial, _of in pages)
        shown = []
        for page in listing.pages:  # each shows every initial, and the pages of its own
            digest = _digest(fingerprint, "people", initials, page.initial, page.number,
                             page.of, page.entries)
            shown.append(_page_shown(page, digest))
            if self._to_render(result, digest, PEOPLE_DIR, page.filename):
                self._write(result, self.renderer.render_people_page(listing, page, digest),
                            PEOPLE_DIR, page.filename)
        digest = _digest(fingerprint, "index", pages, listing.teams, listing.people)
        if self._to_render(result, digest, "index.html"):
            self._write(result, self.renderer.render_directory(listing, digest), "index.html")
        self._write(result, search_index(listing), SEARCH_INDEX)
        self._write(result, self.renderer.render_not_found(), "404.html")
        self._remove_unlisted(listing, result)
        result.layout = Layout(fingerprint, teams_digest(fingerprint, listing.teams),
                               tuple(shown))
        return result

    def page_digest(self, layout: Layout, index: int, entries: Sequence[Entry]) -> str:
        """The digest page *index* of *layout* would carry if it listed *entries*."""
        page = layout.pages[index]
        initials = tuple(dict.fromkeys(p.initial for p in layout.pages))
        return _digest(layout.fingerprint, "people", initials, page.initial, page.number,
                       page.of, entries)

    def rewrite_pages(self, layout: Layout, pages: Mapping[int, Sequence[Entry]]
                      ) -> DirectoryResult | None:
        """Rewrite the people pages of *layout* at the indexes *pages* maps to their new
        entries, names unchanged, and their entries in the search index; the index page
        shows none of them. None when the search index does not hold those names where the
        layout says, as a directory written by another process may not: write it whole."""
        try:
            index = self.out.path(SEARCH_INDEX).read_bytes()
        except OSError:
            return None
        for at, entries in sorted(pages.items()):
            index = _splice(index, layout, at, entries)
            if not index:
                return None
        shown = list(layout.pages)
        nav = [PeoplePage(p.initial, p.number, p.of, ()) for p in layout.pages]
        result = DirectoryResult()
        for at, entries in sorted(pages.items()):
            digest = self.page_digest(layout, at, entries)
            page = PeoplePage(nav[at].initial, nav[at].number, nav[at].of, tuple(entries))
            listing = Listing((), (*nav[:at], page, *nav[at + 1:]))  # navigation only
            result.rendered += 1
            self._write(result, self.renderer.render_people_page(listing, page, digest),
                        PEOPLE_DIR, page.filename)
            shown[at] = shown[at]._replace(digest=digest)
        self._write(result, index, SEARCH_INDEX)
        result.layout = Layout(layout.fingerprint, layout.teams, tuple(shown))
        return result

    def _to_render(self, result: DirectoryResult, digest: str, *parts: str) -> bool:
        """Whether the page needs rendering: not when its file shows *digest* already."""
        if _digest_on_disk(self.out.path(*parts)) == digest:
            result.unchanged += 1
            return False
        result.rendered += 1
        return True

    def _write(self, result: DirectoryResult, payload: bytes, *parts: str) -> None:
        if self.out.write(payload, *parts):
            result.written += 1
            log.info("Wrote %s", "/".join(parts))
        else:
            result.unchanged += 1

    def _remove_unlisted(self, listing: Listing, result: DirectoryResult) -> None:
        """Remove people pages of initials (or page numbers) that no longer have hubs."""
        directory = self.out.path(PEOPLE_DIR)
        keep = {page.filename for page in listing.pages}
        for path in sorted(directory.iterdir()) if directory.is_dir() else ():
            if path.name not in keep and not path.name.startswith(TEMP_PREFIX):  # mid-write
                self.out.remove(path)
                result.removed += 1


def _digest(fingerprint: str, *shown: object) -> str:
    """A hash of *shown* (strings, numbers, tuples of entries) written as JSON: json's C
    encoder takes a fifth of repr's time over 100,000 entries."""
    text = json.dumps([fingerprint, *shown], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def entries_where(session: Session, *where: ColumnElement[bool]) -> list[Entry]:
    """The hubs *where* selects, as load_entries gives every hub (a test pins that they
    agree): valid names only, by name. Not a parameter of load_entries, since that module's
    source is part of every directory page's fingerprint."""
    rows = session.connection().execute(select(Hub.name, Hub.summary, Hub.avatar,
                                               Hub.archived, Hub.user_hub).where(*where)).all()
    valid = HUB_NAME_RE.fullmatch
    return sorted(Entry(name, summary or "", avatar or "", bool(archived), bool(user_hub))
                  for name, summary, avatar, archived, user_hub in rows
                  if valid(name) and name not in RESERVED)


def people_between(session: Session, low: str | None,
                   high: str | None) -> list[ColumnElement[bool]]:
    """What selects the user hubs named from *low* (included) to *high* (excluded), None
    for no bound, compared by code point as the directory sorts names, whatever the
    database's collation."""
    name = Hub.name.collate("C") if session.get_bind().dialect.name == "postgresql" else Hub.name
    return [Hub.user_hub.is_(True),
            *([] if low is None else [name >= low]), *([] if high is None else [name < high])]


def teams_digest(fingerprint: str, teams: Sequence[Entry]) -> str:
    """The digest of the team entries the index lists, as a Layout records it."""
    return _digest(fingerprint, "teams", teams)


def names_digest(entries: Iterable[Entry]) -> str:
    return hashlib.sha256("\0".join(entry.name for entry in entries).encode()).hexdigest()


def _page_shown(page: PeoplePage, digest: str) -> PageShown:
    return PageShown(page.entries[0].name, page.initial, page.number, page.of, digest,
                     names_digest(page.entries))


def _splice(index: bytes, layout: Layout, at: int, entries: Sequence[Entry]) -> bytes:
    """The search index *index* with the pairs of page *at* of *layout* replaced by those of
    *entries* (the same names), found by the bytes that open its first pair and the next
    page's: json.dumps writes a pair alike alone and in the index, and a '["' opening a
    name can only be the JSON's own (quotes inside strings are escaped). Decoding and
    encoding the whole index instead costs a tenth of a build of one hub at 100,000 hubs.
    Empty if the index does not hold the page's names there."""
    people = index.find(b'"people":[')
    start = index.find(b'["' + entries[0].name.encode() + b'",', people)
    if people < 0 or start < 0:
        return b""
    if at + 1 < len(layout.pages):
        end = index.find(b',["' + layout.pages[at + 1].first.encode() + b'",', start)
    else:
        end = len(index) - 2 if index.endswith(b"]}") else -1
    try:
        old = json.loads(b"[" + index[start:end] + b"]") if end > start else []
    except ValueError:
        return b""
    if [pair[0] if isinstance(pair, list) and pair else None for pair in old] != \
            [entry.name for entry in entries]:
        return b""
    pairs = ",".join(json.dumps([e.name, e.summary[:SUMMARY_CHARS]], ensure_ascii=False,
                                separators=(",", ":")) for e in entries)
    return index[:start] + pairs.encode() + index[end:]


def _digest_on_disk(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            found = DIGEST_RE.search(f.read(HEAD_BYTES))
    except OSError:
        return None
    return found[1].decode() if found else None
