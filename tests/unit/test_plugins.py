"""Plugin discovery through the hubs.widgets entry point group, and refusal of broken plugins."""

from __future__ import annotations

import importlib

import pytest

from hubs.errors import PluginError
from hubs.plugins import load_widgets
from hubs.widget import Widget
from tests.plugin_dist import install_plugins

BUILT_INS = {"about", "activity", "avatar", "badges", "cobwebs", "feed", "meetings",
             "message_stats", "pending_reviews", "rules", "stats", "sticky", "subscriptions",
             "updates_ready"}


def test_built_in_widgets_are_discovered_with_their_templates():
    registry = load_widgets()
    assert set(registry.widgets) >= BUILT_INS
    for name in BUILT_INS:
        assert isinstance(registry.widgets[name], Widget)
        assert registry.templates[name].is_file()
        assert registry.templates[name].parent.name == "widgets"


def test_third_party_widget_is_discovered(boom_plugin):
    registry = load_widgets()
    assert registry.widgets["boom"].name == "boom"
    assert registry.templates["boom"].name == "boom.html"


def _install(tmp_path, monkeypatch, source, templates=None, target="bad:WIDGET", name="bad"):
    root = install_plugins(tmp_path / "site", {"bad": source},
                           templates if templates is not None else {"bad.html": "x"},
                           {name: f"broken_widgets.{target}"}, dist="broken_widgets")
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    monkeypatch.delitem(__import__("sys").modules, "broken_widgets.bad", raising=False)
    monkeypatch.delitem(__import__("sys").modules, "broken_widgets", raising=False)


GOOD = '''
from hubs.widget import Hint, Widget
WIDGET = Widget(name="bad", template="bad.html", data=lambda ctx: {},
                should_invalidate=lambda e, i: False, hint=Hint())
'''


@pytest.mark.parametrize(("source", "templates", "message"), [
    ("raise ImportError('no module named tracker')", None,
     "widget plugin bad (broken_widgets.bad:WIDGET): cannot be imported: no module named tracker"),
    ("WIDGET = {'name': 'bad'}", None, "is a dict, not a hubs.widget.Widget"),
    (GOOD.replace('name="bad"', 'name="other"'), None, "the Widget is named 'other', not 'bad'"),
    (GOOD.replace("data=lambda ctx: {}", "data=None"), None, "data is not a function"),
    (GOOD.replace("should_invalidate=lambda e, i: False", "should_invalidate='yes'"), None,
     "should_invalidate is not a function"),
    (GOOD.replace("hint=Hint()", "hint={'topics': []}"), None, "hint is not a hubs.widget.Hint"),
    (GOOD, {}, "template bad.html not found next to its module"),
])
def test_broken_plugin_is_refused_with_its_name(tmp_path, monkeypatch, source, templates,
                                                 message):
    _install(tmp_path, monkeypatch, source, templates)
    with pytest.raises(PluginError, match="widget plugin bad") as error:
        load_widgets()
    assert message in str(error.value)


def test_plugin_missing_its_object_is_refused(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch, "OTHER = 1")
    with pytest.raises(PluginError, match="cannot be imported"):
        load_widgets()


def test_unknown_plugin_on_an_instance_names_the_instance_and_known_plugins():
    registry = load_widgets()
    with pytest.raises(PluginError, match=r"widget designteam/3: no plugin named 'nope'; known: "):
        registry.get("nope", "designteam/3")
