"""Scaffold a widget plugin: a project of its own, registered through the entry point."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import click

from hubs.errors import ConfigError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
"""A Python identifier in lower case: it names the package, and hubs' instances store it in a
64-character column."""

DESCRIPTION = "The newest bus messages about the hub's people."

FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "widget.py.tmpl": "{package}/__init__.py",
    "widget.html.tmpl": "{package}/{name}.html",
    "test_widget.py.tmpl": "tests/test_{name}.py",
}
"""Each template of scaffold_templates/, and where it goes in the new project."""


def project_dir(name: str, dest: Path) -> Path:
    return dest / f"hubs-widget-{name.replace('_', '-')}"


def check_widget_name(name: str, dest: Path) -> None:
    """Refuse a name that is not a lower-case identifier, is taken, or whose project exists."""
    from importlib.metadata import entry_points  # the installed plugins: only when scaffolding

    from hubs.plugins import GROUP

    if not NAME_RE.fullmatch(name):
        raise ConfigError(
            f"widget name {name!r} is invalid: use 1 to 64 lower-case letters, digits or '_', "
            "starting with a letter (it names a Python package too)"
        )
    taken = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    if name in taken:
        raise ConfigError(
            f"widget name {name!r} is taken: the installed plugin {name} ({taken[name]}) has "
            "it; choose another"
        )
    root = project_dir(name, dest)
    if root.exists():
        raise ConfigError(f"{root} already exists: remove it or choose another --dest")


def scaffold_widget(name: str, dest: Path) -> list[Path]:
    """Write a plugin project for widget *name* under *dest*; the files written, in order.

    The project is a distribution of its own, as a third-party author keeps it, so that
    ``pip install -e`` registers it exactly as it will be once published.
    """
    check_widget_name(name, dest)
    package = f"hubs_widget_{name}"
    values = {"name": name, "package": package, "project": project_dir(name, dest).name,
              "title": name.replace("_", " ").capitalize(), "description": DESCRIPTION}
    from importlib.resources import files

    templates = files("hubsgen.dev") / "scaffold_templates"
    written = []
    for template, target in FILES.items():
        path = project_dir(name, dest) / target.format(package=package, name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        source = templates.joinpath(template).read_text(encoding="utf-8")
        path.write_text(Template(source).substitute(values), encoding="utf-8")
        written.append(path)
    return written


def next_steps(name: str, root: Path) -> str:
    steps = [
        (f"pip install -e '{root}[test]'", f"registers the widget {name} (hubs.widgets)"),
        (f"pytest {root}", "renders it, checks it with recorded messages"),
        (f"hubsgen widget add HUB {name}", "puts it on a hub"),
        ("hubsgen serve", "builds, serves, re-renders what you save"),
    ]
    width = max(len(command) for command, _ in steps)
    lines = [f"  {command:<{width}}  # {why}" for command, why in steps]
    return "\n".join(["Next:", *lines, "The guide: docs/writing-a-widget.md in hubsgen."])


@click.command("new")
@click.argument("name")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the project directory.")
def new_widget_command(name: str, dest: Path) -> None:
    """Create hubs-widget-NAME/, a widget plugin project with a test, ready to install."""
    try:
        written = scaffold_widget(name, dest)
    except ConfigError as e:
        raise click.ClickException(str(e)) from e
    for path in written:
        click.echo(f"Created {path}")
    click.echo(next_steps(name, project_dir(name, dest)))
