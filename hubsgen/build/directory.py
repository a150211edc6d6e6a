"""Bring the directory up to date after a build of named hubs: nothing when it shows them as
they are, their people pages alone when only what those pages show changed, else all of it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from hubs.listing import Entry
from hubs.models import Hub
from hubsgen.output.directory import (
    DirectoryResult,
    DirectoryWriter,
    Layout,
    entries_where,
    names_digest,
    people_between,
    teams_digest,
)
from hubsgen.output.hubs import Listed


def refresh_directory(session: Session, writer: DirectoryWriter, layout: Layout | None,
                      hubs: Sequence[Listed]) -> DirectoryResult | None:
    """Rewrite what the directory, last written to show *layout* (None: unknown), must change
    for *hubs*; None if nothing. A user hub is checked by the hubs of its page in the layout,
    a team by every team: a few hundred rows, however many hubs there are."""
    if layout is None or layout.fingerprint != writer.fingerprint():
        return writer.write(session)
    changed: dict[int, list[Entry]] = {}
    teams_checked = False
    for hub in hubs:
        if not hub.user_hub:
            if not teams_checked:
                teams = entries_where(session, Hub.user_hub.is_(False))
                if teams_digest(layout.fingerprint, teams) != layout.teams:
                    return writer.write(session)  # the index changes: rare enough to do it all
                teams_checked = True
            continue
        if not layout.pages:
            return writer.write(session)  # the first person: the index gains its first page
        at = layout.page_of(hub.name)
        if at in changed:
            continue
        entries = entries_where(session, *people_between(session, *layout.bounds(at)))
        if writer.page_digest(layout, at, entries) == layout.pages[at].digest:
            continue
        if not entries or names_digest(entries) != layout.pages[at].names:
            return writer.write(session)  # a hub came or went: pages may split elsewhere
        changed[at] = entries
    if not changed:
        return None
    return writer.rewrite_pages(layout, changed) or writer.write(session)
