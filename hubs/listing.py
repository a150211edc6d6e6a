"""What the hub directory lists, and how its people are split into pages with stable URLs.

At Fedora's size (100,000 accounts) one page of every hub is megabytes nobody can scan, so
teams (a few hundred) stay on the index and people go to ``people/<initial>.html`` pages,
split further where an initial has more than PAGE_SIZE hubs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.models import Hub
from hubs.names import HUB_NAME_RE, RESERVED

PEOPLE_DIR = "people"
"""build/people/: the people pages; a name hubs.names reserves."""

SEARCH_INDEX = "directory.json"
"""build/directory.json: every hub's name and summary, for the search box."""

PAGE_SIZE = 300
"""Most hubs on one people page: about 100 KB of HTML, half the 200 KB budget."""

SUMMARY_CHARS = 140
"""Longest summary the directory shows (cards clamp to two lines; the templates cut there too):
it bounds the size of pages and of the search index."""

OTHER_INITIAL = "0-9"
"""The group of names starting with a digit, '-' or '_', which sort before the letters."""


class Entry(NamedTuple):
    """One hub as the directory shows it: nothing else a hub holds changes the directory.

    A named tuple, not a dataclass: 100,000 of them are made, sorted and hashed (as JSON)
    on every run, at a fifth of a frozen dataclass's cost."""

    name: str
    summary: str
    avatar: str
    archived: bool
    user_hub: bool


@dataclass(frozen=True)
class PeoplePage:
    """One people page: the *number*-th of the *of* pages of names starting *initial*."""

    initial: str
    number: int
    of: int
    entries: tuple[Entry, ...]

    @property
    def slug(self) -> str:
        """``a``, ``a-2``, ``0-9-3``: the file name without ``.html``, so URLs stay put."""
        return self.initial if self.number == 1 else f"{self.initial}-{self.number}"

    @property
    def filename(self) -> str:
        return f"{self.slug}.html"


@dataclass(frozen=True)
class Listing:
    """The whole directory: teams for the index, people by page, in name order."""

    teams: tuple[Entry, ...]
    pages: tuple[PeoplePage, ...]

    @property
    def people(self) -> int:
        return sum(len(page.entries) for page in self.pages)

    def initials(self) -> list[tuple[str, list[PeoplePage]]]:
        """Each initial with its pages, in order: the navigation every directory page shows."""
        return [(initial, list(pages))
                for initial, pages in groupby(self.pages, key=lambda p: p.initial)]

    def pages_of(self, initial: str) -> list[PeoplePage]:
        return [page for page in self.pages if page.initial == initial]


def load_entries(session: Session) -> list[Entry]:
    """Every hub with a valid name, by name; one query of the columns the directory shows,
    so 100,000 hubs load in a fraction of a second. listable_hubs reports invalid names."""
    rows = session.connection().execute(select(Hub.name, Hub.summary, Hub.avatar,
                                               Hub.archived, Hub.user_hub)).all()
    valid = HUB_NAME_RE.fullmatch
    entries = [Entry(name, summary or "", avatar or "", bool(archived), bool(user_hub))
               for name, summary, avatar, archived, user_hub in rows
               if valid(name) and name not in RESERVED]
    return sorted(entries)  # by name (unique), in code point order whatever the collation


def make_listing(entries: Iterable[Entry]) -> Listing:
    """Split *entries* (sorted by name) into the index's teams and the people pages."""
    teams: list[Entry] = []
    people: list[Entry] = []
    for entry in entries:
        (people if entry.user_hub else teams).append(entry)
    pages = []
    for initial, group in groupby(people, key=lambda e: initial_of(e.name)):
        chunks = split(list(group))
        pages += [PeoplePage(initial, number, len(chunks), tuple(chunk))
                  for number, chunk in enumerate(chunks, start=1)]
    return Listing(tuple(teams), tuple(pages))


def initial_of(name: str) -> str:
    first = name[0]
    return first if "a" <= first <= "z" else OTHER_INITIAL


def split(entries: Sequence[Entry], depth: int = 1) -> list[list[Entry]]:
    """Cut *entries* (sorted, sharing their first *depth* characters) into pages of at most
    PAGE_SIZE, only between groups of a common longer prefix: a hub added or removed then
    changes its own page, and moves a page boundary only when its page is full."""
    if len(entries) <= PAGE_SIZE:
        return [list(entries)]
    pieces = [piece for _prefix, group in groupby(entries, key=lambda e: e.name[:depth + 1])
              for piece in split(list(group), depth + 1)]
    pages: list[list[Entry]] = [[]]
    for piece in pieces:
        if pages[-1] and len(pages[-1]) + len(piece) > PAGE_SIZE:
            pages.append([])
        pages[-1].extend(piece)
    return pages


def search_index(listing: Listing) -> bytes:
    """build/directory.json: ``{"teams": [[name, summary], ...], "people": [...]}`` by name.

    Pairs rather than objects, and no URLs (the script builds them): 100,000 people take
    2.9 MB, 260 KB gzip-compressed, as sorted names share prefixes and people share names."""
    index = {
        "teams": [[e.name, e.summary[:SUMMARY_CHARS]] for e in listing.teams],
        "people": [[e.name, e.summary[:SUMMARY_CHARS]] for page in listing.pages
                   for e in page.entries],
    }
    return json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode()
