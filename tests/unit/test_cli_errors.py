"""Mistakes and faults a user can fix read as one line, ``Error: ...``, naming the database,
file or directory and what to do; no traceback, and no output directory made by a command that
fails before its work."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hubs.testing import add_hub, make_engine
from tests.conftest import require

HUBSGEN = Path(sys.executable).parent / "hubsgen"


def hubsgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``hubsgen ARGS`` in *cwd*, with no database in the environment."""
    env = {k: v for k, v in os.environ.items() if k not in {"HUBS_DB_URL", "HUBSGEN_CONFIG"}}
    return subprocess.run([str(HUBSGEN), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def one_line_error(done: subprocess.CompletedProcess[str], status: int = 1) -> str:
    """The error of a command that must have failed with *status* and one line of stderr."""
    assert done.returncode == status, done.stderr
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, done.stderr
    return done.stderr.removeprefix("Error: ").rstrip("\n")


def make_site(url: str, hubs: int = 1) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        for n in range(hubs):
            add_hub(s, f"team{n:03d}", widgets=[("sticky", {"text": f"Note {n}"})])
        s.commit()
    engine.dispose()


@pytest.mark.parametrize("command", [["build"], ["member", "add", "qa", "ralph"],
                                     ["watch", "--once", "--source", "replay:-"]])
def test_a_missing_sqlite_file_is_not_created(tmp_path, command):
    done = hubsgen(*command, "--db", "sqlite:///missing.db", "--out", "build", cwd=tmp_path)
    assert one_line_error(done) == (
        "database missing.db does not exist: create it with python populate.py --db "
        "sqlite:///missing.db (demo data), or start empty with hubsgen hub create NAME --db "
        "sqlite:///missing.db")
    assert sorted(os.listdir(tmp_path)) == [], "neither the database nor build/ is made"


def test_a_database_in_a_missing_directory(tmp_path):
    done = hubsgen("build", "--db", "sqlite:////nonexistent/dir/x.db", "--out", "build",
                   cwd=tmp_path)
    assert one_line_error(done) == ("database /nonexistent/dir/x.db: its directory "
                                    "/nonexistent/dir does not exist: create it, or fix the URL")
    assert not (tmp_path / "build").exists()


def test_a_db_option_that_is_not_a_url(tmp_path):
    done = hubsgen("build", "--db", "hubs.db", "--out", "build", cwd=tmp_path)
    assert one_line_error(done) == (
        "database URL 'hubs.db' is not a URL: use sqlite:///hubs.db for a SQLite file, or "
        "postgresql+psycopg://USER@HOST/NAME")
    assert sorted(os.listdir(tmp_path)) == []


def test_an_unreachable_postgresql(tmp_path):
    done = hubsgen("build", "--db", "postgresql+psycopg://127.0.0.1:1/x", "--out", "build",
                   cwd=tmp_path)
    error = one_line_error(done)
    assert error.startswith("database postgresql+psycopg://127.0.0.1:1/x is not reachable (")
    assert "Connection refused" in error
    assert error.endswith("): check that it is running and that the URL is right")
    assert not (tmp_path / "build").exists()


def test_a_database_without_tables_or_without_hubs(tmp_path):
    (tmp_path / "empty.db").touch()
    done = hubsgen("build", "--db", "sqlite:///empty.db", "--out", "build", cwd=tmp_path)
    assert one_line_error(done).startswith(
        "database sqlite:///empty.db has no hubs tables: create them with python populate.py "
        "--db sqlite:///empty.db (demo data)")
    make_engine(f"sqlite:///{tmp_path / 'none.db'}").dispose()
    done = hubsgen("build", "--db", "sqlite:///none.db", "--out", "build", cwd=tmp_path)
    assert one_line_error(done) == (
        "database sqlite:///none.db holds no hubs, and a build of none would empty build: "
        "create one with hubsgen hub create NAME --db sqlite:///none.db")
    assert not (tmp_path / "build").exists()


def test_a_missing_replay_file(tmp_path):
    make_site(f"sqlite:///{tmp_path / 'hubs.db'}")
    done = hubsgen("watch", "--source", "replay:MISSING", "--once", "--db", "sqlite:///hubs.db",
                   "--out", "build", cwd=tmp_path)
    assert one_line_error(done) == ("replay file MISSING does not exist: give --source "
                                    "replay:PATH of a JSON-lines file, or replay:- for stdin")
    assert not (tmp_path / "build").exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KiB tmpfs of our own, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        require("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        require(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_during_a_build(tmp_path, small_disk, jobs):
    make_site(f"sqlite:///{tmp_path / 'hubs.db'}", hubs=120)
    out = small_disk / "build"
    done = hubsgen("build", "--db", "sqlite:///hubs.db", "--out", str(out), "--jobs", jobs,
                   cwd=tmp_path)
    assert one_line_error(done) == (f"no space left for the output directory {out} (No space "
                                    "left on device): free some space there, then build again")
    assert list(out.rglob(".tmp-*")) == [], "no half-written file is left behind"
