"""Install a throwaway widget distribution on sys.path, discovered through real entry points."""

from __future__ import annotations

import textwrap
from pathlib import Path

BOOM = '''
"""A widget that fails on demand, to test error isolation."""
from hubs.validators import boolean
from hubs.widget import Argument, Hint, Panel, Widget


def boom_data(ctx):
    if ctx.config["fail"]:
        raise RuntimeError("the tracker is down")
    return {"word": ctx.config["word"]}


WIDGET = Widget(name="boom", template="boom.html", data=boom_data,
                should_invalidate=lambda event, instance: False, hint=Hint(),
                arguments=(Argument("fail", False, boolean, "fail on purpose"),
                           Argument("word", "fine", str, "what to show")),
                chrome=Panel("Boom"))
'''


def install_plugins(root: Path, modules: dict[str, str], templates: dict[str, str],
                    entry_points: dict[str, str], dist: str = "thirdparty_widgets") -> Path:
    """Write a package *dist* and its dist-info under *root*; add *root* to sys.path yourself."""
    package = root / dist
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for name, source in modules.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    for name, source in templates.items():
        (package / name).write_text(source)
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[hubs.widgets]\n{lines}\n")
    return root
