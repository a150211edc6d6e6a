"""Benchmark one hub's rebuild and an administrator's edits at Fedora's size, in CPU seconds.

    .venv/bin/python bench/hub_edit_bench.py [--users 100000] [--small] [--rounds 5]
                                             [--base PATH] [--work DIR]

A database of hubs rows only (hubsgen.demo.hubs_only: one team per 200 users), kept in
~/.cache/hubsgen-bench (or $HUBSGEN_BENCH_CACHE) under a digest of the code that makes it, is
copied, given one user hub with its default widgets (`hubsgen hub create --user`) and built
in full once. Then each case runs as its own `hubsgen` process, --rounds times, and the table
shows the median CPU seconds (user + system) of each:

- `build --hub X` with nothing changed;
- `widget configure X/ID --set text=... --bus none` (the about widget, its text alternating);
- `build --hub X` after the hub's summary was edited in the database;
- `hub archive X [--undo] --bus none`, archived and brought back each round.

With --base, another checkout's code (run through PYTHONPATH) takes its turn with this one's
in every case of every round, which of the two goes first alternating, on the same database
and output: a before/after table. Each run
has the user cache directory of its code ($XDG_CACHE_HOME), inside the work directory, and
Python's compiled modules (PYTHONDONTWRITEBYTECODE is dropped), both filled by a first run of
every case before the rounds: what an administrator's machine holds after the first command.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_CACHE = Path.home() / ".cache" / "hubsgen-bench"
HUB = "hubeditbench"
SMALL_USERS = 2_000
TMPFS = Path("/dev/shm")
MADE_BY = [Path(__file__), ROOT / "hubs" / "models.py", ROOT / "hubsgen" / "demo" / "hubs_only.py",
           ROOT / "hubsgen" / "demo" / "synthetic.py", ROOT / "hubsgen" / "demo" / "population.py"]
"""The code a database's rows come from: a change to any of it makes a new database."""
MAKE_DATABASE = """
import sys
from hubs.testing import make_engine
from hubsgen.demo.hubs_only import insert_hubs_only
engine = make_engine(sys.argv[1])
insert_hubs_only(engine, int(sys.argv[2]), max(1, int(sys.argv[2]) // 200))
engine.dispose()
"""


@dataclass(frozen=True)
class Code:
    """A checkout whose `hubsgen` runs the cases."""

    label: str
    root: Path
    cache: Path

    def env(self) -> dict[str, str]:
        """Modules compiled once, as an installed hubsgen's are, even where the caller's
        environment says not to write them."""
        env = {**os.environ, "PYTHONPATH": str(self.root), "XDG_CACHE_HOME": str(self.cache)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--users", default=100_000, show_default=True)
@click.option("--small", is_flag=True, help=f"{SMALL_USERS:,} users: a quick check.")
@click.option("--rounds", default=5, show_default=True)
@click.option("--base", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Another checkout to measure in turn with this one (before/after).")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the database and output [default: a temporary one].")
def main(users: int, small: bool, rounds: int, base: Path | None, work: Path | None) -> None:
    users = SMALL_USERS if small else users
    place = Path(tempfile.mkdtemp(prefix="hubsgen-hub-edit-",
                                  dir=work or (TMPFS if TMPFS.is_dir() else None)))
    try:
        codes = [Code("after" if base else "CPU s", ROOT, place / "cache-this")]
        if base:
            codes.append(Code("before", base.resolve(), place / "cache-base"))
        print(report(place, users, rounds, codes[::-1]))
    finally:
        shutil.rmtree(place)


def report(place: Path, users: int, rounds: int, codes: list[Code]) -> str:
    db = place / "hubs.db"
    started = time.perf_counter()
    shutil.copyfile(cached_database(users), db)
    bench = Bench(db, place / "build")
    bench.hubsgen(codes[-1], "hub", "create", HUB, "--user", "--summary", "Hub Edit",
                  "--bus", "none")
    bench.hubsgen(codes[-1], "build", "--jobs", "2")
    ready = time.perf_counter() - started
    for code in codes:  # fill each code's cache directory, as a first command would
        for case in bench.cases().values():
            case(code)
    seconds: dict[tuple[str, str], list[float]] = {}
    for n in range(rounds):
        for name, case in bench.cases().items():
            for code in codes if n % 2 == 0 else codes[::-1]:
                seconds.setdefault((name, code.label), []).extend(case(code))
    return table(users, rounds, ready, codes, seconds)


def cached_database(users: int) -> Path:
    """The hubs-only database of *users*, made once and kept."""
    cache = Path(os.environ.get("HUBSGEN_BENCH_CACHE", DEFAULT_CACHE))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in MADE_BY)).hexdigest()[:12]
    path = cache / f"hubs-only-{users}u-{digest}.db"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run([sys.executable, "-c", MAKE_DATABASE, f"sqlite:///{partial}",
                        str(users)], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        partial.replace(path)
    return path


class Bench:
    """The cases, on one database and output directory."""

    def __init__(self, db: Path, out: Path) -> None:
        self.db, self.out = db, out
        self.runs = 0

    def cases(self) -> dict[str, Callable[[Code], list[float]]]:
        return {"`build --hub X`, nothing changed": self.build,
                "`widget configure … --bus none`": self.configure,
                "summary edited, then `build --hub X`": self.edit_summary,
                "`hub archive [--undo] --bus none`": self.archive}

    def hubsgen(self, code: Code, *args: str) -> float:
        """CPU seconds of one `hubsgen` process, user and system, its workers included."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([str(BIN / "hubsgen"), *args, "--db", f"sqlite:///{self.db}",
                               "--out", str(self.out)], env=code.env(), capture_output=True,
                              text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"hubsgen {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout}\n{done.stderr}")
        self.runs += 1
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    def build(self, code: Code) -> list[float]:
        return [self.hubsgen(code, "build", "--hub", HUB)]

    def configure(self, code: Code) -> list[float]:
        ref = f"{HUB}/{self.query('SELECT w.id FROM widgets w JOIN hubs h ON h.id = w.hub_id '
                                   'WHERE h.name = ? AND w.plugin = ?', HUB, 'about')}"
        return [self.hubsgen(code, "widget", "configure", ref, "--set",
                             f"text=Edit number {self.runs}.", "--bus", "none")]

    def edit_summary(self, code: Code) -> list[float]:
        with sqlite3.connect(self.db) as conn:
            conn.execute("UPDATE hubs SET summary = ? WHERE name = ?",
                         (f"Hub Edit {self.runs}", HUB))
        conn.close()
        return self.build(code)

    def archive(self, code: Code) -> list[float]:
        return [self.hubsgen(code, "hub", "archive", HUB, "--bus", "none"),
                self.hubsgen(code, "hub", "archive", HUB, "--undo", "--bus", "none")]

    def query(self, sql: str, *args: str) -> object:
        with sqlite3.connect(self.db) as conn:
            value = conn.execute(sql, args).fetchone()[0]
        conn.close()
        return value


def table(users: int, rounds: int, ready: float, codes: list[Code],
          seconds: dict[tuple[str, str], list[float]]) -> str:
    lines = [f"### One hub at {users:,} users (hubs rows only, a user hub with its default "
             f"widgets; CPU s, median of {rounds} rounds; ready in {ready:.0f} s)", "",
             "| case | " + " | ".join(code.label for code in codes) + " |",
             "|---" * (len(codes) + 1) + "|"]
    for name in dict.fromkeys(name for name, _ in seconds):
        lines.append(f"| {name} | " + " | ".join(
            f"{statistics.median(seconds[name, code.label]):.3f}" for code in codes) + " |")
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    main()
