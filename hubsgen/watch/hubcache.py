"""The hubs the watcher renders, kept between batches with their widgets and memberships:
loading them through the ORM for every batch was a fifth of a badge award's CPU (issue 13's
profile), four statements a batch."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterable

from sqlalchemy.orm import Session, sessionmaker

from hubs.loading import load_hubs
from hubs.models import Hub


class HubCache:
    """The most recently used hubs, detached from any session: they are read, never changed,
    and the pipeline forgets a hub whenever its row, widgets or memberships may have moved
    (a config or membership message, the revision poll), so the next use reloads it."""

    def __init__(self, sessions: sessionmaker[Session], capacity: int) -> None:
        self.sessions = sessions
        self.capacity = capacity
        self._hubs: OrderedDict[int, Hub] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hubs)

    def get(self, ids: Iterable[int]) -> list[Hub]:
        """The hubs among *ids* that exist, in id order; those not kept are loaded together,
        in a session of their own, so nothing a batch's session does later reaches them.
        All of them, even more than the cache keeps (it then keeps those of the highest ids)."""
        wanted = sorted(set(ids))
        missing = [hub_id for hub_id in wanted if hub_id not in self._hubs]
        loaded = {hub.id: hub for hub in self._load(missing)} if missing else {}
        found = []
        for hub_id in wanted:
            hub = self._hubs.get(hub_id, loaded.get(hub_id))
            if hub is not None:
                found.append(hub)
        self._keep(found)
        return found

    def forget(self, ids: Collection[int]) -> None:
        for hub_id in ids:
            self._hubs.pop(hub_id, None)

    def _load(self, ids: list[int]) -> list[Hub]:
        with self.sessions() as session:
            return load_hubs(session, ids)

    def _keep(self, hubs: Iterable[Hub]) -> None:
        for hub in hubs:
            self._hubs[hub.id] = hub
            self._hubs.move_to_end(hub.id)
        while len(self._hubs) > self.capacity:
            self._hubs.popitem(last=False)
