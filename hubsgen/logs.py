"""Log set-up for the command line: readable lines for people, JSON lines for collectors."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """One JSON object per record, so journald/Loki/Elasticsearch can index the fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(verbose: int, as_json: bool = False) -> None:
    """-v for info, -vv for debug; the only place handlers are configured."""
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # pika narrates every connection at INFO; keep its chatter for -vv.
    logging.getLogger("pika").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


def show_progress(*loggers: str) -> None:
    """Let these loggers' INFO lines through without -v: a service that starts in silence
    looks hung, and a dev server that rebuilds in silence looks idle. -vv keeps DEBUG."""
    for name in loggers:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
