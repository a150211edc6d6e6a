"""Replay recorded messages from a JSON-lines file or standard input."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from hubs.envelopes import MalformedMessage, parse_line
from hubs.events import Rejected
from hubsgen.watch.sources import ReadBatch


class ReplaySource:
    """JSON lines, each a fedmsg/datagrepper envelope or a fedora-messaging message. Lines are
    read as bytes: one that is not UTF-8 is that line's fault, not the file's."""

    def __init__(self, path: str, follow: bool = False) -> None:
        """With *follow*, wait for lines appended after the end, like ``tail -f``."""
        self.name = f"replay:{path}"
        self.keeps_history = True
        self.path = path
        self.follow = follow
        self._stream: IO[bytes] | None = None

    def batches(self, max_messages: int, max_wait: float,
                stop: threading.Event) -> Iterator[ReadBatch]:
        stream = self._open()
        batch = ReadBatch()
        number = 0
        while not stop.is_set():
            line = stream.readline()
            if not line:
                if batch.messages or batch.rejected or self.follow:
                    yield batch
                    batch = ReadBatch()
                if not self.follow:
                    return
                stop.wait(max_wait)
                continue
            number += 1
            if line.strip():
                self._parse(line, number, batch)
            if len(batch.messages) + len(batch.rejected) >= max_messages:
                yield batch
                batch = ReadBatch()

    @staticmethod
    def _parse(line: bytes, number: int, batch: ReadBatch) -> None:
        try:
            batch.messages.append(parse_line(line))
        except MalformedMessage as e:
            batch.rejected.append(Rejected(f"line {number}", str(e), line.rstrip(b"\r\n")))

    def _open(self) -> IO[bytes]:
        if self._stream is None:
            self._stream = (sys.stdin.buffer if self.path == "-"
                            else Path(self.path).open("rb"))  # noqa: SIM115 (closed by close())
        return self._stream

    def close(self) -> None:
        if self._stream is not None and self._stream is not sys.stdin.buffer:
            self._stream.close()
        self._stream = None
