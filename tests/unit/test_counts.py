"""hub_counts: however messages and people arrive (the bus, an admin, a pruning), the table
holds what a recount from the store makes, and the counting widgets render as a clean build."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.orm import Session

from hubs.counts import recount_all
from hubs.models import Hub, HubCount, Membership, Role
from hubs.settings import load_settings
from hubs.store import prune
from hubs.testing import T0, add_events, add_hub, add_user, fedmsg_envelope, make_engine
from hubsgen.cli import cli
from hubsgen.demo import messages as m
from tests.integration.test_drift import tree_differences
from tests.sites import Site, replay

PEOPLE = [f"user{n}" for n in range(12)]
TEAMS = ["design", "infra", "qa"]
COUNTING = [("activity", {}), ("message_stats", {}, "side")]


def rows_of(conn: Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(
        select(HubCount.hub_id, HubCount.day, HubCount.category, HubCount.messages)
        .order_by(HubCount.hub_id, HubCount.day, HubCount.category))]


def counted(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return rows_of(conn)


def recounted(engine: Engine) -> list[tuple[Any, ...]]:
    """What `recount_all` makes of the store, rolled back so the table stays as it was."""
    with engine.connect() as conn, conn.begin() as transaction:
        recount_all(conn)
        rows = rows_of(conn)
        transaction.rollback()
    return rows


def make_site(db_url: str, tmp_path: Path) -> Site:
    """Three teams of random people, user hubs for most of them, all showing counts."""
    rng = random.Random(3)
    engine = make_engine(db_url)
    with Session(engine) as s:
        for username in PEOPLE[:9]:
            add_hub(s, username, user_hub=True, widgets=COUNTING)
        for team in TEAMS:
            people = rng.sample(PEOPLE, 5)
            add_hub(s, team, members={"owner": people[:1], "member": people[1:4],
                                      "subscriber": people[4:]}, widgets=COUNTING)
        s.commit()
    return Site(engine, load_settings(db_url=db_url, out_dir=tmp_path / "watched"))


def stream(rng: random.Random, start: int, n: int) -> list[dict[str, Any]]:
    """*n* envelopes of several services over days, about one, several or no hub's people,
    with people joining and leaving teams, and a redelivery now and then."""
    envelopes: list[dict[str, Any]] = []
    for i in range(start, start + n):
        when = T0 + timedelta(hours=7 * i + rng.random())
        who = rng.choice([*PEOPLE, "nobody"])
        team = rng.choice(TEAMS)
        kind = rng.randrange(7)
        if kind == 0:
            event = m.badge_award(when, who, f"b{i}", f"Badge {i}", "Earned")
        elif kind == 1:
            event = m.build_complete(when, who, f"pkg{i % 5}", "1.0", f"{i}.fc45", 7_000 + i)
        elif kind == 2:
            event = m.pull_request_opened(when, who, "rpms", f"pkg{i % 5}", i, "Fix",
                                          rng.sample(PEOPLE, 3))
        elif kind == 3:
            event = m.meeting_minutes(when, f"#fedora-{team}", team, "Sync",
                                      rng.sample(PEOPLE, 2), {u: 3 for u in rng.sample(PEOPLE, 4)})
        elif kind == 4:
            event = m.wiki_edit(when, who, f"Page {i}")
        else:
            event = m.group_member_added(when, "admin", who, team)
        envelope = fedmsg_envelope(event)
        if kind == 6:
            envelope["topic"] = envelope["topic"].replace("sponsor", "remove")
            envelope["msg_id"] += "-left"
        envelopes.append(envelope)
        if rng.random() < 0.05:
            envelopes.append(envelope)
    return envelopes


def test_counts_kept_through_the_watcher_equal_a_recount_and_a_clean_build(db_url, tmp_path):
    """Assert a random stream, admin edits between its parts and a pruning leave hub_counts
    as a recount makes it, and the counting widgets' fragments as a clean build writes them."""
    site = make_site(db_url, tmp_path)
    assert site.build().failures == []
    rng = random.Random(11)
    replay(site, tmp_path, *stream(rng, 0, 60), max_batch=7)
    with site.session() as s:  # an admin: someone joins a team, a new hub for a busy user
        infra = s.scalar(select(Hub).where(Hub.name == "infra"))
        joining = next(u for u in PEOPLE if u not in infra.usernames(*Role))
        add_user(s, joining)
        infra.memberships.append(Membership(username=joining, role=Role.MEMBER.value))
        add_hub(s, PEOPLE[10], user_hub=True, widgets=COUNTING)
        s.commit()
    assert site.build().failures == []  # the new hub's files; a running watch polls for them
    replay(site, tmp_path, *stream(rng, 60, 60), max_batch=5)
    assert counted(site.engine) == recounted(site.engine)
    assert len({row[0] for row in counted(site.engine)}) == 13, "every hub counts something"

    pruned_at = T0 + timedelta(days=5, hours=13)  # 8 Nov, 01:00: that day is pruned in part
    with site.session() as s:
        prune(s, pruned_at)
        s.commit()
    assert counted(site.engine) == recounted(site.engine)
    assert min(row[1] for row in counted(site.engine)) == pruned_at.date()

    replay(site, tmp_path, *stream(rng, 120, 20), max_batch=3)
    assert counted(site.engine) == recounted(site.engine)
    clean = Site(site.engine, load_settings(db_url=db_url, out_dir=tmp_path / "clean"))
    assert clean.build().failures == []
    assert tree_differences(tmp_path / "watched", tmp_path / "clean") == []
    site.engine.dispose()


def test_db_recount_rebuilds_the_counts_of_a_database_that_had_none(sqlite_url, tmp_path):
    site = make_site(sqlite_url, tmp_path)
    replay(site, tmp_path, *stream(random.Random(5), 0, 40))
    kept = counted(site.engine)
    assert kept
    with site.engine.begin() as conn:
        conn.execute(delete(HubCount))
    done = CliRunner().invoke(cli, ["db", "recount", "--db", sqlite_url])
    assert done.exit_code == 0, done.output
    assert done.output == "Counted the messages of 12 hubs again\n"
    assert counted(site.engine) == kept
    site.engine.dispose()


def test_a_hub_renamed_or_deleted_by_an_admin_is_recounted(sqlite_url):
    """Assert a team renamed after another group counts that group's messages, and a deleted
    hub leaves no counts behind."""
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "design", widgets=COUNTING)
        add_events(s, [m.meeting_minutes(T0, "#fedora-qa", "qa", "Sync", ["adamw"], {"adamw": 3})])
        s.commit()
        assert counted(engine) == []
        hub = s.scalar(select(Hub).where(Hub.name == "design"))
        hub.name = "qa"
        s.commit()
        assert counted(engine) == [(hub.id, T0.date(), "meetbot", 1)] == recounted(engine)
        s.delete(hub)
        s.commit()
    assert counted(engine) == []
    engine.dispose()
