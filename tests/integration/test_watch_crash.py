"""hubsgen watch killed with SIGKILL mid-burst: no award lost, none stored twice, no torn file.

The AMQP source acknowledges a batch only after its files are written, and handling is
idempotent, so whatever the kill interrupts is delivered again and rewritten once more.
Meanwhile files are replaced atomically, so a reader (nginx) never sees half of one.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hubs.models import Message
from hubsgen.demo import messages
from hubsgen.output.hubs import HUBS_AT_ONCE
from tests.integration.daemon import Broker, broker, build_user_site, watching

log = logging.getLogger(__name__)

USERS = [f"user{n:03d}" for n in range(4 * HUBS_AT_ONCE)]
"""Their first half spans two of the watcher's render chunks, so the kill, sent when the first
fragment is rewritten, lands while the second chunk renders: within one chunk, the files of
every hub were written in a few milliseconds, sometimes before the kill arrived."""
AWARDS_PER_USER = 3


class Reader(threading.Thread):
    """Reads every file over and over, as a web server would, noting any that is not JSON."""

    def __init__(self, files: list[Path]) -> None:
        super().__init__(daemon=True)
        self.files = files
        self.reads = 0
        self.torn: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for path in self.files:
                payload = path.read_bytes()
                self.reads += 1
                try:
                    json.loads(payload)
                except ValueError as e:
                    self.torn.append(f"{path}: {e}: {payload[:60]!r}")

    def __enter__(self) -> Reader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join(10)


def shown(fragment: Path) -> set[str]:
    """The badge ids a badges fragment shows."""
    return {badge["id"] for badge in json.loads(fragment.read_bytes())["data"]["badges"]}


def publish_awards(bus: Broker, topic: str, users: list[str]) -> dict[str, str]:
    """Each user's awards, one user after the other; message id -> badge id."""
    sent = {}
    for username in users:
        for n in range(AWARDS_PER_USER):
            badge = f"{username}-badge{n}"
            body = messages.badge_award(datetime.now(UTC), username, badge, f"Badge {n}",
                                        "Earned in a burst").body
            sent[bus.publish(topic, body)] = badge
    return sent


def stored_ids(db_url: str) -> Counter[str]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return Counter(session.scalars(select(Message.msg_id)))
    finally:
        engine.dispose()


def test_sigkill_mid_burst_loses_no_award_and_serves_no_torn_file(tmp_path: Path,
                                                                  amqp_url: str) -> None:
    """Assert that after SIGKILL mid-burst and a restart, every award shows in its user's
    fragment, the store holds each message once, and no read ever saw a torn file."""
    uid = f"t-{uuid.uuid4().hex[:10]}"
    topic = f"org.{uid}.prod.fedbadges.badge.award"
    args = build_user_site(tmp_path, USERS)
    out = tmp_path / "build"
    fragments = {u: next((out / u / "widgets").glob("[!.]*.json")) for u in USERS}
    files = [*fragments.values(), *(out / u / "versions.json" for u in USERS)]
    half = len(USERS) // 2
    with broker(amqp_url) as bus, Reader(files) as reader:
        env = bus.queue_config(tmp_path / "fedora-messaging.toml", f"hubsgen-{uid}",
                               [f"org.{uid}.prod.#"])
        command = [*args, "--source", "amqp"]
        # Queued before the start, so the kill lands while they are being handled.
        sent = publish_awards(bus, topic, USERS[:half])
        with watching(command, tmp_path / "first.log", env) as first:
            first.wait_for(lambda: any(shown(path) for path in fragments.values()), 60,
                           "a rewritten badges fragment")
            assert first.signal(signal.SIGKILL) == -signal.SIGKILL
        changed_at_kill = [u for u, path in fragments.items() if shown(path)]
        assert 0 < len(changed_at_kill) < half, "the kill came after the first half was done"
        sent |= publish_awards(bus, topic, USERS[half:])  # queued while the daemon is down
        with watching(command, tmp_path / "second.log", env) as second:
            second.wait_for(lambda: all(len(shown(path)) == AWARDS_PER_USER
                                        for path in fragments.values()),
                            120, "every award in its fragment")
            assert second.signal(signal.SIGTERM) == 0
        assert bus.ready(f"hubsgen-{uid}") == 0
    for username, path in fragments.items():
        assert shown(path) == {b for b in sent.values() if b.startswith(f"{username}-")}
    assert stored_ids(db_url=args[args.index("--db") + 1]) == Counter(sent.keys())
    assert reader.torn == []
    assert reader.reads > len(files)
    summary = next(line for line in second.log().splitlines() if "Stopped:" in line)
    log.info("%d of %d fragments changed at the kill; %d reads, none torn; after restart %s; "
             "temp files left: %d", len(changed_at_kill), len(USERS), reader.reads,
             summary.split("Stopped: ")[1], len(list(out.rglob(".tmp-*"))))
