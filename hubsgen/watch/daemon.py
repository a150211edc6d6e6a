"""Keep the watch pipeline going: feed it batches, run its timers, pause on faults."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from hubs.clock import data_now
from hubs.db import open_engine, require_hubs, session_factory
from hubs.models import Position
from hubs.plugins import load_widgets
from hubs.render import Renderer
from hubs.services import Services
from hubs.settings import Settings
from hubs.understand import load_readers
from hubsgen.output.files import Output
from hubsgen.output.static import publish_static
from hubsgen.watch.metrics import WatchMetrics
from hubsgen.watch.pipeline import INFRASTRUCTURE, Pipeline
from hubsgen.watch.retries import Retries
from hubsgen.watch.shards import Shard
from hubsgen.watch.sources import Source

log = logging.getLogger(__name__)


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


class Watcher:
    """Feeds a source's batches to the pipeline and runs its timers: retries of failed
    widgets, the config poll, pruning, the day turn."""

    def __init__(self, pipeline: Pipeline, options: WatchOptions = WatchOptions(),
                 retention: timedelta = timedelta(days=400)) -> None:
        self.pipeline = pipeline
        self.options = options
        self.retention = retention
        self.synced = time.monotonic()
        self.pruned = -options.prune_every  # prune when the first batch is done
        self.faults = 0  # infrastructure faults in a row, for the backoff

    @property
    def stats(self) -> Counter[str]:
        return self.pipeline.stats

    @property
    def metrics(self) -> WatchMetrics:
        return self.pipeline.metrics

    @property
    def retries(self) -> Retries:
        return self.pipeline.retries

    def report_gap(self) -> None:
        """A source without redelivery (fedmsg) loses what was sent while we were down."""
        with self.pipeline.sessions() as session:
            position = session.get(Position, self.pipeline.position)
        if position is not None:
            log.warning("Last message handled before this start: %s at %s. Anything sent "
                        "since then while hubsgen was down is missing here unless the source "
                        "redelivers it; to fill the gap: hubsgen backfill --since %s",
                        position.msg_id, position.timestamp.isoformat(),
                        position.timestamp.isoformat())

    def sync_config(self) -> None:
        """The config poll, now."""
        self.synced = time.monotonic()
        self.pipeline.sync_config()

    def prune_store(self) -> None:
        """Forget messages older than the retention, counted back from the data clock; what
        showed them is re-rendered between the next batches."""
        self.pruned = time.monotonic()
        removed = self.pipeline.prune(self.retention)
        if removed:
            log.info("Pruned %d messages older than %d days", removed, self.retention.days)

    def run(self, source: Source, stop: threading.Event) -> None:
        """Handle batches until *stop* is set or the source is exhausted. Nothing a message
        holds ends this loop; an infrastructure fault pauses it until the fault clears."""
        self.pipeline.source_name = source.name
        for batch in source.batches(self.options.max_batch, self.options.max_wait, stop):
            try:
                self.pipeline.handle(batch)
            except INFRASTRUCTURE as e:
                self.stats["redelivered"] += len(batch.messages) + len(batch.rejected)
                batch.retry()
                self._pause(e, f"asked {source.name} to deliver the batch again", stop)
                continue
            if batch.messages or batch.rejected:
                self.faults = 0  # the database answered: the next fault starts the backoff anew
            batch.done()
            self._periodic(stop)
        self._finish_owed(stop)

    def _finish_owed(self, stop: threading.Event) -> None:
        """A finite source ran dry while re-renders were owed (a day turn, a prune): do them
        before returning, unless a failure of their own stops them (the next start turns the
        day again)."""
        while self.pipeline.owes() and not stop.is_set():
            troubles = self.stats["periodic_failures"] + self.stats["faults"]
            self._periodic(stop)
            if self.stats["periodic_failures"] + self.stats["faults"] > troubles:
                return

    def _periodic(self, stop: threading.Event) -> None:
        """The day turn, retries, the config poll and pruning, under the same pause as
        batches. A failure of their own is logged and they run again after the next batch:
        nothing here may stop the watcher either."""
        try:
            worked = self.pipeline.owes()
            if worked:
                self.pipeline.catch_up()
            worked = self.retry_due() or worked
            if time.monotonic() - self.synced >= self.options.config_poll:
                self.sync_config()
                worked = True
            if time.monotonic() - self.pruned >= self.options.prune_every:
                self.prune_store()
                worked = True
        except INFRASTRUCTURE as e:
            self._pause(e, "will try again", stop)
            return
        except Exception:  # noqa: BLE001 - a bug in timed work must not stop the watcher
            self.stats["periodic_failures"] += 1
            log.exception("Timed work failed; it runs again after the next batch")
            return
        if worked:
            self.faults = 0

    def retry_due(self) -> bool:
        """Re-render failed instances whose backoff has passed; whether any was due."""
        due = self.retries.due()
        if due:
            self.pipeline.rerender(due)
        return bool(due)

    def _pause(self, fault: BaseException, then: str, stop: threading.Event) -> None:
        delay = min(self.options.pause_first * 2 ** self.faults, self.options.pause_max)
        self.faults += 1
        self.stats["faults"] += 1
        log.warning("Paused %.0f s: %s: %s; %s", delay, type(fault).__name__,
                    str(fault).splitlines()[0] if str(fault) else "", then,
                    exc_info=self.faults == 1)
        stop.wait(delay)


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
            pipeline = Pipeline(engine, registry, renderer, out, options.shard,
                                Retries(options.retry_first, options.retry_max))
            pipeline.load_index()
            yield Watcher(pipeline, options, timedelta(days=settings.retention_days))
        finally:
            renderer.services.close()
    finally:
        engine.dispose()


@contextmanager
def _start_up_frozen() -> Iterator[None]:
    """Load the message readers, then hide every object made so far from the garbage
    collector until the watcher stops: the modules, fedmsg.meta's processors and the hint
    index live as long as it, and a full collection walked them all. At 10,000 users such a
    collection paused a batch for 130 to 270 ms, one award in a few hundred; it now walks
    only what batches made since (7 to 35 ms after 50 to 150 awards, BENCHMARKS.md)."""
    load_readers()
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # so a process that goes on (a test, a replay) can collect them again


def run_watch(settings: Settings, source: Source, stop: threading.Event,
              options: WatchOptions = WatchOptions(),
              metrics_address: str | None = None) -> Counter[str]:
    """Keep the output directory fresh from *source* until *stop* is set or it runs dry;
    with *metrics_address* (HOST:PORT), serve Prometheus metrics there."""
    try:
        with open_watcher(settings, options) as watcher, _start_up_frozen():
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
