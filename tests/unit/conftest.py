from __future__ import annotations

import importlib
import sys

import pytest

from tests.plugin_dist import BOOM, install_plugins


@pytest.fixture
def boom_plugin(tmp_path, monkeypatch):
    """A third-party 'boom' widget installed for this test only."""
    root = install_plugins(tmp_path / "site", {"boom": BOOM},
                           {"boom.html": "<p class='boom'>{{ data.word }}</p>"},
                           {"boom": "thirdparty_widgets.boom:WIDGET"})
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    yield
    for name in [m for m in sys.modules if m.startswith("thirdparty_widgets")]:
        del sys.modules[name]
