"""Settings: each key's type and range checked in the file and the environment alike, and
refused in one line naming where, which key, what was given and what is allowed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from hubs.errors import ConfigError
from hubs.services import DEFAULT_URLS, ServiceSettings
from hubs.settings import (
    ENVIRONMENT,
    SCHEMA,
    BusSettings,
    LiveSettings,
    Settings,
    load_settings,
)
from hubs.testing import add_hub, make_engine
from hubsgen.cli import cli

README = Path(__file__).parents[2] / "README.md"


def build_with(config: Path, *args: str):
    """The real CLI: settings are loaded, and refused, before the database is opened."""
    return CliRunner().invoke(cli, ["--config", str(config), "build", *args])


@pytest.mark.parametrize(("toml", "message"), [
    ('retention_days = "forever"',
     'retention_days must be a whole number of days from 1 to 36500, got "forever"'),
    ("retention_days = 36501",
     "retention_days must be a whole number of days from 1 to 36500, got 36501"),
    ("out_dir = 5", "out_dir must be a directory path as non-empty text, got 5"),
    ('out_dir = ""', 'out_dir must be a directory path as non-empty text, got ""'),
    ("db_url = [1]", "db_url must be a database URL as text, like sqlite:///hubs.db, got an array"),
    ("jobs = true", "jobs must be a whole number of processes from 1 to 256, got true"),
    ("jobs = 2.0", "jobs must be a whole number of processes from 1 to 256, got 2.0"),
    ("jobs = 0", "jobs must be a whole number of processes from 1 to 256, got 0"),
    ('[services]\nenabled = "yes"', '[services] enabled must be true or false, got "yes"'),
    ("[services]\ntimeout = 0",
     "[services] timeout must be a number of seconds from 0.1 to 600, got 0"),
    ("[services]\ntimeout = nan",
     "[services] timeout must be a number of seconds from 0.1 to 600, got nan"),
    ("[services]\nretries = -1",
     "[services] retries must be a whole number of retries from 0 to 10, got -1"),
    ('[services]\nurls = "x"', '[services] urls must be a table, got "x"'),
    ('[services.urls]\nbodhi = "ftp://bodhi.example"',
     '[services.urls] bodhi must be an http:// or https:// link, got "ftp://bodhi.example"'),
    ('[services.urls]\nbodhi = "http://[::1"',
     '[services.urls] bodhi must be an http:// or https:// link, got "http://[::1"'),
    ('[services.urls]\nkoji = "https://koji.example"',
     "unknown [services.urls] key(s) koji; valid keys: badges, bodhi, datagrepper, fedocal, "
     "pagure"),
    ('[live]\nevents_url = "//elsewhere.example/events"',
     '[live] events_url must be a path starting with / or an http:// or https:// link, '
     'got "//elsewhere.example/events"'),
    ("[live]\npoll_seconds = {}",
     "[live] poll_seconds must be a number of seconds from 0.5 to 3600, got a table"),
    ("live = 3", "live must be a table, got 3"),
    ('[bus]\nenvironment = "staging"',
     '[bus] environment must be one of prod, stg, dev, got "staging"'),
    ("[bus]\nenvironment = [\"stg\"]",
     "[bus] environment must be one of prod, stg, dev, got an array"),
    (f'retention_days = "{"x" * 80}\\nmore"',
     f'retention_days must be a whole number of days from 1 to 36500, got "{"x" * 57}..."'),
])
def test_a_wrong_value_in_the_file_is_refused_in_one_line(tmp_path, toml, message):
    config = tmp_path / "hubsgen.toml"
    config.write_text(toml + "\n")
    result = build_with(config)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {config}: {message}\n"


def test_a_file_that_is_not_toml_is_refused_naming_it(tmp_path):
    config = tmp_path / "hubsgen.toml"
    config.write_text("jobs = [\n")
    result = build_with(config)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {config}: not a valid TOML file (")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HUBSGEN_RETENTION_DAYS", "forever",
     'retention_days must be a whole number of days from 1 to 36500, got "forever"'),
    ("HUBSGEN_JOBS", "0", 'jobs must be a whole number of processes from 1 to 256, got "0"'),
    ("HUBSGEN_JOBS", "2.5", 'jobs must be a whole number of processes from 1 to 256, got "2.5"'),
    ("HUBSGEN_SERVICES_ENABLED", "yes", '[services] enabled must be true or false, got "yes"'),
    ("HUBSGEN_SERVICES_TIMEOUT", "nan",
     '[services] timeout must be a number of seconds from 0.1 to 600, got "nan"'),
    ("HUBSGEN_LIVE_EVENTS_URL", "javascript:alert(1)",
     '[live] events_url must be a path starting with / or an http:// or https:// link, '
     'got "javascript:alert(1)"'),
    ("HUBSGEN_BUS_ENVIRONMENT", "PROD",
     '[bus] environment must be one of prod, stg, dev, got "PROD"'),
])
def test_a_wrong_environment_variable_is_refused_in_one_line(tmp_path, monkeypatch, name, value,
                                                             message):
    config = tmp_path / "hubsgen.toml"
    config.write_text("jobs = 2\n")
    monkeypatch.setenv(name, value)
    result = build_with(config)
    assert result.exit_code == 1
    assert result.stderr == f"Error: ${name}: {message}\n"


def test_a_valid_file_loads_every_key(tmp_path):
    config = tmp_path / "hubsgen.toml"
    config.write_text('db_url = "sqlite:///x.db"\nout_dir = "site"\njobs = 4\nretention_days = 30\n'
                      '[services]\nenabled = true\ntimeout = 2\nretries = 0\n'
                      '[services.urls]\nbodhi = "http://127.0.0.1:8000/"\n'
                      '[live]\nevents_url = "https://live.example/events"\npoll_seconds = 2.5\n'
                      '[bus]\nenvironment = "stg"\n')
    assert load_settings(config) == Settings(
        db_url="sqlite:///x.db", out_dir=Path("site"), jobs=4, retention_days=30,
        services=ServiceSettings(enabled=True, timeout=2, retries=0,
                                 urls={**DEFAULT_URLS, "bodhi": "http://127.0.0.1:8000/"}),
        live=LiveSettings(events_url="https://live.example/events", poll_seconds=2.5),
        bus=BusSettings(environment="stg"))


def test_the_environment_overrides_the_file_and_options_override_both(tmp_path, monkeypatch):
    config = tmp_path / "hubsgen.toml"
    config.write_text('out_dir = "from-file"\njobs = 2\n[services]\ntimeout = 9\n')
    monkeypatch.setenv("HUBSGEN_OUT_DIR", "from-env")
    monkeypatch.setenv("HUBSGEN_JOBS", "3")
    monkeypatch.setenv("HUBSGEN_SERVICES_ENABLED", "True")
    monkeypatch.setenv("HUBSGEN_LIVE_POLL_SECONDS", "30")
    monkeypatch.setenv("HUBSGEN_BUS_ENVIRONMENT", "dev")
    monkeypatch.setenv("HUBSGEN_RETENTION_DAYS", "")  # empty is unset
    settings = load_settings(config, jobs=5)
    assert (settings.out_dir, settings.jobs, settings.retention_days) == (Path("from-env"), 5, 400)
    assert (settings.services.enabled, settings.services.timeout) == (True, 9)
    assert settings.live.poll_seconds == 30.0
    assert settings.bus.environment == "dev"


def test_hubs_db_url_overrides_the_files_db_url(tmp_path, monkeypatch):
    config = tmp_path / "hubsgen.toml"
    config.write_text('db_url = "sqlite:///file.db"\n')
    monkeypatch.setenv("HUBS_DB_URL", "sqlite:///env.db")
    assert load_settings(config).db_url == "sqlite:///env.db"
    assert load_settings(config, db_url="sqlite:///option.db").db_url == "sqlite:///option.db"


def test_an_environment_override_reaches_the_build(sqlite_url, tmp_path, monkeypatch):
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "designteam", widgets=[("sticky", {"text": "hi"})])
        s.commit()
    engine.dispose()
    config = tmp_path / "hubsgen.toml"
    config.write_text(f'db_url = "{sqlite_url}"\nout_dir = "{tmp_path / "from-file"}"\n')
    monkeypatch.setenv("HUBSGEN_OUT_DIR", str(tmp_path / "from-env"))
    result = build_with(config)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-env" / "designteam" / "index.html").exists()
    assert not (tmp_path / "from-file").exists()


def test_an_option_out_of_range_is_refused_like_the_file():
    with pytest.raises(ConfigError, match="^command line: jobs must be a whole number of "
                                          "processes from 1 to 256, got 300$"):
        load_settings(jobs=300)


def test_every_setting_has_a_rule():
    """A new field without a rule would load unchecked."""
    tables = {"": Settings, "services": ServiceSettings, "live": LiveSettings,
              "bus": BusSettings}
    for table, kind in tables.items():
        names = {f.name for f in dataclasses.fields(kind)} - set(tables) - {"urls"}
        assert names == set(SCHEMA[table]), table
    assert set(SCHEMA["services.urls"]) == set(DEFAULT_URLS)


def test_readme_documents_every_key_and_variable():
    readme = README.read_text()
    for (table, key), name in ENVIRONMENT.items():
        row = f"| `{table + '.' if table else ''}{key}` |"
        assert row in readme, row
        assert f"`{name}`" in readme
