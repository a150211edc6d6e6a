"""When a widget whose rendering failed is rendered again: after a backoff that doubles."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass


@dataclass
class Retry:
    attempts: int
    due: float


class Retries(dict[int, Retry]):
    """Instance id -> its next attempt; an instance leaves once it renders again."""

    def __init__(self, first: float, most: float) -> None:
        super().__init__()
        self.first = first
        self.most = most

    def settle(self, rendered: Collection[int], failed: Collection[int]) -> None:
        """Forget the instances of *rendered* that succeeded; schedule those that *failed*."""
        for instance_id in set(rendered) - set(failed):
            self.pop(instance_id, None)
        now = time.monotonic()
        for instance_id in failed:
            attempts = self[instance_id].attempts + 1 if instance_id in self else 1
            delay = min(self.first * 2 ** (attempts - 1), self.most)
            self[instance_id] = Retry(attempts, now + delay)

    def due(self) -> list[int]:
        """The instances whose backoff has passed, by id."""
        now = time.monotonic()
        return sorted(i for i, retry in self.items() if retry.due <= now)
