"""Render a hub's widgets and write its files; shared by build (every widget) and watch (a few)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.atom import FEED_FILE
from hubs.errors import ConfigError, WidgetError
from hubs.models import Hub, WidgetInstance
from hubs.names import check_hub_name
from hubs.render import NO_VERSIONS, Fragment, PackedFragment, Renderer, Versions
from hubsgen.output.directory import DirectoryWriter
from hubsgen.output.files import TEMP_PREFIX, Output

log = logging.getLogger(__name__)

HUBS_AT_ONCE = 25
"""Hubs whose widgets load their data together: enough to amortise each query, few enough
that a message concerning a thousand hubs keeps queries and memory small."""


@dataclass
class HubResult:
    """What writing some hubs did; results of chunks, workers and batches add up."""

    hubs: int = 0
    widgets: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)

    def add(self, other: HubResult) -> None:
        self.hubs += other.hubs
        self.widgets += other.widgets
        self.written += other.written
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.failures.extend(other.failures)
        self.failed_ids.extend(other.failed_ids)


class Listed(NamedTuple):
    """A hub as the directory shows it, and the id it is rendered by: a build keeps one per
    hub, so a named tuple of columns rather than an ORM object with its session state."""

    id: int
    name: str
    summary: str
    avatar: str
    archived: bool
    user_hub: bool


LISTED_COLUMNS = (Hub.id, Hub.name, Hub.summary, Hub.avatar, Hub.archived, Hub.user_hub)

STREAMED = 2000
"""Rows fetched at a time when listing hubs: buffering all 100,000 rows before making their
Listed tuples was a fifth of a build parent's peak memory."""


def listed_hubs(session: Session, invalid: list[str],
                names: Collection[str] | None = None) -> list[Listed]:
    """Hubs whose names are safe as directories (those named in *names*, or all), by name,
    in one query of the columns the directory shows; an error for each other hub is added to
    *invalid*: the database may have been edited by hand."""
    query = select(*LISTED_COLUMNS).order_by(Hub.name).execution_options(yield_per=STREAMED)
    if names is not None:
        query = query.where(Hub.name.in_(list(names)))
    listed = []
    for row in session.execute(query):
        try:
            check_hub_name(row.name)
        except ConfigError as e:
            log.error("%s", e)
            invalid.append(f"{e}; hub {row.id} skipped")
            continue
        listed.append(Listed(row.id, row.name, row.summary or "", row.avatar or "",
                             bool(row.archived), bool(row.user_hub)))
    return listed


def listable_hubs(session: Session) -> tuple[list[Hub], list[str]]:
    """Hubs whose names are safe as directories, by name, and an error for each other one:
    the database may have been edited by hand."""
    hubs, invalid = [], []
    for hub in session.scalars(select(Hub).order_by(Hub.name)):
        try:
            check_hub_name(hub.name)
        except ConfigError as e:
            log.error("%s", e)
            invalid.append(f"{e}; hub {hub.id} skipped")
            continue
        hubs.append(hub)
    return hubs, invalid


WRITTEN_ONCE_PER_KEPT = 4
"""Hubs a writer notes as written once, per hub it keeps: names only."""


class HubWriter:
    """Writes a hub's fragments first, then its versions.json, then its page, so a page never
    points at a fragment that is not there yet."""

    def __init__(self, renderer: Renderer, out: Output, remember: int = 0) -> None:
        """*remember*: how many hubs' last written fragments to keep, most recent first, so
        their pages are assembled without reading the fragments back (the watcher's hubs are
        written by it alone); the other hubs' are read from their files. A hub is kept from
        its second write among the last WRITTEN_ONCE_PER_KEPT * *remember* hubs written on:
        most hubs a watcher writes wait long for their next message (an award's user), and
        compressing all their fragments cost more than reading back those of the few hubs
        written again (in the bus mix, 1.8% of a user hub's kept fragments came from memory,
        19% of a team hub's)."""
        self.renderer = renderer
        self.out = out
        self.remember = remember
        self.remembered: OrderedDict[str, dict[int, PackedFragment]] = OrderedDict()
        self.written_once: OrderedDict[str, None] = OrderedDict()

    def write_hub(self, session: Session, hub: Hub,
                  only: Collection[int] | None = None) -> HubResult:
        """Render every widget of *hub*, or only those whose ids are in *only* (the others are
        taken from their fragment files), and its feed, and write whatever changed."""
        return self.write_hubs(session, [hub], None if only is None else {hub.id: only})

    def write_hubs(self, session: Session, hubs: Sequence[Hub],
                   only: Mapping[int, Collection[int]] | None = None) -> HubResult:
        """Write *hubs* (a build chunk, a watch batch) as write_hub does, the widgets of
        every HUBS_AT_ONCE hubs rendered together so each widget loads their data at once;
        *only* maps a hub's id to the instances to render (a hub it does not name renders
        none)."""
        result = HubResult()
        for start in range(0, len(hubs), HUBS_AT_ONCE):
            result.add(self._write_together(session, hubs[start:start + HUBS_AT_ONCE], only))
        return result

    def _write_together(self, session: Session, hubs: Sequence[Hub],
                        only: Mapping[int, Collection[int]] | None) -> HubResult:
        plans = []
        names = {hub.id: hub.name for hub in hubs}
        for hub in hubs:
            chosen = None if only is None else only.get(hub.id, ())
            plans.append([(instance, None if chosen is None or instance.id in chosen
                           else self._last(instance)) for instance in hub.widgets])
        bulk = self.renderer.bulk_context(session)
        outcomes = self.renderer.render_many(
            session, [instance for plan in plans for instance, kept in plan if kept is None], bulk)
        result = HubResult()
        new_hubs = set()
        for hub, plan in zip(hubs, plans, strict=True):
            new = self.out.make_directory(hub.name)
            if new:
                new_hubs.add(hub.id)
            result.add(self._write_hub(hub, plan, outcomes, new))
        for hub_id, feed in self.renderer.render_feeds(bulk, hubs).items():
            self._write(result, feed, names[hub_id], FEED_FILE, new=hub_id in new_hubs)
        return result

    def _write_hub(self, hub: Hub, plan: list[tuple[WidgetInstance, Fragment | None]],
                   outcomes: Mapping[int, Fragment | WidgetError], new: bool) -> HubResult:
        """Fragments first, then versions.json and the page; the feeds of a chunk follow its
        pages, so what a reader watches (a fragment) is on disk before the feed is queried.
        A *new* hub's directory was just made: nothing in it is read back."""
        result = HubResult(hubs=1)
        fragments = []
        new_widgets = (any(kept is None for _, kept in plan)
                       and self.out.make_directory(hub.name, "widgets"))
        for instance, kept in plan:
            fragment = kept or self._settle(instance, outcomes[instance.id], result)
            if kept is None:
                result.widgets += 1
                self._write(result, fragment.to_json(), hub.name, "widgets",
                            f"{fragment.id}.json", new=new_widgets)
            fragments.append(fragment)
        versions = (NO_VERSIONS if new else self._versions_on_disk(hub.name)).after(fragments)
        self._write(result, versions.to_json(), hub.name, "versions.json", new=new)
        self._write(result, self.renderer.render_page(hub, fragments, versions.seq), hub.name,
                    "index.html", new=new)
        if not new_widgets:
            self._prune_widgets(hub.name, {f"{f.id}.json" for f in fragments}, result)
        self._keep(hub.name, fragments)
        return result

    def _keep(self, hub: str, fragments: list[Fragment]) -> None:
        if not self.remember or not self._written_before(hub):
            return
        self.remembered[hub] = {fragment.id: fragment.packed() for fragment in fragments}
        self.remembered.move_to_end(hub)
        while len(self.remembered) > self.remember:
            self.remembered.popitem(last=False)

    def _written_before(self, hub: str) -> bool:
        """Whether *hub* was written recently: it is kept, or noted as written once (and
        now kept instead). A hub written for the first time is noted."""
        if hub in self.remembered:
            return True
        if hub in self.written_once:
            del self.written_once[hub]
            return True
        self.written_once[hub] = None
        while len(self.written_once) > WRITTEN_ONCE_PER_KEPT * self.remember:
            self.written_once.popitem(last=False)
        return False

    def write_directory(self, session: Session) -> HubResult:
        """The directory (see DirectoryWriter), and build/404.html which links to it."""
        done = DirectoryWriter(self.renderer, self.out).write(session)
        return HubResult(written=done.written, unchanged=done.unchanged, removed=done.removed)

    def remove_hub(self, name: str) -> None:
        """Delete a hub's directory when the hub is gone."""
        self.remembered.pop(name, None)
        self.written_once.pop(name, None)
        path = self.out.path(name)
        if path.exists():
            self.out.remove(path)

    def _write(self, result: HubResult, payload: bytes, *parts: str, new: bool = False) -> None:
        if self.out.write(payload, *parts, new=new):
            result.written += 1
            log.info("Wrote %s", "/".join(parts))
        else:
            result.unchanged += 1

    def _settle(self, instance: WidgetInstance, outcome: Fragment | WidgetError,
                result: HubResult) -> Fragment:
        """The fragment to write: the new one, or for a failure the last good one marked
        stale (an error panel when there is none)."""
        if isinstance(outcome, Fragment):
            return outcome
        log.error("%s", outcome)
        result.failures.append(str(outcome))
        result.failed_ids.append(instance.id)
        last = self._last(instance)
        if last is not None and not last.is_error_panel:
            return last.stale(str(outcome))
        return self.renderer.error_fragment(instance, str(outcome))

    def _last(self, instance: WidgetInstance) -> Fragment | None:
        """The fragment last written for *instance*: remembered, else from its file."""
        packed = self.remembered.get(instance.hub.name, {}).get(instance.id)
        if packed is None:
            return self._on_disk(instance)
        return packed.unpack(instance.column) if packed.plugin == instance.plugin else None

    def _on_disk(self, instance: WidgetInstance) -> Fragment | None:
        """The fragment file an earlier run wrote for *instance*, if it is readable."""
        try:
            path = self.out.path(instance.hub.name, "widgets", f"{instance.id}.json")
            fragment = Fragment.from_json(path.read_bytes(), instance.column)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return fragment if fragment.plugin == instance.plugin else None

    def _versions_on_disk(self, hub: str) -> Versions:
        """The hub's versions.json as an earlier run left it; numbering restarts if unreadable."""
        try:
            return Versions.from_json(self.out.path(hub, "versions.json").read_bytes())
        except (OSError, ValueError):
            return NO_VERSIONS

    def _prune_widgets(self, hub: str, keep: set[str], result: HubResult) -> None:
        directory = self.out.path(hub, "widgets")
        for path in sorted(directory.iterdir()) if directory.is_dir() else ():
            if path.name not in keep and not path.name.startswith(TEMP_PREFIX):  # maybe mid-write
                self.out.remove(path)
                result.removed += 1
