"""The hubsgen command line: summary line, exit codes, errors without tracebacks."""

from __future__ import annotations

import ipaddress
import shlex
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session

from hubs.testing import add_hub, make_engine
from hubsgen.cli import cli


def make_db(url: str, boom_config: dict[str, object]) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        add_hub(s, "designteam", widgets=[("sticky", {"text": "hi"}), ("boom", boom_config)])
        s.commit()
    engine.dispose()


def test_build_prints_a_one_line_summary(sqlite_url, tmp_path, boom_plugin):
    make_db(sqlite_url, {})
    result = CliRunner().invoke(cli, ["build", "--db", sqlite_url, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Built 1 hubs, 2 widgets: ")
    assert "unchanged, 0 removed in " in result.output


def test_failing_widget_exits_non_zero_naming_it(sqlite_url, tmp_path, boom_plugin):
    make_db(sqlite_url, {"fail": True})
    result = CliRunner().invoke(cli, ["build", "--db", sqlite_url, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "1 widget(s) failed" in result.stdout
    assert "failed: widget designteam/2 (boom): RuntimeError: the tracker is down" in result.stderr


def test_db_url_comes_from_the_environment(sqlite_url, tmp_path, boom_plugin, monkeypatch):
    make_db(sqlite_url, {})
    monkeypatch.setenv("HUBS_DB_URL", sqlite_url)
    result = CliRunner().invoke(cli, ["build", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "designteam" / "index.html").exists()


def test_user_errors_are_one_sentence_without_traceback(sqlite_url, tmp_path, boom_plugin):
    make_db(sqlite_url, {"colour": "red"})
    out = str(tmp_path / "o")
    result = CliRunner().invoke(cli, ["build", "--db", sqlite_url, "--out", out, "--hub", "x"])
    assert result.exit_code == 1
    assert result.stderr == "Error: no hub named x\n"
    result = CliRunner().invoke(cli, ["build", "--db", sqlite_url, "--out", out])
    assert "unknown argument(s) colour; valid arguments: fail, word" in result.stderr


def test_config_file_is_layered_and_unknown_keys_refused(sqlite_url, tmp_path, boom_plugin):
    make_db(sqlite_url, {})
    config = tmp_path / "hubsgen.toml"
    config.write_text(f'db_url = "{sqlite_url}"\nout_dir = "{tmp_path / "from-file"}"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "build"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-file" / "index.html").exists()

    config.write_text('colour = "red"\n[services]\nenabled = true\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "build"])
    assert result.exit_code == 1
    assert ("unknown key(s) colour; valid keys: bus, db_url, jobs, live, out_dir, "
            "retention_days, services") in result.stderr


def test_live_settings_reach_the_hub_page(sqlite_url, tmp_path, boom_plugin):
    make_db(sqlite_url, {})
    config = tmp_path / "hubsgen.toml"
    out = tmp_path / "out"
    config.write_text(f'out_dir = "{out}"\n[live]\nevents_url = "https://live.example/events"\n'
                      'poll_seconds = 2.5\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "build", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    page = (out / "designteam" / "index.html").read_text()
    assert 'data-events="https://live.example/events" data-poll-seconds="2.5"' in page

    config.write_text("[live]\npoll_seconds = 0\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "build", "--db", sqlite_url])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {config}: [live] poll_seconds must be a number of seconds "
                             "from 0.5 to 3600, got 0\n")


def test_log_json_writes_one_object_per_line(sqlite_url, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "designteam", widgets=[("sticky", {"text": "hi"})])
        s.commit()
    engine.dispose()
    hubsgen = Path(sys.executable).parent / "hubsgen"
    result = subprocess.run([str(hubsgen), "--log-json", "-v", "build", "--db", sqlite_url,
                             "--out", str(tmp_path / "o")], capture_output=True, text=True,
                            check=True)
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"] == "Wrote designteam/index.html" and r["level"] == "info"
               for r in records)


def test_a_trusted_proxy_must_be_an_address_or_network(tmp_path):
    result = CliRunner().invoke(cli, ["events", "--trusted-proxy", "nginx", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 2
    assert "Invalid value for --trusted-proxy: 'nginx'" in result.output


def test_the_shipped_events_unit_trusts_only_nginx_on_the_same_host():
    """nginx's upstream is the shim's --listen address on loopback, so nginx connects from
    127.0.0.1: that, and nothing wider, is the proxy the unit must trust."""
    deploy = Path(__file__).resolve().parents[2] / "deploy"
    unit = (deploy / "hubsgen-events.service").read_text(encoding="utf-8")
    [exec_start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    args = shlex.split(exec_start)
    params = cli.commands["events"].make_context("events", args[args.index("events") + 1:]).params
    assert params["trusted_proxies"] == (ipaddress.ip_network("127.0.0.1"),)
    upstream = f"server {params['listen']};"
    assert upstream in (deploy / "nginx" / "hubs.conf").read_text(encoding="utf-8")


def test_help_loads_no_database_layer_nor_web_client():
    """Start-up stays quick: `hubsgen --help` and `hubsgen hub --help` import neither
    SQLAlchemy nor requests; commands import what they use when they run."""
    import subprocess
    import sys

    script = ("import sys; from hubsgen.cli import cli\n"
              "for args in (['--help'], ['hub', '--help'], ['rejected', '--help']):\n"
              "    try: cli(args)\n"
              "    except SystemExit: pass\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'requests', "
              "'jinja2', 'fedora_messaging', 'fedmsg'}))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.splitlines()[-1] == "[]", result.stderr


def test_a_build_with_web_services_off_loads_no_web_client(tmp_path):
    """Web services are off by default, so a build never needs requests: loading it was a
    tenth of a one-hub build's start-up."""
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path / 'hubs.db'}"
    subprocess.run([sys.executable, "populate.py", "--db", db], check=True, capture_output=True,
                   cwd=Path(__file__).resolve().parents[2])
    script = ("import sys; from hubsgen.cli import cli\n"
              f"try: cli(['build', '--db', {db!r}, '--out', {str(tmp_path / 'build')!r}])\n"
              "except SystemExit as e: assert not e.code, e.code\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'requests', 'urllib3'}))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.splitlines()[-1] == "[]", result.stderr
