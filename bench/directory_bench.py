"""Benchmark the hub directory at Fedora's size: time to write it, and how big its files are.

    .venv/bin/python bench/directory_bench.py [--users 100000] [--small] [--work DIR]

A population of hubs rows only (hubsgen.demo.hubs_only: one team per 200 users) is written by
the directory writer three times: from nothing, again with nothing changed (pages whose
digest matches are not rendered), and after one user is added. bench/run passes its own
options too; those this script does not know are ignored. Prints a Markdown table.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The project itself, as the other scripts here run it.
from hubs.models import Hub  # noqa: E402
from hubs.plugins import load_widgets  # noqa: E402
from hubs.render import Renderer  # noqa: E402
from hubs.services import Services  # noqa: E402
from hubs.settings import load_settings  # noqa: E402
from hubs.testing import make_engine  # noqa: E402
from hubsgen.demo.hubs_only import insert_hubs_only  # noqa: E402
from hubsgen.demo.population import REFERENCE  # noqa: E402
from hubsgen.output.directory import DirectoryResult, DirectoryWriter  # noqa: E402
from hubsgen.output.files import Output  # noqa: E402
from hubsgen.output.static import publish_static  # noqa: E402

SMALL_USERS = 2_000
TMPFS = Path("/dev/shm")


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--users", default=100_000, show_default=True)
@click.option("--small", is_flag=True, help=f"{SMALL_USERS:,} users: a quick check.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the database and output [default: a temporary one].")
def main(users: int, small: bool, work: Path | None) -> None:
    users = SMALL_USERS if small else users
    base = work or (TMPFS if TMPFS.is_dir() else None)
    place = Path(tempfile.mkdtemp(prefix="hubsgen-directory-", dir=base))
    try:
        print(report(place, users))
    finally:
        shutil.rmtree(place)


def report(place: Path, users: int) -> str:
    db_url = f"sqlite:///{place / 'hubs.db'}"
    engine = make_engine(db_url)
    started = time.perf_counter()
    hubs = insert_hubs_only(engine, users, max(1, users // 200))
    populated = time.perf_counter() - started
    out = Output(place / "build")
    writer = DirectoryWriter(Renderer(load_widgets(), Services(load_settings().services),
                                      REFERENCE, publish_static(out).urls), out)
    try:
        first, first_s = timed(engine, writer)
        again, again_s = timed(engine, writer)
        add_user(engine)
        added, added_s = timed(engine, writer)
    finally:
        engine.dispose()
    pages = [out.root / "index.html", *(out.root / "people").iterdir()]
    index = (out.root / "directory.json").read_bytes()
    largest = max(pages, key=lambda p: p.stat().st_size)
    return "\n".join([
        f"### Directory ({users:,} users, {hubs - users:,} teams, hubs rows only, "
        f"populated in {populated:.1f} s)",
        "",
        "| Write | Seconds | Pages rendered | Files written |",
        "|---|---|---|---|",
        f"| From nothing | {first_s:.2f} | {first.rendered} | {first.written} |",
        f"| Nothing changed | {again_s:.2f} | {again.rendered} | {again.written} |",
        f"| One user added | {added_s:.2f} | {added.rendered} | {added.written} |",
        "",
        "| File | Size |",
        "|---|---|",
        f"| HTML pages (index + people) | {len(pages)} |",
        f"| Largest page ({largest.relative_to(out.root)}) | {kb(largest.stat().st_size)} |",
        f"| index.html | {kb((out.root / 'index.html').stat().st_size)} |",
        f"| directory.json | {kb(len(index))}, {kb(len(gzip.compress(index)))} gzipped |",
        "",
    ])


def timed(engine: Engine, writer: DirectoryWriter) -> tuple[DirectoryResult, float]:
    started = time.perf_counter()
    with Session(engine) as session:
        result = writer.write(session)
    return result, time.perf_counter() - started


def add_user(engine: Engine) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.execute(insert(Hub).values(name="mbenchmark", summary="Bench Mark", avatar="",
                                           archived=False, user_hub=True, created=now,
                                           last_activity=now))
        session.commit()


def kb(size: int) -> str:
    return f"{size / 1000:,.0f} KB"


if __name__ == "__main__":
    main()
