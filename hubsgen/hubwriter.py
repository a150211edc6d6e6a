"""Render a hub's widgets and write its files; shared by build (every widget) and watch (a few)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.atom import FEED_FILE
from hubs.errors import ConfigError, WidgetError
from hubs.models import Hub, WidgetInstance
from hubs.names import check_hub_name
from hubs.render import NO_VERSIONS, Fragment, Renderer, Versions
from hubsgen.directorywriter import DirectoryWriter
from hubsgen.output import TEMP_PREFIX, Output

log = logging.getLogger(__name__)


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


class HubWriter:
    """Writes a hub's fragments first, then its versions.json, then its page, so a page never
    points at a fragment that is not there yet."""

    def __init__(self, renderer: Renderer, out: Output) -> None:
        self.renderer = renderer
        self.out = out

    def write_hub(self, session: Session, hub: Hub,
                  only: Collection[int] | None = None) -> HubResult:
        """Render every widget of *hub*, or only those whose ids are in *only* (the others are
        taken from their fragment files), and its feed, and write whatever changed."""
        result = HubResult(hubs=1)
        fragments = []
        for instance in hub.widgets:
            kept = None if only is None or instance.id in only else self._on_disk(instance)
            fragment = kept or self._render(session, instance, result)
            if kept is None:
                result.widgets += 1
                self._write(result, fragment.to_json(), hub.name, "widgets",
                            f"{fragment.id}.json")
            fragments.append(fragment)
        versions = self._versions_on_disk(hub.name).after(fragments)
        self._write(result, versions.to_json(), hub.name, "versions.json")
        self._write(result, self.renderer.render_page(hub, fragments, versions.seq), hub.name,
                    "index.html")
        self._write(result, self.renderer.render_feed(session, hub), hub.name, FEED_FILE)
        self._prune_widgets(hub.name, {f"{f.id}.json" for f in fragments}, result)
        return result

    def write_directory(self, session: Session) -> HubResult:
        """The directory (see DirectoryWriter), and build/404.html which links to it."""
        done = DirectoryWriter(self.renderer, self.out).write(session)
        return HubResult(written=done.written, unchanged=done.unchanged, removed=done.removed)

    def remove_hub(self, name: str) -> None:
        """Delete a hub's directory when the hub is gone."""
        path = self.out.path(name)
        if path.exists():
            self.out.remove(path)

    def _write(self, result: HubResult, payload: bytes, *parts: str) -> None:
        if self.out.write(payload, *parts):
            result.written += 1
            log.info("Wrote %s", "/".join(parts))
        else:
            result.unchanged += 1

    def _render(self, session: Session, instance: WidgetInstance,
                result: HubResult) -> Fragment:
        try:
            return self.renderer.render_instance(session, instance)
        except WidgetError as e:
            log.error("%s", e)
            result.failures.append(str(e))
            result.failed_ids.append(instance.id)
            last = self._on_disk(instance)
            if last is not None and not last.is_error_panel:
                return last.stale(str(e))
            return self.renderer.error_fragment(instance, str(e))

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
