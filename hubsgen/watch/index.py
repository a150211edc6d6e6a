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
from hubs.widget import Hint

log = logging.getLogger(__name__)

Key = tuple[str, str]
"""("topic", "bodhi.update.comment"), ("category", "bodhi"), ("user", "ralph"), ("group", ...)."""


class HintIndex:
    """Topics and categories are a plugin's, so they point at plugins; usernames and groups
    are an instance's, so they point at instances. At 10,000 users, keeping every instance's
    copy of its plugin's topics took half of the watcher's memory."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._plugins_by_key: defaultdict[Key, set[str]] = defaultdict(set)
        self._of_plugin: defaultdict[str, set[int]] = defaultdict(set)
        # The per-person and per-hub maps hold tuples, and each key is kept once: at 10,000
        # users, a set per key and a copy of each name per instance were half the index.
        self._ids: dict[Key, tuple[int, ...]] = {}
        self._interned: dict[Key, Key] = {}
        self._keys: dict[int, tuple[Key, ...]] = {}
        self._plugin_of: dict[int, str] = {}
        self._hub_of: dict[int, int] = {}
        self._of_hub: dict[int, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._plugin_of)

    def add(self, instances: Iterable[WidgetInstance]) -> None:
        """Index (or re-index) *instances*; their hub and memberships must be loaded."""
        for instance in instances:
            self.remove([instance.id])
            try:
                hint = self.registry.get(instance.plugin, instance.key).hint
                keys = self._instance_keys(hint, instance)
            except PluginError as e:
                log.warning("Not watching %s: %s", instance.key, e)
                continue
            if instance.plugin not in self._of_plugin:
                for key in self._plugin_keys(hint):
                    self._plugins_by_key[key].add(instance.plugin)
            self._of_plugin[instance.plugin].add(instance.id)
            self._plugin_of[instance.id] = instance.plugin
            keys = tuple(self._interned.setdefault(key, key) for key in keys)
            self._keys[instance.id] = keys
            self._hub_of[instance.id] = instance.hub_id
            _append(self._of_hub, instance.hub_id, instance.id)
            for key in keys:
                _append(self._ids, key, instance.id)

    def remove(self, instance_ids: Iterable[int]) -> None:
        for instance_id in instance_ids:
            plugin = self._plugin_of.pop(instance_id, None)
            if plugin is None:
                continue
            _discard(self._of_plugin, plugin, instance_id)
            for key in self._keys.pop(instance_id):
                if not _drop(self._ids, key, instance_id):
                    del self._interned[key]
            _drop(self._of_hub, self._hub_of.pop(instance_id), instance_id)

    def hubs_of(self, instance_ids: Iterable[int]) -> set[int]:
        """The hubs of the indexed instances among *instance_ids*."""
        return {self._hub_of[i] for i in instance_ids if i in self._hub_of}

    def instances_of_hubs(self, hub_ids: Iterable[int]) -> set[int]:
        return set().union(*(self._of_hub.get(hub_id, ()) for hub_id in hub_ids))

    def candidates(self, event: Event) -> list[int]:
        """Ids of the instances whose hints match *event*, in id order."""
        found: set[int] = set()
        for key in (("topic", event.topic), ("category", event.category)):
            for plugin in self._plugins_by_key.get(key, ()):
                found |= self._of_plugin.get(plugin, set())
        keys = [("user", name) for name in event.usernames]
        keys += [("group", name) for name in event.groups]
        for key in keys:
            found.update(self._ids.get(key, ()))
        return sorted(found)

    @staticmethod
    def _plugin_keys(hint: Hint) -> set[Key]:
        return {("topic", t) for t in hint.topics} | {("category", c) for c in hint.categories}

    @staticmethod
    def _instance_keys(hint: Hint, instance: WidgetInstance) -> tuple[Key, ...]:
        keys: set[Key] = set()
        if hint.usernames is not None:
            keys |= {("user", name) for name in hint.usernames(instance)}
        if hint.groups is not None:
            keys |= {("group", name) for name in hint.groups(instance)}
        return tuple(sorted(keys))


def _append[K](index: dict[K, tuple[int, ...]], key: K, instance_id: int) -> None:
    index[key] = (*index.get(key, ()), instance_id)


def _drop[K](index: dict[K, tuple[int, ...]], key: K, instance_id: int) -> bool:
    """Take *instance_id* out of index[key], and the key out when nothing is left; whether
    the key is still there."""
    left = tuple(i for i in index.get(key, ()) if i != instance_id)
    if left:
        index[key] = left
    else:
        index.pop(key, None)
    return bool(left)


def _discard[K](index: defaultdict[K, set[int]], key: K, instance_id: int) -> None:
    """Take *instance_id* out of index[key], and the key out when nothing is left."""
    ids = index.get(key)
    if ids is not None:
        ids.discard(instance_id)
        if not ids:
            del index[key]
