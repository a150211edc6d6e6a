"""Backfill: page through datagrepper's raw API, oldest first, so a new deployment starts full."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime

from hubs.envelopes import MalformedMessage, parse_envelope
from hubs.events import Rejected
from hubs.services import Services, ServiceSettings
from hubsgen.watch.sources import ReadBatch

log = logging.getLogger(__name__)

ROWS_PER_PAGE = 100
"""Datagrepper's largest page."""


class DatagrepperSource:
    """Messages sent between *since* and *until*, a page per batch (one request each)."""

    def __init__(self, url: str, since: datetime, until: datetime,
                 timeout: float = 30.0, retries: int = 3) -> None:
        self.name = f"datagrepper:{url}"
        self.keeps_history = True
        self.since, self.until = since, until
        self.services = Services(ServiceSettings(enabled=True, timeout=timeout, retries=retries,
                                                 urls={"datagrepper": url}))

    def batches(self, max_messages: int, max_wait: float,
                stop: threading.Event) -> Iterator[ReadBatch]:
        page, pages = 1, 1
        while page <= pages and not stop.is_set():
            answer = self.services.get_json("datagrepper", "/raw", {
                "start": self.since.timestamp(), "end": self.until.timestamp(),
                "order": "asc", "rows_per_page": ROWS_PER_PAGE, "page": page})
            pages = int(answer.get("pages", 0))
            log.info("Backfill page %d of %d", page, pages)
            batch = ReadBatch()
            for number, envelope in enumerate(answer.get("raw_messages", []), 1):
                try:
                    batch.messages.append(parse_envelope(envelope))
                except MalformedMessage as e:
                    batch.rejected.append(Rejected(f"page {page} item {number}", str(e),
                                                   json.dumps(envelope, default=str).encode()))
            yield batch
            page += 1

    def close(self) -> None:
        self.services.close()
