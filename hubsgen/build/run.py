"""Render every hub into the output directory, writing only files whose bytes change."""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.clock import data_now
from hubs.db import open_engine, require_hubs, session_factory, shown
from hubs.errors import ConfigError, DatabaseError
from hubs.listing import PEOPLE_DIR, Entry
from hubs.loading import load_hubs
from hubs.models import Hub
from hubs.plugins import Registry, load_widgets
from hubs.render import Renderer
from hubs.services import Services
from hubs.settings import Settings
from hubsgen.build.directory import refresh_directory
from hubsgen.build.shown import ShownRecord
from hubsgen.build.stamp import Stamp, inputs_digest, scan_tree
from hubsgen.build.sweep import remove_leftovers_of
from hubsgen.output.directory import DirectoryWriter
from hubsgen.output.files import Output, full_disk_named
from hubsgen.output.hubs import HubResult, HubWriter, Listed, listed_hubs
from hubsgen.output.leftovers import remove_stale
from hubsgen.output.static import publish_static

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger(__name__)

CHUNK = 25
"""Hubs per task when rendering in parallel: small enough to balance, big enough to amortise."""

AHEAD = 4
"""Chunks given out per worker before the parent waits for the oldest: enough that no worker
waits for work, few enough that the parent holds few results."""


@dataclass
class BuildReport(HubResult):
    """The whole build: what its hubs did, plus the directory page and the static files."""

    seconds: float = 0.0
    skipped: bool = False
    """Nothing the build reads changed since the last full build: nothing was rendered."""

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        if self.skipped:
            return (f"Nothing changed since the last build: {self.unchanged} files kept, "
                    f"0 written, checked in {self.seconds:.2f}s")
        line = (f"Built {self.hubs} hubs, {self.widgets} widgets: {self.written} written, "
                f"{self.unchanged} unchanged, {self.removed} removed in {self.seconds:.2f}s")
        return line + (f"; {self.failed} widget(s) failed" if self.failures else "")


def run_build(settings: Settings, hub_names: Sequence[str] = (),
              on_progress: Callable[[int], None] = lambda n: None,
              force: bool = False, registry: Registry | None = None) -> BuildReport:
    """Build the hubs named (all when none are), the directory page and the static files,
    with the plugins of *registry* if the caller loaded them already.

    A full build is skipped when its stamp shows nothing it reads changed, unless *force*.
    The output directory is made only once the database has proved usable."""
    started = time.perf_counter()
    engine = open_engine(settings.db_url)
    try:
        require_hubs(engine)
        with session_factory(engine)() as session:
            if not hub_names:
                _require_a_hub(session, settings)
            out = Output(settings.out_dir)
            with full_disk_named(out.root):
                report = _build(session, settings, out, hub_names, on_progress, force,
                                registry or load_widgets())
    finally:
        engine.dispose()
    report.seconds = time.perf_counter() - started
    log.info("%s", report.summary())
    return report


def _build(session: Session, settings: Settings, out: Output, hub_names: Sequence[str],
           on_progress: Callable[[int], None], force: bool, registry: Registry) -> BuildReport:
    """Everything a build writes, leftovers of crashed writers gone first (a build of named
    hubs sweeps only where it writes; a full build's walk for them is the stamp's too)."""
    stamp = Stamp(out)
    if hub_names:
        report = BuildReport(removed=remove_leftovers_of(out, hub_names))
        inputs, kept = None, None
    else:
        tree = scan_tree(out)
        report = BuildReport(removed=remove_stale(out, tree.temps))
        inputs = inputs_digest(session, registry, settings)
        kept = None if force else stamp.check(inputs, tree)
    if kept is not None:
        report.skipped, report.unchanged = True, kept
        return report
    now = data_now(session)
    invalid: list[str] = []
    hubs = listed_hubs(session, invalid, hub_names or None)
    report.failures += invalid
    _refuse_unknown(hubs, hub_names, invalid)
    static = publish_static(out)
    report.written += static.written
    report.unchanged += static.unchanged
    report.removed += static.removed
    job = BuildJob(settings, now, static.urls)
    for result in _run(job, [hub.id for hub in hubs], settings.jobs, registry):
        report.add(result)
        on_progress(result.hubs)
    shown = ShownRecord(stamp)
    writer = DirectoryWriter(job.renderer(registry), out)
    done = (refresh_directory(session, writer, shown.layout(), hubs) if hub_names
            else writer.write(session, sorted(Entry(*hub[1:]) for hub in hubs)))  # read once
    if done is not None:
        report.add(HubResult(written=done.written, unchanged=done.unchanged,
                             removed=done.removed))
        if done.layout is not None:
            shown.record(done.layout)
    if not hub_names:
        report.removed += _prune_hubs(out, {hub.name for hub in hubs})
    if not report.failures:
        stamp.record(inputs)
    return report


def _require_a_hub(session: Session, settings: Settings) -> None:
    """A full build of no hubs would prune every hub from the output: the database is not
    the one meant, or not filled yet."""
    if session.scalar(select(Hub.id).limit(1)) is None:
        url = shown(settings.db_url)
        raise DatabaseError(f"database {url} holds no hubs, and a build of none would empty "
                            f"{settings.out_dir}: create one with hubsgen hub create NAME --db "
                            f"{url}")


def _refuse_unknown(hubs: Sequence[Listed], names: Sequence[str], invalid: list[str]) -> None:
    """Refuse names with no hub to build; a named hub skipped for its stored name (*invalid*,
    one reason each) is not missing, and its reason says so."""
    unknown = sorted(set(names) - {hub.name for hub in hubs})
    if len(unknown) > len(invalid):
        raise ConfigError("; ".join([f"no hub named {', '.join(unknown)}", *invalid]))
    if unknown:
        raise ConfigError("; ".join(invalid))


def _prune_hubs(out: Output, keep: set[str]) -> int:
    """Remove directories of hubs that are gone. Only the names of the output's folders are
    held: a Path for each of 100,000 hubs was the peak of a build's memory."""
    with os.scandir(out.root) as scanned:
        gone = sorted(entry.name for entry in scanned
                      if entry.is_dir() and entry.name not in {"static", PEOPLE_DIR}
                      and entry.name not in keep)
    for name in gone:
        out.remove(out.root / name)
    return len(gone)


@dataclass(frozen=True)
class BuildJob:
    """Everything a worker process needs to render hubs; picklable."""

    settings: Settings
    now: datetime
    static_urls: dict[str, str]

    def renderer(self, registry: Registry | None = None) -> Renderer:
        """A renderer with *registry*, or, in a worker process, the plugins loaded afresh."""
        return Renderer(registry or load_widgets(), Services(self.settings.services), self.now,
                        self.static_urls, self.settings.live, self.settings.site_url)


def _run(job: BuildJob, hub_ids: list[int], jobs: int,
         registry: Registry) -> Iterator[HubResult]:
    """Each chunk's result: rendered here, with the parent's *registry*, when one process
    does, else by a pool whose workers load the plugins afresh."""
    chunks = [hub_ids[i:i + CHUNK] for i in range(0, len(hub_ids), CHUNK)]
    if jobs == 1 or len(chunks) <= 1:
        worker = _Worker(job, registry)
        try:
            yield from map(worker.build_chunk, chunks)
        finally:
            worker.close()
        return
    from concurrent.futures import ProcessPoolExecutor  # a build of a few hubs needs no pool

    from hubsgen.build.lifeline import worker_context

    with ProcessPoolExecutor(jobs, mp_context=worker_context(), initializer=_init_worker,
                             initargs=(job, os.getpid())) as pool:
        try:
            yield from _in_order(pool, chunks, AHEAD * jobs)
        except BaseException:
            pool.shutdown(cancel_futures=True)  # say a full disk: every chunk left would fail
            raise


def _in_order(pool: ProcessPoolExecutor, chunks: Iterable[list[int]],
              ahead: int) -> Iterator[HubResult]:
    """Each chunk's result, in order, with at most *ahead* chunks given out at once: a pool's
    map would queue every chunk, and keep every result, from the start."""
    pending: deque[Future[HubResult]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(_build_chunk_in_worker, chunk))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class _Worker:
    """One process's renderer and database connection, reused for every chunk it builds."""

    def __init__(self, job: BuildJob, registry: Registry | None = None) -> None:
        self.engine = open_engine(job.settings.db_url)
        self.sessions = session_factory(self.engine)
        self.renderer = job.renderer(registry)
        self.writer = HubWriter(self.renderer, Output(job.settings.out_dir))

    def build_chunk(self, hub_ids: Iterable[int]) -> HubResult:
        """The hubs with their widgets and memberships in three queries, then written
        together, so each widget loads the data of the whole chunk at once."""
        result = HubResult()
        with self.sessions() as session:
            hubs = sorted(load_hubs(session, list(hub_ids)), key=lambda hub: hub.name)
            result.add(self.writer.write_hubs(session, hubs))
        return result

    def close(self) -> None:
        self.renderer.services.close()
        self.engine.dispose()


_worker: _Worker | None = None
"""The worker-process state; set by the pool initializer, never in the parent."""


def _init_worker(job: BuildJob, parent: int) -> None:
    from hubsgen.build.lifeline import die_with_parent

    global _worker
    die_with_parent(parent)  # a killed build must not leave its workers writing
    _worker = _Worker(job)


def _build_chunk_in_worker(hub_ids: list[int]) -> HubResult:
    assert _worker is not None
    return _worker.build_chunk(hub_ids)
