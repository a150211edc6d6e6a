"""Split the hubs among watch workers: each owns those whose stable hash falls in its shard."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from hubs.errors import ConfigError


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``I/N``: the I-th of N shards, counting from 0."""
        match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
        if not match or not 0 <= int(match[1]) < int(match[2]):
            raise ConfigError(f"shard {text!r} is invalid: use I/N with 0 <= I < N, e.g. 0/2")
        return cls(int(match[1]), int(match[2]))

    def owns(self, hub_name: str) -> bool:
        """Stable across processes and restarts, unlike hash()."""
        if self.count == 1:
            return True
        digest = hashlib.sha256(hub_name.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    @property
    def suffix(self) -> str:
        """Names this shard's own AMQP queue and stored position; empty when unsharded."""
        return "" if self.count == 1 else f"shard{self.index}of{self.count}"
