"""Hub names become directories under build/: refuse anything that could escape it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hubs.errors import ConfigError, HubsError
from hubs.models import Hub
from hubs.names import RESERVED, check_hub_name
from hubsgen.cli import cli
from hubsgen.output.files import Output


@pytest.mark.parametrize("name", ["designteam", "i18n", "fedora-qa", "a.b_c", "x" * 64, "0ad"])
def test_good_names(name):
    assert check_hub_name(name) == name


@pytest.mark.parametrize("name", [
    "", ".hidden", "..", "../etc", "a/b", "a\\b", "Design", "with space", "x" * 65, "ünï",
    "a\x00b", "static", "index.html", "404.html", "qa\n",
])
def test_bad_names_are_refused_with_the_rule(name):
    with pytest.raises(ConfigError, match="hub name"):
        check_hub_name(name)


@pytest.mark.parametrize("name", sorted(RESERVED))
def test_admin_cli_refuses_names_that_shadow_root_files(name, tmp_path):
    """Assert hub create refuses robots.txt, favicon.ico and the like in one line, writing
    nothing to the output: a hub directory of that name would shadow the file."""
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["hub", "create", name, "--db",
                                      f"sqlite:///{tmp_path / 'hubs.db'}", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: hub name {name!r} is reserved for the site itself: "
                             "choose another\n")
    assert not out.exists()


def test_well_known_root_files_are_reserved():
    assert {"robots.txt", "favicon.ico", "sitemap.xml", "404.html", "static", "index.html",
            "events", "humans.txt", "security.txt", "ads.txt", "apple-touch-icon.png",
            "crossdomain.xml", "browserconfig.xml", "manifest.json", "site.webmanifest",
            "versions.json", "feed.atom"} <= RESERVED


def test_hub_model_refuses_a_bad_name():
    with pytest.raises(ConfigError, match=r"hub name '\.\./x' is invalid: use 1 to 64 lower-case"):
        Hub(name="../x")


@pytest.mark.parametrize("parts", [("..", "x"), ("a", "..", "..", "x"), ("/etc/passwd",), (".",)])
def test_output_refuses_paths_outside_the_root(tmp_path, parts):
    out = Output(tmp_path / "build")
    with pytest.raises(HubsError, match="resolves outside"):
        out.path(*parts)


def test_output_refuses_a_symlink_that_leaves_the_root(tmp_path):
    out = Output(tmp_path / "build")
    (tmp_path / "elsewhere").mkdir()
    (out.root / "evil").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(HubsError, match="resolves outside"):
        out.write(b"x", "evil", "index.html")
    assert not (tmp_path / "elsewhere" / "index.html").exists()
