"""hubsgen build --jobs 2 killed with SIGKILL at random points: no worker outlives it, and the
next build leaves the tree a clean build makes.

Each build runs in a session of its own, so every process it started (its pool's workers)
shares its process group; after the kill that group must empty within 3 s. A zombie counts as
gone: it is dead, waiting for a pid 1 that may never reap it (as in some containers).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from hubsgen.build.stamp import STAMP_FILE
from tests.integration.watching import HUBSGEN, run_hubsgen

log = logging.getLogger(__name__)

POPULATE = Path(__file__).resolve().parents[2] / "populate.py"
KILLS = 20
JOBS = 2
GRACE = 3.0


def live_members(group: int) -> list[str]:
    """Processes of process group *group* that are not zombies, as 'pid (name) state'."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        name, _, rest = stat.partition(" (")[2].rpartition(")")
        state, _ppid, pgrp = rest.split()[:3]
        if int(pgrp) == group and state != "Z":
            members.append(f"{entry.name} ({name}) {state}")
    return members


def end_group(build: subprocess.Popen[bytes]) -> None:
    """Whatever is left of *build*'s group, should an assertion have stopped the test."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(build.pid, signal.SIGKILL)
    build.wait()


def wait_for(condition: object, seconds: float) -> bool:
    """Look at *condition* every 10 ms until it holds or *seconds* pass."""
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def timed(command: list[str]) -> float:
    """Seconds *command* takes: kills are timed by how fast builds are here, now."""
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    return time.monotonic() - started


def tree(out: Path) -> dict[str, bytes]:
    """Every file's bytes, but the stamp's (it holds mtimes)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != STAMP_FILE}


def test_sigkilled_parallel_builds_leave_no_process_and_the_next_build_is_clean(
        tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'hubs.db'}"
    subprocess.run([sys.executable, str(POPULATE), "--db", db_url, "--users", "2000",
                    "--groups", "10", "--seed", "1"], check=True, capture_output=True)
    out = tmp_path / "build"
    command = [str(HUBSGEN), "build", "--db", db_url, "--out", str(out), "--jobs", str(JOBS),
               "--force"]
    subprocess.run(command, check=True, capture_output=True)
    lasts = min(timed(command) for _ in range(2))  # a build over a whole tree, at its quickest
    rng = random.Random(20261102)
    with_workers = finished = 0
    for kill in range(KILLS):
        build = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            # At a random point of the build: in start-up, rendering or writing.
            time.sleep(rng.uniform(0.1, 0.75) * lasts)
            if build.poll() is not None:  # a noisy machine sped up: a finished build, no kill
                finished += 1
                continue
            with_workers += len(live_members(build.pid)) - 1 >= JOBS
            build.kill()
            build.wait()
            gone = wait_for(lambda: not live_members(build.pid), GRACE)  # noqa: B023
            assert gone, f"kill {kill}: alive {GRACE}s after: {live_members(build.pid)}"
        finally:
            end_group(build)
    assert with_workers >= KILLS // 2, (
        f"most kills must land while the workers render: {with_workers} did, "
        f"{finished} builds ended first")
    leftovers = len(list(out.rglob(".tmp-*")))

    run_hubsgen("build", "--db", db_url, "--out", str(out), "--jobs", str(JOBS), cwd=tmp_path)
    clean = tmp_path / "clean"
    run_hubsgen("build", "--db", db_url, "--out", str(clean), cwd=tmp_path)
    assert list(out.rglob(".tmp-*")) == []
    assert tree(out) == tree(clean)
    log.info("%d kills (%d builds ended first), %d with %d workers rendering; "
             "%d temp files left by them, then removed",
             KILLS - finished, finished, with_workers, JOBS, leftovers)
