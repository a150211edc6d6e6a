"""Write the hub directory (index, people pages, search index), rendering only pages whose
hubs changed; shared by build, watch, serve and the admin commands."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from hubs.listing import PEOPLE_DIR, SEARCH_INDEX, Listing, load_entries, make_listing, search_index
from hubs.render import Renderer
from hubsgen.output.files import TEMP_PREFIX, Output

log = logging.getLogger(__name__)

DIGEST_RE = re.compile(rb'<meta name="hubs-digest" content="([0-9a-f]{64})">')
HEAD_BYTES = 4096
"""How much of a page is read to find its digest, which its template puts in the head."""


@dataclass
class DirectoryResult:
    """What writing the directory did, and how many of its pages had to be rendered."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    rendered: int = 0


class DirectoryWriter:
    """People pages first, then the index and search index that link to them, then pages no
    longer listed are removed: a reader never follows a link to a page not yet written."""

    def __init__(self, renderer: Renderer, out: Output) -> None:
        self.renderer = renderer
        self.out = out

    def write(self, session: Session) -> DirectoryResult:
        listing = make_listing(load_entries(session))
        result = DirectoryResult()
        fingerprint = self.renderer.directory_fingerprint()
        pages = tuple((page.initial, page.of) for page in listing.pages if page.number == 1)
        initials = tuple(initial for initial, _of in pages)
        for page in listing.pages:  # each shows every initial, and the pages of its own
            digest = _digest(fingerprint, "people", initials, page.initial, page.number,
                             page.of, page.entries)
            if self._to_render(result, digest, PEOPLE_DIR, page.filename):
                self._write(result, self.renderer.render_people_page(listing, page, digest),
                            PEOPLE_DIR, page.filename)
        digest = _digest(fingerprint, "index", pages, listing.teams, listing.people)
        if self._to_render(result, digest, "index.html"):
            self._write(result, self.renderer.render_directory(listing, digest), "index.html")
        self._write(result, search_index(listing), SEARCH_INDEX)
        self._write(result, self.renderer.render_not_found(), "404.html")
        self._remove_unlisted(listing, result)
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


def _digest_on_disk(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            found = DIGEST_RE.search(f.read(HEAD_BYTES))
    except OSError:
        return None
    return found[1].decode() if found else None
