"""The hint index: from a message's topic, category, usernames and groups to the widget
instances whose checks may say yes, so a message runs only a handful of checks.

Configuration and membership messages are about hubs: a hint listing their topics makes
candidates of its widget's instances on the hubs such a message is about (the hub its body
names, its groups' and its people's hubs), not on every hub. At 10,000 users, matching every
instance cost the watcher 3.4 to 3.9 s of CPU and 260 MB for each `hubsgen widget configure`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from hubs.errors import PluginError
from hubs.events import Event
from hubs.models import Hub, WidgetInstance
from hubs.plugins import Registry
from hubs.widget import CONFIG_TOPICS, MEMBERSHIP_TOPICS, Hint

log = logging.getLogger(__name__)

Key = tuple[str, str]
"""("topic", "bodhi.update.comment"), ("category", "bodhi"), ("user", "ralph"), ("group", ...)."""

ABOUT_HUBS = CONFIG_TOPICS | MEMBERSHIP_TOPICS
"""Topics whose messages are about particular hubs (see the module's docstring)."""


class _Indexed(NamedTuple):
    """What one hub was indexed as: enough to find it by name and to drop it whole."""

    name: str
    ids: tuple[int, ...]
    keys: tuple[Key, ...]


class HintIndex:
    """Topics and categories are a plugin's, so they point at plugins; usernames and groups
    are an instance's, so they point at instances. Hubs are indexed and dropped whole (the
    watcher learns of changes hub by hub), so the keys are remembered per hub, and of each
    instance only its hub: at 10,000 users, keeping its keys and plugin too took 20 MB."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._plugins_by_key: defaultdict[Key, set[str]] = defaultdict(set)
        self._of_plugin: defaultdict[str, set[int]] = defaultdict(set)
        # Tuples, not sets, and each key kept once: at 10,000 users, a set per key and a copy
        # of each name per instance were half the index.
        self._ids: dict[Key, tuple[int, ...]] = {}
        self._interned: dict[Key, Key] = {}
        self._hub_of: dict[int, int] = {}
        self._hubs: dict[int, _Indexed] = {}
        self._hub_named: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._hub_of)

    def set_hub(self, hub: Hub) -> None:
        """Index *hub*'s widgets, in place of what was indexed for it; its widgets'
        hub and its memberships must be loaded."""
        self.remove_hub(hub.id)
        ids: list[int] = []
        hub_keys: set[Key] = set()
        for instance in hub.widgets:
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
            self._hub_of[instance.id] = hub.id  # one int object for all of a hub's instances
            ids.append(instance.id)
            for key in keys:
                key = self._interned.setdefault(key, key)
                hub_keys.add(key)
                _append(self._ids, key, instance.id)
        self._hubs[hub.id] = _Indexed(hub.name, tuple(ids), tuple(hub_keys))
        self._hub_named[hub.name] = hub.id

    def remove_hub(self, hub_id: int) -> None:
        """Forget hub *hub_id* and every instance of it."""
        indexed = self._hubs.pop(hub_id, None)
        if indexed is None:
            return
        del self._hub_named[indexed.name]
        gone = set(indexed.ids)
        for key in indexed.keys:
            left = tuple(i for i in self._ids[key] if i not in gone)
            if left:
                self._ids[key] = left
            else:
                del self._ids[key], self._interned[key]
        for plugin, members in list(self._of_plugin.items()):
            members -= gone
            if not members:
                del self._of_plugin[plugin]
        for instance_id in indexed.ids:
            del self._hub_of[instance_id]

    def hubs_of(self, instance_ids: Iterable[int]) -> set[int]:
        """The hubs of the indexed instances among *instance_ids*."""
        return {self._hub_of[i] for i in instance_ids if i in self._hub_of}

    def candidates(self, event: Event) -> list[int]:
        """Ids of the instances whose hints match *event*, in id order."""
        found: set[int] = set()
        plugins = {plugin for key in (("topic", event.topic), ("category", event.category))
                   for plugin in self._plugins_by_key.get(key, ())}
        if event.topic in ABOUT_HUBS:
            for hub_id in self._hubs_about(event):
                found.update(i for i in self._hubs[hub_id].ids
                             if any(i in self._of_plugin.get(p, ()) for p in plugins))
        else:
            for plugin in plugins:
                found |= self._of_plugin.get(plugin, set())
        keys = [("user", name) for name in event.usernames]
        keys += [("group", name) for name in event.groups]
        for key in keys:
            found.update(self._ids.get(key, ()))
        return sorted(found)

    def _hubs_about(self, event: Event) -> set[int]:
        """The indexed hubs named by *event*'s body ("hub"), groups or usernames."""
        named = event.body.get("hub")
        names = {*event.groups, *event.usernames, *([named] if isinstance(named, str) else [])}
        return {self._hub_named[name] for name in names if name in self._hub_named}

    @staticmethod
    def _plugin_keys(hint: Hint) -> set[Key]:
        return {("topic", t) for t in hint.topics} | {("category", c) for c in hint.categories}

    @staticmethod
    def _instance_keys(hint: Hint, instance: WidgetInstance) -> set[Key]:
        keys: set[Key] = set()
        if hint.usernames is not None:
            keys |= {("user", name) for name in hint.usernames(instance)}
        if hint.groups is not None:
            keys |= {("group", name) for name in hint.groups(instance)}
        return keys


def _append[K](index: dict[K, tuple[int, ...]], key: K, instance_id: int) -> None:
    index[key] = (*index.get(key, ()), instance_id)
