"""Turn bus messages into rewritten files: admit, store, match, re-render once per batch, write."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, Insert, select
from sqlalchemy.orm import Session

from hubs import counts, quarantine
from hubs.admission import Door, Refused
from hubs.clock import data_now, today
from hubs.db import UNAVAILABLE, dialect_insert, session_factory
from hubs.directory import DatabaseDirectory
from hubs.events import Event, RawMessage, Rejected
from hubs.loading import load_hubs
from hubs.memberships import apply_membership
from hubs.models import Hub, Position, TagKind, WidgetInstance
from hubs.plugins import Registry
from hubs.render import Renderer
from hubs.store import messages_before, record
from hubs.store import prune as prune_before
from hubs.widget import CONFIG_TOPICS
from hubsgen.output.files import Output
from hubsgen.output.hubs import HubWriter
from hubsgen.watch.hubcache import HubCache
from hubsgen.watch.index import HintIndex
from hubsgen.watch.metrics import WatchMetrics
from hubsgen.watch.retries import Retries
from hubsgen.watch.shards import Shard
from hubsgen.watch.sources import Batch

log = logging.getLogger(__name__)

INDEX_CHUNK = 500
"""Hubs loaded per session while building the hint index."""

REMEMBERED_HUBS = 500
"""Hubs whose last written fragments stay in memory to assemble their pages: the recently
active ones, at about a kilobyte a widget (compressed). See CACHED_HUBS for the size."""

TURN_SLICE = 25
"""Hubs whose daily widgets a day turn renders between two batches: the turn of a large site
takes minutes, and messages must not wait that long."""

CACHED_HUBS = 250
"""Hubs kept loaded with their widgets and memberships between batches, the most recently
used: 17 kB for a user hub, 59 kB for a team hub of 35 people. At 10,000 users, after 4,000
messages of the bus mix, a watcher keeping 500 hubs (and remembering 1,000 hubs' fragments)
held 186 MB, keeping 250 (and remembering 500) 173 MB, at the same CPU: awards fall on any
of 11,000 hubs, so a kept hub is rarely asked for again soon."""

POSITION = "bus"
"""The positions row of the live bus (every source type feeds the same store); a shard's
worker has its own, suffixed."""

PRUNE_MARK = "pruned"
"""The positions row of how far this worker read what pruning takes (one per shard)."""

PRUNE_CHUNK = 500
"""Messages read at a time, bodies and all, to learn what pruning them changes."""

INFRASTRUCTURE = (*UNAVAILABLE, OSError)
"""Faults of what the watcher stands on (the database, the disk), not of a message: they pause
the pipeline, with backoff, until they clear; nothing is acknowledged meanwhile."""


class Pipeline:
    """Handles batches, and rewrites the hubs the daemon's timers name; one thread, so writes
    never race."""

    def __init__(self, engine: Engine, registry: Registry, renderer: Renderer, out: Output,
                 shard: Shard, retries: Retries) -> None:
        self.sessions = session_factory(engine)
        self.hubs = HubCache(self.sessions, CACHED_HUBS)
        self.directory = DatabaseDirectory(engine)
        self.door = Door(registry.readers(), self.directory)
        self.registry = registry
        self.renderer = renderer
        self.writer = HubWriter(renderer, out, REMEMBERED_HUBS)
        self.shard = shard
        self.retries = retries
        self.index = HintIndex(registry)
        self.stats: Counter[str] = Counter()
        self.metrics = WatchMetrics(self.stats)
        self.position = _of_shard(POSITION, shard)
        self.indexed: dict[int, tuple[str, int]] = {}  # hub id -> (name, revision) indexed
        self.source_name = "bus"
        self.day = today(renderer.now)
        """The data clock's day that the daily widgets' fragments show, or are turning to."""
        self.turned = self.day
        """The day every daily widget shows: self.day once its turn is done."""
        self.owed: dict[int, set[int]] = {}
        """Hub id -> the instances to re-render that no message asked for: the daily widgets
        when the data clock enters a new UTC day, and whatever showed messages the store
        forgot; worked off TURN_SLICE hubs at a time between batches."""
        self.forgetting: tuple[datetime, dict[int, set[int]]] | None = None
        """A prune's cutoff, and the re-renders this shard's hubs will owe once every shard has
        read the messages sent before it, and they are gone (see prune)."""
        self.prune_mark = _of_shard(PRUNE_MARK, shard)
        self.metrics.daily_day.set(self.day.timestamp())

    def load_index(self) -> None:
        """Index every hub of this shard, a chunk of hubs per session: loading all of them into
        one session at 10,000 users peaked at 340 MB, and Python keeps what it once held."""
        with self.sessions() as session:
            ids = list(session.scalars(select(Hub.id).order_by(Hub.id)))
        for start in range(0, len(ids), INDEX_CHUNK):
            with self.sessions() as session:
                for hub in self._load_hubs(session, ids[start:start + INDEX_CHUNK]):
                    self._reindex(hub)
        log.info("Watching %d widget instances on %d hubs", len(self.index), len(self.indexed))

    def _reindex(self, hub: Hub) -> None:
        self.index.set_hub(hub)
        self.indexed[hub.id] = (hub.name, hub.revision)

    def sync_config(self) -> set[int]:
        """Pick up hubs created, edited or deleted since they were indexed, whether or not a
        bus message said so: re-index them and rewrite their files; the ids of those written."""
        with self.sessions() as session:
            current = {hub_id: (name, revision) for hub_id, name, revision
                       in session.execute(select(Hub.id, Hub.name, Hub.revision))
                       if self.shard.owns(name)}
            changed = sorted(i for i, seen in current.items() if self.indexed.get(i) != seen)
            gone = sorted(self.indexed.keys() - current.keys())
            self.hubs.forget([*changed, *gone])
            for hub_id in gone:
                name, _ = self.indexed.pop(hub_id)
                self.index.remove_hub(hub_id)
                self.writer.remove_hub(name)
            hubs = self._hubs(changed)
            for hub in hubs:
                log.info("Hub %s changed (revision %d)", hub.name, hub.revision)
                self._reindex(hub)
            self._write(session, hubs, {hub.id: {w.id for w in hub.widgets} for hub in hubs})
            if (changed or gone) and self.shard.index == 0:
                self.writer.write_directory(session)
        return {hub.id for hub in hubs}

    def handle(self, batch: Batch) -> None:
        """Quarantine what cannot be handled, store and apply the rest, rewrite their files."""
        # The backlog first: a scrape that sees these messages received sees them pending.
        self.metrics.backlog.set(len(batch.messages))
        self.stats["received"] += len(batch.messages) + len(batch.rejected)
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
        changed_hubs, fed = self._store(session, events)
        self.hubs.forget(changed_hubs)
        self.renderer.set_now(data_now(session))
        synced = (self.sync_config() if any(event.topic in CONFIG_TOPICS for event in events)
                  else set())
        dirty, matched = self._match(session, events)
        self._refresh(session, dirty, changed_hubs, fed, events, synced)
        written = time.time()
        for event in matched:
            self.metrics.latency.observe(max(0.0, written - event.timestamp.timestamp()))

    def _store(self, session: Session, events: Sequence[Event]) -> tuple[set[int], set[int]]:
        """Record the messages and their membership changes; the hubs whose people changed,
        and the hubs whose history the messages join, looked up once for the counts and the
        feeds. That lookup comes before the membership changes; a hub they change the answer
        for is among the first set anyway.

        Shard workers all store every message; the one that comes second skips it (see
        `record`), and applies its membership change again, which changes nothing then.
        """
        added = record(session, events)
        followers = _followers(session, events)
        counts.add(session, added, followers)
        self.stats["duplicate"] += len(events) - len(added)
        changed_hubs = self._apply_hub_changes(session, events)
        last = events[-1]
        _advance(session, self.position, last.msg_id, last.timestamp)
        session.commit()
        return changed_hubs, set().union(*followers.values())

    def _apply_hub_changes(self, session: Session, events: Iterable[Event]) -> set[int]:
        """Memberships from group messages; the hubs whose people changed."""
        changed = set()
        for event in events:
            hub = apply_membership(session, event)
            if hub is not None:
                changed.add(hub.id)
        session.flush()
        return changed

    def affected(self, session: Session,
                 events: Sequence[Event]) -> dict[str, list[WidgetInstance]]:
        """For each message id, the instances whose hints match and whose check says yes."""
        candidates = {e.msg_id: self.index.candidates(e) for e in events}
        wanted = sorted({i for ids in candidates.values() for i in ids})
        instances = {i.id: i for i in self._instances(wanted)}
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

    def owes(self) -> bool:
        """Whether some hubs owe a re-render no message asked for (see *owed*), or the data
        clock entered a UTC day that the daily widgets do not show yet."""
        return bool(self.owed) or today(self.renderer.now) != self.day

    def catch_up(self) -> None:
        """Re-render what the next TURN_SLICE hubs owe. When the data clock has entered a new
        UTC day, every daily widget is owed first: its window moved whether or not a message
        touched it. The daemon calls again between batches until nothing is owed, so messages
        go on being handled while a large site turns."""
        day = today(self.renderer.now)
        if day != self.day:  # a new day, or another one before the last turn was done
            daily = self._daily_instances()
            self.day = day
            log.info("The data clock entered %s: re-rendering the daily widgets of %d hubs",
                     day.date().isoformat(), len(daily))
            self._owe(daily)
        hub_ids = sorted(self.owed)[:TURN_SLICE]
        with self.sessions() as session:
            self._write(session, self._load_hubs(session, hub_ids), self.owed)
        for hub_id in hub_ids:  # only now: a fault midway renders them again
            del self.owed[hub_id]
        self.metrics.owed.set(len(self.owed))
        if not self.owed and self.turned != self.day:
            self.turned = self.day
            self.metrics.daily_day.set(self.day.timestamp())
            log.info("Every daily widget shows %s", self.day.date().isoformat())

    def _owe(self, instances: Mapping[int, set[int]]) -> None:
        _add_instances(self.owed, instances)
        self.metrics.owed.set(len(self.owed))

    def prune(self, retention: timedelta) -> int:
        """Forget the messages sent longer than *retention* before the data clock; how many
        went. What showed them owes a re-render: as a message goes, it changes the widgets
        whose checks it passed as it came, and the feeds of the hubs it concerns.

        Shard workers share the store, so each reads what is to go for its own hubs and marks
        how far it read; messages go once every worker has read them, and a worker owes its
        re-renders only then, so none renders a message that is still there."""
        with self.sessions() as session:
            before = data_now(session) - retention
            showing = self._showing(session, before)
            if self.forgetting is not None:
                _add_instances(showing, self.forgetting[1])
            self.forgetting = (before, showing)
            read_by_all = self._mark_pruned(session, before)
            removed = prune_before(session, read_by_all) if read_by_all is not None else 0
            session.commit()
        self.stats["pruned"] += removed
        if read_by_all is not None and read_by_all >= before:
            self._owe(showing)
            self.forgetting = None
        return removed

    def _showing(self, session: Session, before: datetime) -> dict[int, set[int]]:
        """This shard's instances (by hub id) that the messages sent before *before* changed,
        and the hubs whose feeds they joined: what pruning them changes."""
        showing: dict[int, set[int]] = {}
        for messages in messages_before(session.connection(), before, PRUNE_CHUNK):
            events = [message.as_event() for message in messages]
            for instances in self.affected(session, events).values():
                for instance in instances:
                    showing.setdefault(instance.hub.id, set()).add(instance.id)
            for hub_id in set().union(*_followers(session, events).values()):
                if hub_id in self.indexed:  # this shard's
                    showing.setdefault(hub_id, set())
        return showing

    def _mark_pruned(self, session: Session, before: datetime) -> datetime | None:
        """Note that this shard read what pruning takes up to *before*; how far every shard
        has, None while one never did."""
        _advance(session, self.prune_mark, "", before)
        names = [_of_shard(PRUNE_MARK, Shard(i, self.shard.count))
                 for i in range(self.shard.count)]
        marks = list(session.scalars(select(Position.timestamp)
                                     .where(Position.source.in_(names))))
        return min(marks) if len(marks) == len(names) else None

    def _daily_instances(self) -> dict[int, set[int]]:
        """The instances of daily widgets on this shard's hubs, by hub id."""
        daily = sorted(name for name, widget in self.registry.widgets.items() if widget.daily)
        by_hub: dict[int, set[int]] = {}
        with self.sessions() as session:
            rows = session.execute(select(WidgetInstance.hub_id, WidgetInstance.id, Hub.name)
                                   .join(Hub, Hub.id == WidgetInstance.hub_id)
                                   .where(WidgetInstance.plugin.in_(daily)))
            for hub_id, instance_id, name in rows:
                if self.shard.owns(name):
                    by_hub.setdefault(hub_id, set()).add(instance_id)
        return by_hub

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

    def _refresh(self, session: Session, dirty: dict[Hub, set[int]], changed_hubs: set[int],
                 fed: set[int], events: Sequence[Event], synced: set[int]) -> None:
        """Re-index hubs whose people or widgets changed, then write each affected hub once:
        those of matched instances, those whose people changed, and those whose feed the
        *events* join (*fed*). The matched user hubs of the people the events name go first,
        before the other hubs are even loaded: the awarded user watches their own page; the
        fan-out to their teams' pages may follow.

        The hubs of matched instances came loaded with them; only the others are read. The
        hubs the config sync of this batch wrote (*synced*) are already written with all of
        its messages stored."""
        named = {name for event in events for name in event.usernames}
        matched = sorted((hub for hub in dirty if self.shard.owns(hub.name)
                          and hub.id not in synced), key=lambda h: h.id)
        own = [hub for hub in matched if hub.user_hub and hub.name in named]
        self._reindex_changed(own, changed_hubs)
        self._write(session, own, _matched_of(own, dirty))
        reached = (changed_hubs | fed) - {hub.id for hub in dirty} - synced
        hubs = sorted([hub for hub in matched if hub not in own] + self._hubs(reached),
                      key=lambda h: h.id)
        self._reindex_changed(hubs, changed_hubs)
        self._write(session, hubs, _matched_of(hubs, dirty))

    def _reindex_changed(self, hubs: Iterable[Hub], changed_hubs: set[int]) -> None:
        for hub in hubs:
            if hub.id in changed_hubs:
                self._reindex(hub)

    def _write(self, session: Session, hubs: Sequence[Hub], only: Mapping[int, set[int]]) -> None:
        """Re-render the instances in *only*, by hub, together, and write what changed."""
        if not hubs:
            return
        result = self.writer.write_hubs(session, hubs, only)
        self.stats["rewritten"] += result.written
        self.stats["failed"] += len(result.failed_ids)
        rendered = {i for hub in hubs for i in only.get(hub.id, ())}  # not other calls' hubs
        self.retries.settle(rendered, result.failed_ids)
        self.metrics.retrying.set(len(self.retries))

    def rerender(self, instance_ids: Sequence[int]) -> None:
        """Render these instances again (their earlier attempt failed), with their hubs."""
        with self.sessions() as session:
            instances = self._instances(instance_ids)
            for gone in set(instance_ids) - {i.id for i in instances}:
                self.retries.pop(gone, None)
            hubs: dict[Hub, set[int]] = {}
            for instance in instances:
                log.info("Retrying %s (attempt %d)", instance.key,
                         self.retries[instance.id].attempts + 1)
                hubs.setdefault(instance.hub, set()).add(instance.id)
            self._write(session, list(hubs), {hub.id: ids for hub, ids in hubs.items()})

    def _hubs(self, ids: Iterable[int]) -> list[Hub]:
        """The hubs of this shard among *ids*, in id order, with their widgets and
        memberships, from the cache."""
        return [hub for hub in self.hubs.get(ids) if self.shard.owns(hub.name)]

    def _load_hubs(self, session: Session, ids: Sequence[int]) -> list[Hub]:
        """As _hubs, but read in *session*, past the cache: for passes over every hub, which
        would only push the active ones out of it."""
        return [hub for hub in load_hubs(session, ids) if self.shard.owns(hub.name)]

    def _instances(self, ids: Collection[int]) -> list[WidgetInstance]:
        """The indexed instances among *ids*, in id order, with their hubs from the cache."""
        wanted = set(ids)
        hubs = self.hubs.get(self.index.hubs_of(wanted))
        return sorted((instance for hub in hubs for instance in hub.widgets
                       if instance.id in wanted), key=lambda instance: instance.id)


def _of_shard(name: str, shard: Shard) -> str:
    """A positions row's name for *shard*'s worker: *name*, suffixed when sharded."""
    return "-".join(filter(None, (name, shard.suffix)))


def _advance(session: Session, source: str, msg_id: str, timestamp: datetime) -> None:
    """Move the positions row *source* on to *timestamp* and *msg_id*, never back."""
    connection = session.connection()
    connection.execute(_advance_statement(connection.dialect.name),
                       {"source": source, "msg_id": msg_id, "timestamp": timestamp})


@functools.cache
def _advance_statement(dialect: str) -> Insert:
    """One upsert: loading the row through the ORM and flushing it took a tenth of storing an
    award."""
    insert = dialect_insert(Position, dialect)
    return insert.on_conflict_do_update(
        index_elements=[Position.source],
        set_={"msg_id": insert.excluded.msg_id, "timestamp": insert.excluded.timestamp},
        where=insert.excluded.timestamp >= Position.timestamp)


def _matched_of(hubs: Iterable[Hub], dirty: Mapping[Hub, set[int]]) -> dict[int, set[int]]:
    """The instances to render of each of *hubs*, by hub id: its matched ones, if any."""
    return {hub.id: dirty.get(hub, set()) for hub in hubs}


def _add_instances(into: dict[int, set[int]], more: Mapping[int, set[int]]) -> None:
    """Add *more*'s instances, by hub id, to *into*'s."""
    for hub_id, ids in more.items():
        into.setdefault(hub_id, set()).update(ids)


def _failure() -> str:
    """The exception being handled, in one line."""
    kind, error, _ = sys.exc_info()
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{kind.__name__ if kind else 'error'}: {text[:500]}"


def _followers(session: Session, events: Iterable[Event]) -> dict[tuple[str, str], set[int]]:
    """The hubs following each (kind, name) tag of the *events* (see counts.hub_followers)."""
    tags = {(kind.value, name) for event in events for kind, names in (
        (TagKind.USER, event.usernames), (TagKind.GROUP, event.groups)) for name in names}
    return counts.hub_followers(session.connection(), tags) if tags else {}
