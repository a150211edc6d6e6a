"""Discover widget plugins through the ``hubs.widgets`` entry point group, built-ins included."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from hubs.bodies import BodyReader
from hubs.errors import PluginError
from hubs.widget import Hint, Widget

GROUP = "hubs.widgets"


@dataclass(frozen=True)
class Registry:
    """The loaded widgets by name, and the template file each one renders with."""

    widgets: Mapping[str, Widget]
    templates: Mapping[str, Path]

    def get(self, plugin: str, where: str) -> Widget:
        try:
            return self.widgets[plugin]
        except KeyError:
            known = ", ".join(sorted(self.widgets))
            raise PluginError(
                f"widget {where}: no plugin named {plugin!r}; known: {known}") from None

    def readers(self) -> dict[str, list[tuple[str, BodyReader]]]:
        """Per topic, the widgets that read its bodies and their readers, for the door."""
        readers: dict[str, list[tuple[str, BodyReader]]] = {}
        for name, widget in sorted(self.widgets.items()):
            for topic, reader in widget.reads.items():
                readers.setdefault(topic, []).append((f"the {name} widget", reader))
        return readers


def load_widgets(group: str = GROUP) -> Registry:
    """Load and check every plugin; a broken one stops everything, named, before any render."""
    widgets: dict[str, Widget] = {}
    templates: dict[str, Path] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        widget = _load(ep)
        if ep.name in widgets:
            raise PluginError(f"widget plugin {ep.name}: declared twice ({ep.value})")
        widgets[ep.name] = widget
        templates[ep.name] = _template_file(ep, widget)
    return Registry(widgets, templates)


def _load(ep: EntryPoint) -> Widget:
    culprit = f"widget plugin {ep.name} ({ep.value})"
    try:
        widget = ep.load()
    except Exception as e:
        raise PluginError(f"{culprit}: cannot be imported: {e}") from e
    if not isinstance(widget, Widget):
        raise PluginError(f"{culprit}: is a {type(widget).__name__}, not a hubs.widget.Widget")
    if widget.name != ep.name:
        raise PluginError(f"{culprit}: the Widget is named {widget.name!r}, not {ep.name!r}")
    if not callable(widget.should_invalidate):
        raise PluginError(f"{culprit}: should_invalidate is not a function")
    loader = "load" if widget.load is not None else "data"
    if not callable(getattr(widget, loader)):
        raise PluginError(f"{culprit}: {loader} is not a function")
    if not isinstance(widget.hint, Hint):
        raise PluginError(f"{culprit}: hint is not a hubs.widget.Hint")
    if not widget.template:
        raise PluginError(f"{culprit}: declares no template")
    return widget


def _template_file(ep: EntryPoint, widget: Widget) -> Path:
    """The template lives next to the plugin's module."""
    module_file = getattr(sys.modules.get(ep.module), "__file__", None)
    if module_file is None:
        raise PluginError(f"widget plugin {ep.name} ({ep.value}): its module has no file")
    path = Path(module_file).parent / widget.template
    if not path.is_file():
        raise PluginError(
            f"widget plugin {ep.name} ({ep.value}): template {widget.template} not found "
            f"next to its module (looked for {path})"
        )
    return path
