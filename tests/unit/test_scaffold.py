"""hubsgen widget new: a plugin project that installs, is discovered and passes its own tests."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from hubs.errors import ConfigError
from hubs.plugins import load_widgets
from hubsgen.dev.scaffold import new_widget_command, project_dir, scaffold_widget
from tests.timing import seconds

NAME = "kudos"
PACKAGE = "hubs_widget_kudos"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=seconds(120), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The scaffolded project, pip-installed (a real wheel) into a directory of its own."""
    dest = tmp_path_factory.mktemp("scaffold")
    scaffold_widget(NAME, dest)
    target = dest / "site"
    run("-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
        "--no-deps", "--no-build-isolation", "--target", str(target),
        str(project_dir(NAME, dest)), cwd=dest)
    return target


def test_scaffold_writes_a_project_of_its_own(tmp_path):
    written = scaffold_widget(NAME, tmp_path)
    root = tmp_path / "hubs-widget-kudos"
    assert [p.relative_to(root).as_posix() for p in written] == [
        "pyproject.toml", "README.md", f"{PACKAGE}/__init__.py", f"{PACKAGE}/kudos.html",
        "tests/test_kudos.py"]
    for path in written:
        if path.suffix == ".py":
            compile(path.read_text(), str(path), "exec")
    jinja2.Environment().parse((root / PACKAGE / "kudos.html").read_text())
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["hubs.widgets"] == {NAME: f"{PACKAGE}:WIDGET"}
    assert project["project"]["dependencies"] == ["hubsgen"]
    assert project["tool"]["setuptools"]["package-data"] == {PACKAGE: ["*.html"]}


def test_the_installed_plugin_is_discovered_with_its_template(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    try:
        registry = load_widgets()
    finally:
        for module in [m for m in sys.modules if m.startswith(PACKAGE)]:
            del sys.modules[module]
    assert registry.widgets[NAME].name == NAME
    assert registry.templates[NAME] == site / PACKAGE / "kudos.html"  # shipped in the wheel


def test_the_generated_tests_pass_against_the_installed_plugin(site, tmp_path):
    tests = project_dir(NAME, site.parent) / "tests" / "test_kudos.py"
    env = {**os.environ, "PYTHONPATH": str(site)}
    # From tmp_path, so the plugin imports from the install, not from the project's sources.
    output = run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests), cwd=tmp_path,
                 env=env)
    assert " passed" in output and "failed" not in output


@pytest.mark.parametrize(("name", "message"), [
    ("Kudos", "widget name 'Kudos' is invalid: use 1 to 64 lower-case letters, digits or '_'"),
    ("1kudos", "widget name '1kudos' is invalid"),
    ("kudos-2", "widget name 'kudos-2' is invalid"),
    ("kudos\n", "widget name 'kudos\\n' is invalid"),
    ("", "widget name '' is invalid"),
    ("k" * 65, "is invalid"),
    ("sticky", "widget name 'sticky' is taken: the installed plugin sticky "
               "(widgets.sticky:WIDGET) has it; choose another"),
])
def test_bad_names_are_refused_and_nothing_is_written(tmp_path, name, message):
    with pytest.raises(ConfigError) as error:
        scaffold_widget(name, tmp_path)
    assert message in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_a_name_a_third_party_plugin_has_is_taken(tmp_path, boom_plugin):
    with pytest.raises(ConfigError, match=r"'boom' is taken: .*\(thirdparty_widgets.boom:"):
        scaffold_widget("boom", tmp_path)


def test_an_existing_project_directory_is_left_alone(tmp_path):
    root = tmp_path / "hubs-widget-release-notes"
    root.mkdir()
    (root / "pyproject.toml").write_text("mine")
    with pytest.raises(ConfigError, match=f"{root} already exists: remove it or choose another"):
        scaffold_widget("release_notes", tmp_path)
    assert (root / "pyproject.toml").read_text() == "mine"


def test_command_says_what_it_created_and_what_to_do_next(tmp_path):
    result = CliRunner().invoke(new_widget_command, [NAME, "--dest", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "hubs-widget-kudos"
    assert f"Created {root / PACKAGE / '__init__.py'}" in result.output
    assert f"pip install -e '{root}[test]'" in result.output
    assert f"hubsgen widget add HUB {NAME}" in result.output


def test_command_refuses_a_bad_name_in_one_sentence(tmp_path):
    result = CliRunner().invoke(new_widget_command, ["Kudos", "--dest", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error: widget name 'Kudos' is invalid" in result.output
    assert "Traceback" not in result.output
