"""The hint index: from a message's topic, category, usernames and groups to the widget
instances whose checks may say yes, so a message runs only a handful of checks."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from hubs.errors import PluginError
from hubs.events import Event
from hubs.models import WidgetInstance
from hubs.plugins import Registry

log = logging.getLogger(__name__)

Key = tuple[str, str]
"""("topic", "bodhi.update.comment"), ("category", "bodhi"), ("user", "ralph"), ("group", ...)."""


class HintIndex:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._ids: defaultdict[Key, set[int]] = defaultdict(set)
        self._keys: dict[int, set[Key]] = {}
        self._hub_of: dict[int, int] = {}
        self._of_hub: defaultdict[int, set[int]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, instances: Iterable[WidgetInstance]) -> None:
        """Index (or re-index) *instances*; their hub and memberships must be loaded."""
        for instance in instances:
            self.remove([instance.id])
            try:
                keys = self._keys_of(instance)
            except PluginError as e:
                log.warning("Not watching %s: %s", instance.key, e)
                continue
            self._keys[instance.id] = keys
            self._hub_of[instance.id] = instance.hub_id
            self._of_hub[instance.hub_id].add(instance.id)
            for key in keys:
                self._ids[key].add(instance.id)

    def remove(self, instance_ids: Iterable[int]) -> None:
        for instance_id in instance_ids:
            for key in self._keys.pop(instance_id, ()):
                self._ids[key].discard(instance_id)
                if not self._ids[key]:
                    del self._ids[key]
            hub_id = self._hub_of.pop(instance_id, None)
            if hub_id is not None:
                self._of_hub[hub_id].discard(instance_id)
                if not self._of_hub[hub_id]:
                    del self._of_hub[hub_id]

    def instances_of_hubs(self, hub_ids: Iterable[int]) -> set[int]:
        return set().union(*(self._of_hub.get(hub_id, set()) for hub_id in hub_ids))

    def candidates(self, event: Event) -> list[int]:
        """Ids of the instances whose hints match *event*, in id order."""
        keys: list[Key] = [("topic", event.topic), ("category", event.category)]
        keys += [("user", name) for name in event.usernames]
        keys += [("group", name) for name in event.groups]
        found: set[int] = set()
        for key in keys:
            found |= self._ids.get(key, set())
        return sorted(found)

    def _keys_of(self, instance: WidgetInstance) -> set[Key]:
        hint = self.registry.get(instance.plugin, instance.key).hint
        keys: set[Key] = {("topic", t) for t in hint.topics}
        keys |= {("category", c) for c in hint.categories}
        if hint.usernames is not None:
            keys |= {("user", name) for name in hint.usernames(instance)}
        if hint.groups is not None:
            keys |= {("group", name) for name in hint.groups(instance)}
        return keys
