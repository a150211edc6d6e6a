"""Prometheus metrics for ``hubsgen watch``: what it received, matched, rewrote and skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

COUNTERS = {
    "received": ("hubsgen_messages_received",
                 "Messages received from the source, malformed ones included."),
    "malformed": ("hubsgen_messages_malformed",
                  "Messages that could not be parsed, quarantined."),
    "quarantined": ("hubsgen_messages_quarantined",
                    "Messages that could not be handled, kept in quarantine (any stage)."),
    "duplicate": ("hubsgen_messages_duplicate", "Messages already stored (redeliveries)."),
    "matched": ("hubsgen_messages_matched", "Messages that refreshed at least one widget."),
    "redelivered": ("hubsgen_messages_redelivered",
                    "Messages handed back to the source after a transient failure."),
    "pruned": ("hubsgen_messages_pruned",
               "Messages forgotten past the retention; what showed them is re-rendered."),
    "rewritten": ("hubsgen_files_rewritten",
                  "Files rewritten: fragments, versions.json and pages."),
    "failed": ("hubsgen_widget_failures",
               "Widget renders that failed; the last good fragment was kept."),
    "faults": ("hubsgen_infrastructure_faults",
               "Database or disk faults that paused the pipeline until they cleared."),
}
"""Watcher stat -> (Prometheus counter name, help); the client appends ``_total``."""


class WatchMetrics:
    """One registry per watcher, no globals: tests can run several side by side."""

    def __init__(self, stats: Counter[str]) -> None:
        self.registry = CollectorRegistry()
        # What the client's default registry would hold: memory, CPU, open files, GC passes.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(_StatsCollector(stats))
        self.latency = Histogram(
            "hubsgen_refresh_latency_seconds",
            "From a message's send time to its widgets' files being written.",
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry)
        self.backlog = Gauge("hubsgen_backlog_messages",
                             "Messages received and not yet handled.", registry=self.registry)
        self.retrying = Gauge("hubsgen_retrying_widgets",
                              "Widget instances waiting to retry a failed render.",
                              registry=self.registry)
        self.owed = Gauge("hubsgen_owed_hubs",
                          "Hubs owed a re-render no message asked for: the data clock entered "
                          "a new UTC day, or messages they showed were pruned.",
                          registry=self.registry)
        self.daily_day = Gauge("hubsgen_daily_widgets_day_seconds",
                               "Start (Unix time) of the UTC day every daily widget shows.",
                               registry=self.registry)

    def serve(self, address: str) -> None:
        """Expose ``/metrics`` on HOST:PORT from a background thread."""
        host, _, port = address.rpartition(":")
        start_http_server(int(port), addr=host or "127.0.0.1", registry=self.registry)


class _StatsCollector(Collector):
    """Reads the watcher's counters at scrape time, so counting stays a dict increment."""

    def __init__(self, stats: Counter[str]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        for stat, (name, help_text) in COUNTERS.items():
            yield CounterMetricFamily(name, help_text, value=self.stats[stat])
