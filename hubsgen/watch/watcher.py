"""Turn bus messages into rewritten fragments: store, match, re-render once per batch, write."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from hubs import counts, quarantine
from hubs.activity import concerned_hubs
from hubs.admission import Door, Refused
from hubs.clock import data_now, today
from hubs.db import UNAVAILABLE, open_engine, require_hubs, session_factory
from hubs.directory import DatabaseDirectory
from hubs.events import Event, RawMessage, Rejected
from hubs.memberships import apply_membership
from hubs.models import Hub, Position, WidgetInstance
from hubs.plugins import Registry, load_widgets
from hubs.render import Renderer
from hubs.services import Services
from hubs.settings import Settings
from hubs.store import prune, record
from hubs.widget import CONFIG_TOPICS
from hubsgen.output.files import Output
from hubsgen.output.hubs import HubWriter
from hubsgen.output.static import publish_static
from hubsgen.watch.index import HintIndex
from hubsgen.watch.metrics import WatchMetrics
from hubsgen.watch.shards import Shard
from hubsgen.watch.sources import Batch, Source

log = logging.getLogger(__name__)

INDEX_CHUNK = 500
"""Hubs loaded per session while building the hint index."""

POSITION = "bus"
"""The positions row of the live bus (every source type feeds the same store); a shard's
worker has its own, suffixed."""

INFRASTRUCTURE = (*UNAVAILABLE, OSError)
"""Faults of what the watcher stands on (the database, the disk), not of a message: they pause
the pipeline, with backoff, until they clear; nothing is acknowledged meanwhile."""


@dataclass(frozen=True)
class WatchOptions:
    max_batch: int = 200
    max_wait: float = 0.2
    """Seconds a batch may wait to fill: the bound on how late a burst is coalesced."""
    retry_first: float = 5.0
    """Seconds before a failed widget is rendered again, doubling up to *retry_max*."""
    retry_max: float = 600.0
    pause_first: float = 1.0
    """Seconds the pipeline pauses after an infrastructure fault, doubling up to *pause_max*."""
    pause_max: float = 60.0
    config_poll: float = 10.0
    """Seconds between looks for hubs edited without a bus message saying so."""
    prune_every: float = 3600.0
    """Seconds between prunings of the message store."""
    shard: Shard = Shard()


@dataclass
class Retry:
    attempts: int
    due: float


class Watcher:
    """Handles batches from a source; one thread, so writes never race."""

    def __init__(self, engine: Engine, registry: Registry, renderer: Renderer, out: Output,
                 options: WatchOptions = WatchOptions(),
                 retention: timedelta = timedelta(days=400)) -> None:
        self.sessions = session_factory(engine)
        self.directory = DatabaseDirectory(self.sessions)
        self.door = Door(registry.readers(), self.directory)
        self.registry = registry
        self.renderer = renderer
        self.writer = HubWriter(renderer, out)
        self.options = options
        self.index = HintIndex(registry)
        self.stats: Counter[str] = Counter()
        self.retries: dict[int, Retry] = {}
        self.metrics = WatchMetrics(self.stats)
        self.position = "-".join(filter(None, (POSITION, options.shard.suffix)))
        self.indexed: dict[int, tuple[str, int]] = {}  # hub id -> (name, revision) indexed
        self.synced = time.monotonic()
        self.retention = retention
        self.pruned = -options.prune_every  # prune when the first batch is done
        self.faults = 0  # infrastructure faults in a row, for the backoff
        self.source_name = "bus"
        self.day = today(renderer.now)
        """The data clock's day that the daily widgets' fragments show."""

    def report_gap(self) -> None:
        """A source without redelivery (fedmsg) loses what was sent while we were down."""
        with self.sessions() as session:
            position = session.get(Position, self.position)
        if position is not None:
            log.warning("Last message handled before this start: %s at %s. Anything sent "
                        "since then while hubsgen was down is missing here unless the source "
                        "redelivers it; to fill the gap: hubsgen backfill --since %s",
                        position.msg_id, position.timestamp.isoformat(),
                        position.timestamp.isoformat())

    def load_index(self) -> None:
        """Index every hub of this shard, a chunk of hubs per session: loading all of them into
        one session at 10,000 users peaked at 340 MB, and Python keeps what it once held."""
        with self.sessions() as session:
            ids = list(session.scalars(select(Hub.id).order_by(Hub.id)))
        for start in range(0, len(ids), INDEX_CHUNK):
            with self.sessions() as session:
                for hub in self._hubs(session, ids[start:start + INDEX_CHUNK]):
                    self._reindex(hub)
        log.info("Watching %d widget instances on %d hubs", len(self.index), len(self.indexed))

    def prune_store(self) -> None:
        """Forget messages older than the retention, counted back from the data clock."""
        self.pruned = time.monotonic()
        with self.sessions() as session:
            removed = prune(session, data_now(session) - self.retention)
            session.commit()
        if removed:
            log.info("Pruned %d messages older than %d days", removed, self.retention.days)

    def _reindex(self, hub: Hub) -> None:
        self.index.remove(self.index.instances_of_hubs([hub.id]))
        self.index.add(hub.widgets)
        self.indexed[hub.id] = (hub.name, hub.revision)

    def sync_config(self) -> None:
        """Pick up hubs created, edited or deleted since they were indexed, whether or not a
        bus message said so: re-index them and rewrite their files."""
        self.synced = time.monotonic()
        with self.sessions() as session:
            current = {hub_id: (name, revision) for hub_id, name, revision
                       in session.execute(select(Hub.id, Hub.name, Hub.revision))
                       if self.options.shard.owns(name)}
            changed = sorted(i for i, seen in current.items() if self.indexed.get(i) != seen)
            gone = sorted(self.indexed.keys() - current.keys())
            for hub_id in gone:
                name, _ = self.indexed.pop(hub_id)
                self.index.remove(self.index.instances_of_hubs([hub_id]))
                self.writer.remove_hub(name)
            hubs = self._hubs(session, changed)
            for hub in hubs:
                log.info("Hub %s changed (revision %d)", hub.name, hub.revision)
                self._reindex(hub)
            self._write(session, hubs, {hub.id: {w.id for w in hub.widgets} for hub in hubs})
            if (changed or gone) and self.options.shard.index == 0:
                self.writer.write_directory(session)

    def run(self, source: Source, stop: threading.Event) -> None:
        """Handle batches until *stop* is set or the source is exhausted. Nothing a message
        holds ends this loop; an infrastructure fault pauses it until the fault clears."""
        self.source_name = source.name
        for batch in source.batches(self.options.max_batch, self.options.max_wait, stop):
            try:
                self.handle(batch)
            except INFRASTRUCTURE as e:
                self.stats["redelivered"] += len(batch.messages) + len(batch.rejected)
                batch.retry()
                self._pause(e, f"asked {source.name} to deliver the batch again", stop)
                continue
            batch.done()
            self._periodic(stop)

    def _periodic(self, stop: threading.Event) -> None:
        """Retries, the config poll and pruning, under the same pause as batches."""
        try:
            worked = self.retry_due()
            if time.monotonic() - self.synced >= self.options.config_poll:
                self.sync_config()
                worked = True
            if time.monotonic() - self.pruned >= self.options.prune_every:
                self.prune_store()
                worked = True
        except INFRASTRUCTURE as e:
            self._pause(e, "will try again", stop)
            return
        if worked:
            self.faults = 0

    def _pause(self, fault: BaseException, then: str, stop: threading.Event) -> None:
        delay = min(self.options.pause_first * 2 ** self.faults, self.options.pause_max)
        self.faults += 1
        self.stats["faults"] += 1
        log.warning("Paused %.0f s: %s: %s; %s", delay, type(fault).__name__,
                    str(fault).splitlines()[0] if str(fault) else "", then,
                    exc_info=self.faults == 1)
        stop.wait(delay)

    def handle(self, batch: Batch) -> None:
        """Quarantine what cannot be handled, store and apply the rest, rewrite their files."""
        self.stats["received"] += len(batch.messages) + len(batch.rejected)
        self.metrics.backlog.set(len(batch.messages))
        refused = [(rejected, "decode") for rejected in batch.rejected]
        admitted: list[tuple[RawMessage, Event]] = []
        for raw in batch.messages:
            try:
                admitted.append((raw, self.door.admit(raw)))
            except Refused as e:
                refused.append((quarantine.rejected_of(raw, e.reason), e.stage))
        with self.sessions() as session:
            if refused:
                self._quarantine(session, refused)
                session.commit()
            if admitted:
                self._handle_admitted(session, admitted)
        if refused or admitted:
            self.faults = 0  # the database answered: the next fault starts the backoff anew
        self.metrics.backlog.set(0)

    def _handle_admitted(self, session: Session,
                         admitted: Sequence[tuple[RawMessage, Event]]) -> None:
        """Handle the batch at once; if that fails for anything but infrastructure, one
        message at a time, so the one that fails alone is quarantined and the rest go on."""
        try:
            self._handle_events(session, [event for _, event in admitted])
            return
        except INFRASTRUCTURE:
            raise
        except Exception:  # noqa: BLE001 - a message must not stop the watcher, whatever it is
            session.rollback()
            if len(admitted) == 1:
                raw, _ = admitted[0]
                log.exception("Handling message %s failed", raw.msg_id)
                self._quarantine(session, [(quarantine.rejected_of(
                    raw, f"handling it failed: {_failure()}"), "handle")])
                session.commit()
                return
            log.exception("Handling a batch of %d failed; handling them one by one",
                          len(admitted))
        for pair in admitted:
            self._handle_admitted(session, [pair])

    def _quarantine(self, session: Session, refused: Sequence[tuple[Rejected, str]]) -> None:
        for rejected, stage in refused:
            quarantine.keep(session, rejected, stage, self.source_name)
            self.stats["quarantined"] += 1
            self.stats["malformed"] += stage == "decode"
            log.warning("Quarantined message %s (%s) at %s: %s", rejected.msg_id or "(no id)",
                        rejected.topic or "no topic", stage, rejected.reason)

    def _handle_events(self, session: Session, events: Sequence[Event]) -> None:
        changed_hubs = self._store(session, events)
        self.renderer.set_now(data_now(session))
        if any(event.topic in CONFIG_TOPICS for event in events):
            self.sync_config()
        dirty, matched = self._match(session, events)
        self._refresh(session, dirty, changed_hubs, self._fed(session, events))
        if today(self.renderer.now) != self.day:
            self._turn_day()
        written = time.time()
        for event in matched:
            self.metrics.latency.observe(max(0.0, written - event.timestamp.timestamp()))

    def _store(self, session: Session, events: Sequence[Event]) -> set[int]:
        """Record the messages and their membership changes; the hubs whose people changed.

        Shard workers all store every message: when another stored some first, the unique
        msg_id refuses ours, and a second pass skips what is already there.
        """
        try:
            return self._store_once(session, events)
        except IntegrityError:
            session.rollback()
            log.info("Another worker stored some of these messages first; storing the rest")
            return self._store_once(session, events)

    def _store_once(self, session: Session, events: Sequence[Event]) -> set[int]:
        added = record(session, events)
        counts.add(session, added)
        self.stats["duplicate"] += len(events) - len(added)
        changed_hubs = self._apply_hub_changes(session, events)
        self._save_position(session, events[-1])
        session.commit()
        return changed_hubs

    def _apply_hub_changes(self, session: Session, events: Iterable[Event]) -> set[int]:
        """Memberships from group messages; the hubs whose people changed."""
        changed = set()
        for event in events:
            hub = apply_membership(session, event)
            if hub is not None:
                changed.add(hub.id)
        session.flush()
        return changed

    def _save_position(self, session: Session, event: Event) -> None:
        position = session.get(Position, self.position)
        if position is None:
            session.add(Position(source=self.position, msg_id=event.msg_id,
                                 timestamp=event.timestamp))
        elif event.timestamp >= position.timestamp:
            position.msg_id, position.timestamp = event.msg_id, event.timestamp

    def affected(self, session: Session,
                 events: Sequence[Event]) -> dict[str, list[WidgetInstance]]:
        """For each message id, the instances whose hints match and whose check says yes."""
        candidates = {e.msg_id: self.index.candidates(e) for e in events}
        wanted = sorted({i for ids in candidates.values() for i in ids})
        instances = {i.id: i for i in self._instances(session, wanted)} if wanted else {}
        return {event.msg_id: [instances[i] for i in candidates[event.msg_id]
                               if i in instances and self._check(event, instances[i])]
                for event in events}

    def _match(self, session: Session,
               events: Sequence[Event]) -> tuple[dict[Hub, set[int]], list[Event]]:
        """The instances to re-render, by hub, and the events that asked for any."""
        dirty: dict[Hub, set[int]] = {}
        matched = []
        affected = self.affected(session, events)
        for event in events:
            hits = affected[event.msg_id]
            if hits:
                self.stats["matched"] += 1
                matched.append(event)
                log.info("Message %s (%s) refreshes %s", event.msg_id, event.topic,
                         ", ".join(i.key for i in hits))
            else:
                log.debug("Message %s (%s) refreshes nothing", event.msg_id, event.topic)
            for instance in hits:
                dirty.setdefault(instance.hub, set()).add(instance.id)
        return dirty, matched

    def _turn_day(self) -> None:
        """Re-render every instance of a daily widget, a chunk of hubs per session: the data
        clock entered a new UTC day, and their windows moved whether or not a message
        touched them."""
        daily = sorted(name for name, widget in self.registry.widgets.items() if widget.daily)
        with self.sessions() as session:
            rows = session.execute(select(WidgetInstance.hub_id, WidgetInstance.id)
                                   .where(WidgetInstance.plugin.in_(daily)))
            by_hub: dict[int, set[int]] = {}
            for hub_id, instance_id in rows:
                by_hub.setdefault(hub_id, set()).add(instance_id)
        log.info("The data clock entered %s: re-rendering the daily widgets of %d hubs",
                 today(self.renderer.now).date().isoformat(), len(by_hub))
        hub_ids = sorted(by_hub)
        for start in range(0, len(hub_ids), INDEX_CHUNK):
            with self.sessions() as session:
                self._write(session, self._hubs(session, hub_ids[start:start + INDEX_CHUNK]),
                            by_hub)
        self.day = today(self.renderer.now)  # only now: a fault midway turns it again

    def _check(self, event: Event, instance: WidgetInstance) -> bool:
        widget = self.registry.widgets[instance.plugin]
        try:
            answer = widget.should_invalidate(event, instance)
        except Exception:  # noqa: BLE001 - a buggy check refreshes rather than goes stale
            log.exception("Check of %s failed on %s; refreshing it", instance.key, event.msg_id)
            return True
        if not answer:
            log.debug("%s: no to %s", instance.key, event.msg_id)
        return bool(answer)

    @staticmethod
    def _fed(session: Session, events: Sequence[Event]) -> set[int]:
        """The hubs whose feeds the *events* may join, whether or not a widget shows them."""
        usernames = {name for event in events for name in event.usernames}
        groups = {name for event in events for name in event.groups}
        return set(concerned_hubs(session, usernames, groups)) if usernames or groups else set()

    def _refresh(self, session: Session, dirty: dict[Hub, set[int]],
                 changed_hubs: set[int], fed: set[int]) -> None:
        """Re-index hubs whose people or widgets changed, then write each affected hub once:
        those of matched instances, and those whose feed the messages join (*fed*).

        The hubs of matched instances came loaded with them; only the others are read."""
        known = {hub.id for hub in dirty}
        hubs = [hub for hub in dirty if self.options.shard.owns(hub.name)]
        if (changed_hubs | fed) - known:
            hubs += self._hubs(session, sorted((changed_hubs | fed) - known))
        hubs.sort(key=lambda h: h.id)
        for hub in hubs:
            if hub.id in changed_hubs:
                self._reindex(hub)
        self._write(session, hubs, {hub.id: dirty.get(hub, set()) for hub in hubs})

    def _write(self, session: Session, hubs: Sequence[Hub], only: Mapping[int, set[int]]) -> None:
        """Re-render the instances in *only*, by hub, together, and write what changed."""
        if not hubs:
            return
        result = self.writer.write_hubs(session, hubs, only)
        self.stats["rewritten"] += result.written
        self.stats["failed"] += len(result.failed_ids)
        rendered = {instance_id for ids in only.values() for instance_id in ids}
        for instance_id in rendered - set(result.failed_ids):
            self.retries.pop(instance_id, None)
        now = time.monotonic()
        for instance_id in result.failed_ids:
            attempts = self.retries[instance_id].attempts + 1 if instance_id in self.retries else 1
            delay = min(self.options.retry_first * 2 ** (attempts - 1), self.options.retry_max)
            self.retries[instance_id] = Retry(attempts, now + delay)
        self.metrics.retrying.set(len(self.retries))

    def retry_due(self) -> bool:
        """Re-render failed instances whose backoff has passed; whether any was due."""
        now = time.monotonic()
        due = sorted(i for i, r in self.retries.items() if r.due <= now)
        if not due:
            return False
        with self.sessions() as session:
            instances = self._instances(session, due)
            for gone in set(due) - {i.id for i in instances}:
                self.retries.pop(gone, None)
            hubs: dict[Hub, set[int]] = {}
            for instance in instances:
                log.info("Retrying %s (attempt %d)", instance.key,
                         self.retries[instance.id].attempts + 1)
                hubs.setdefault(instance.hub, set()).add(instance.id)
            self._write(session, list(hubs), {hub.id: ids for hub, ids in hubs.items()})
        return True

    def _hubs(self, session: Session, ids: object) -> list[Hub]:
        """The hubs of this shard among *ids*, with their widgets and memberships."""
        query = (select(Hub).where(Hub.id.in_(ids)).order_by(Hub.id)  # type: ignore[arg-type]
                 .options(selectinload(Hub.widgets), selectinload(Hub.memberships)))
        return [hub for hub in session.scalars(query) if self.options.shard.owns(hub.name)]

    @staticmethod
    def _instances(session: Session, ids: object) -> list[WidgetInstance]:
        query = (select(WidgetInstance).where(WidgetInstance.id.in_(ids))  # type: ignore[arg-type]
                 .order_by(WidgetInstance.id)
                 .options(selectinload(WidgetInstance.hub).options(
                     selectinload(Hub.memberships), selectinload(Hub.widgets))))
        return list(session.scalars(query))


@contextmanager
def open_watcher(settings: Settings, options: WatchOptions = WatchOptions()) -> Iterator[Watcher]:
    """A watcher over the configured database and output directory, its index loaded; a
    database whose schema is not this release's is refused before anything is written."""
    engine = open_engine(settings.db_url)
    try:
        require_hubs(engine)
        out = Output(settings.out_dir)
        static = publish_static(out)
        registry = load_widgets()
        with session_factory(engine)() as session:
            now = data_now(session)
        renderer = Renderer(registry, Services(settings.services), now, static.urls,
                            settings.live, settings.site_url)
        try:
            watcher = Watcher(engine, registry, renderer, out, options,
                              timedelta(days=settings.retention_days))
            watcher.load_index()
            yield watcher
        finally:
            renderer.services.close()
    finally:
        engine.dispose()


def run_watch(settings: Settings, source: Source, stop: threading.Event,
              options: WatchOptions = WatchOptions(),
              metrics_address: str | None = None) -> Counter[str]:
    """Keep the output directory fresh from *source* until *stop* is set or it runs dry;
    with *metrics_address* (HOST:PORT), serve Prometheus metrics there."""
    try:
        with open_watcher(settings, options) as watcher:
            if metrics_address:
                watcher.metrics.serve(metrics_address)
            if not source.keeps_history:
                watcher.report_gap()
            log.info("Listening to %s", source.name)
            watcher.run(source, stop)
    finally:
        source.close()
    log.info("Stopped: %s", ", ".join(f"{k} {v}" for k, v in sorted(watcher.stats.items())))
    return watcher.stats


def _failure() -> str:
    """The exception being handled, in one line."""
    kind, error, _ = sys.exc_info()
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{kind.__name__ if kind else 'error'}: {text[:500]}"
