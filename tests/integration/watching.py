"""Run ``hubsgen`` as its users do, in a subprocess, and observe its log and output tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.db import open_engine
from hubs.models import Message
from hubs.testing import T0, add_events, add_hub, make_engine
from hubsgen.demo import messages
from tests.timing import seconds, wait_until

HUBSGEN = Path(sys.executable).parent / "hubsgen"
"""The console script installed next to this interpreter: hubsgen.cli has no __main__."""

Snapshot = dict[str, tuple[bytes, int]]


def run_hubsgen(*args: str, cwd: Path, timeout: float = 120) -> str:
    """Run ``hubsgen ARGS`` to completion, within *timeout* seconds on an idle machine; fail
    with its output unless it exits 0."""
    done = subprocess.run([str(HUBSGEN), *args], cwd=cwd, env=_environment(cwd),
                          capture_output=True, text=True, timeout=seconds(timeout), check=False)
    if done.returncode != 0:
        pytest.fail(f"hubsgen {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def _environment(home: Path) -> dict[str, str]:
    """No ~/.fedmsg.d or fedora-messaging file of whoever runs the tests."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"HUBSGEN_CONFIG", "HUBS_DB_URL", "FEDORA_MESSAGING_CONF"}}
    return {**env, "HOME": str(home)}


@dataclass
class Watch:
    """A running ``hubsgen -v watch``; its log (stderr) and its summary (stdout) go to files."""

    process: subprocess.Popen[bytes]
    log_path: Path
    stdout_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        """Wait until *text* is in the log; fail at once, with the log, if the process died."""
        def seen() -> bool:
            if text in self.log():
                return True
            if self.process.poll() is not None:
                pytest.fail(f"hubsgen watch exited {self.process.returncode} before logging "
                            f"{text!r}:\n{self.log()}")
            return False

        wait_until(seen, f"{text!r} in the log of hubsgen watch", timeout)

    def written(self) -> list[str]:
        """The paths of the "Wrote <hub>/..." lines, in order."""
        marker = " hubsgen.output.hubs: Wrote "
        return [line.split(marker, 1)[1].strip() for line in self.log().splitlines()
                if marker in line]

    def stop(self, timeout: float = 15.0) -> dict[str, int]:
        """SIGTERM, as a service manager would, then reap; return its closing counts."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(seconds(timeout))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"hubsgen watch ignored SIGTERM for {seconds(timeout):.0f} s:\n"
                        f"{self.log()}")
        if self.process.returncode != 0:
            pytest.fail(f"hubsgen watch exited {self.process.returncode}:\n{self.log()}")
        summary = self.stdout_path.read_text(encoding="utf-8").strip()  # "2 matched, 5 received"
        return {name: int(count) for count, name in
                (item.split(" ", 1) for item in summary.split(", ") if item[:1].isdigit())}


@contextmanager
def watching(*args: str, cwd: Path, name: str = "watch",
             config: Path | None = None) -> Iterator[Watch]:
    """Start ``hubsgen [--config CONFIG] -v watch ARGS``, wait until it listens; always stop
    and reap it."""
    log_path, stdout_path = cwd / f"{name}.log", cwd / f"{name}.out"
    settings = ["--config", str(config)] if config else []
    with log_path.open("wb") as log, stdout_path.open("wb") as stdout:
        process = subprocess.Popen([str(HUBSGEN), *settings, "-v", "watch", *args], cwd=cwd,
                                   env=_environment(cwd), stdout=stdout, stderr=log,
                                   stdin=subprocess.DEVNULL)
    watch = Watch(process, log_path, stdout_path)
    try:
        watch.wait_for_log("Listening to")
        yield watch
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def snapshot(out: Path) -> Snapshot:
    """Every file's bytes and mtime, to see exactly which files a run touched."""
    files: Snapshot = {}
    for path in sorted(out.rglob("*")):
        try:
            if path.is_file():
                files[str(path.relative_to(out))] = (path.read_bytes(), path.stat().st_mtime_ns)
        except FileNotFoundError:
            continue  # a temporary file renamed into place while we looked
    return files


def changed_since(out: Path, before: Snapshot) -> set[str]:
    after = snapshot(out)
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def wait_for_changes(out: Path, before: Snapshot, expected: set[str],
                     timeout: float = 30.0) -> None:
    """Wait until every file in *expected* changed (more may have: the caller checks)."""
    wait_until(lambda: expected <= changed_since(out, before),
               f"{sorted(expected)} rewritten", timeout)


@dataclass(frozen=True)
class SmallSite:
    """A built site: ralph's hub (badges, sticky), designteam's (feed, stats) and lounge's."""

    db_url: str
    out: Path
    ralph_badges: int  # the id of ralph's badges widget
    lounge_sticky: int  # the id of lounge's sticky note, which only hub updates refresh


def build_small_site(db_url: str, root: Path) -> SmallSite:
    """Fill *db_url* with three hubs and build them with ``hubsgen build`` into root/build."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            ralph = add_hub(s, "ralph", user_hub=True, widgets=[
                ("badges", {"username": "ralph"}), ("sticky", {"text": "Hi"})])
            add_hub(s, "designteam", members={"owner": ["duffy"], "member": ["mizmo"]},
                    widgets=[("feed", {}), ("stats", {}, "side")])
            lounge = add_hub(s, "lounge", widgets=[("sticky", {"text": "Nothing happens here"})])
            add_events(s, [messages.wiki_edit(T0 - timedelta(days=1), "duffy", "Design")])
            site = SmallSite(db_url, root / "build", ralph.widgets[0].id, lounge.widgets[0].id)
            s.commit()
    finally:
        engine.dispose()
    run_hubsgen("build", "--db", db_url, "--out", str(site.out), cwd=root)
    return site


def stored(db_url: str, msg_ids: Collection[str]) -> set[str]:
    """Which of *msg_ids* are in the message store (msg_id is unique there)."""
    engine = open_engine(db_url)
    try:
        with Session(engine) as s:
            return set(s.scalars(select(Message.msg_id).where(Message.msg_id.in_(msg_ids))))
    finally:
        engine.dispose()


def ralph_award_files(site: SmallSite) -> set[str]:
    """What a badge award for ralph must rewrite: his badges fragment, versions, page and
    feed."""
    return {f"ralph/widgets/{site.ralph_badges}.json", "ralph/versions.json", "ralph/index.html",
            "ralph/feed.atom"}


def badge_award_body(username: str, badge: str) -> dict[str, Any]:
    """A fedbadges.badge.award body as Tahrir sends it."""
    event = messages.badge_award(T0, username, badge, badge.title(), f"Earned {badge}")
    return dict(event.body)


def koji_build_body(owner: str) -> dict[str, Any]:
    """A buildsys.build.state.change body: *owner*'s Koji build completed."""
    return dict(messages.build_complete(T0, owner, "obscure-tool", "1.0", "1.fc45", 4242).body)


PROBE_HUB = {"hub": "lounge"}
"""A hubs.hub.update body for the lounge: its sticky note re-renders to the same bytes, so it
changes no file, yet the watcher logs that the message refreshes lounge/<id>."""
