"""hubsgen watch, fed by the replay source: only affected files change, idempotently."""

from __future__ import annotations

import gc
import json
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs.models import Hub, Membership
from hubs.settings import load_settings
from hubs.testing import T0, add_events, add_hub, fedmsg_envelope, make_engine
from hubs.understand import legacy
from hubsgen.build.run import run_build
from hubsgen.cli import cli
from hubsgen.demo import messages
from hubsgen.watch import daemon
from hubsgen.watch.daemon import open_watcher
from hubsgen.watch.sources.replay import ReplaySource
from tests.integration.test_drift import tree_differences
from tests.sites import Site, award, replay, widget_id


@pytest.fixture
def site(watched_site):
    return watched_site


def test_a_badge_rewrites_only_that_users_badges_fragment_page_and_feed(site, tmp_path):
    before = site.snapshot()
    stats = replay(site, tmp_path, award(1))
    badges = widget_id(site, "ralph", "badges")
    assert site.changed_since(before) == {
        f"ralph/widgets/{badges}.json", "ralph/versions.json", "ralph/index.html",
        "ralph/feed.atom"}
    assert "Tester" in site.fragment("ralph", badges)["html"]
    assert stats["matched"] == 1 and stats["rewritten"] == 4


def test_the_watcher_hides_its_start_up_from_the_collector_while_it_runs(site, tmp_path,
                                                                        monkeypatch):
    """Its readers are loaded and frozen with the rest of its start-up, so a full collection
    during a batch walks only what batches made; a process that goes on gets them back."""
    seen = {}
    handle = daemon.Pipeline.handle

    def spy(pipeline, batch):
        seen["frozen"] = gc.get_freeze_count()
        seen["processors loaded"] = legacy.processors.cache_info().currsize
        handle(pipeline, batch)
    monkeypatch.setattr(daemon.Pipeline, "handle", spy)
    replay(site, tmp_path, award(1))
    assert seen["frozen"] > 10_000 and seen["processors loaded"] == 1
    assert gc.get_freeze_count() == 0


def test_a_redelivered_message_changes_nothing(site, tmp_path):
    replay(site, tmp_path, award(1))
    before = site.snapshot()
    stats = replay(site, tmp_path, award(1))
    assert stats["duplicate"] == 1
    assert site.changed_since(before) == set()


def test_a_burst_is_rendered_once_per_batch_and_ends_fresh(site, tmp_path):
    burst = [award(1 + n / 1000, badge=f"badge{n:03d}") for n in range(100)]
    stats = replay(site, tmp_path, *burst, max_batch=1000)
    assert stats["matched"] == 100
    assert stats["rewritten"] == 4, "one fragment, versions.json, page, feed: rendered once"
    html = site.fragment("ralph", widget_id(site, "ralph", "badges"))["html"]
    assert "Badge099" in html


def test_malformed_messages_are_counted_and_skipped(site, tmp_path):
    stats = replay(site, tmp_path, "{not json", '{"topic": 3}', "[]", award(1))
    assert stats["malformed"] == 3
    assert stats["matched"] == 1
    assert "Tester" in site.fragment("ralph", widget_id(site, "ralph", "badges"))["html"]


def test_a_group_sponsorship_adds_the_member_and_reindexes(site, tmp_path):
    sponsor = messages.group_member_added(T0 + timedelta(days=1), "duffy", "ralph",
                                          "designteam")
    stats_widget = widget_id(site, "designteam", "stats")
    replay(site, tmp_path, fedmsg_envelope(sponsor))
    with site.session() as s:
        roles = s.scalars(select(Membership.role).join(Hub).where(
            Hub.name == "designteam", Membership.username == "ralph")).all()
    assert roles == ["member"]
    shown = site.fragment("designteam", stats_widget)["data"]["stats"]
    counts = {stat["role"]: stat["count"] for stat in shown}
    assert counts["member"] == 1
    feed = widget_id(site, "designteam", "feed")
    before = site.fragment("designteam", feed)
    # ralph is a member now, so his next badge reaches the team's feed.
    replay(site, tmp_path, award(2, badge="mentor"))
    after = site.fragment("designteam", feed)
    assert after["version"] != before["version"] and "Mentor" in after["html"]


def test_a_team_left_in_a_later_batch_shows_it_without_a_restart(site, tmp_path):
    """The watcher keeps the hubs it renders loaded between batches: a membership message
    must leave no stale copy behind for the next batch to render from."""
    stats_widget = widget_id(site, "designteam", "stats")
    before = site.fragment("designteam", stats_widget)["data"]
    joined = fedmsg_envelope(messages.group_member_added(
        T0 + timedelta(days=1), "duffy", "ralph", "designteam"))
    left = joined | {"topic": "org.fedoraproject.prod.fas.group.member.remove",
                     "msg_id": "ralph-leaves", "timestamp": joined["timestamp"] + 60}
    stats = replay(site, tmp_path, joined, left, max_batch=1)
    assert stats["matched"] == 2
    assert site.fragment("designteam", stats_widget)["data"] == before


def test_a_member_removed_and_added_sees_it_on_their_own_hub(sqlite_url, tmp_path):
    """Noggin's add and remove messages name the person only inside {"msg": {...}}, which the
    fedmsg-era readers miss: the person's hub must hear of it all the same, and the watched
    tree stay what a clean build writes."""
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "ralph", user_hub=True, widgets=[("subscriptions", {}), ("feed", {})])
        add_hub(s, "designteam", members={"owner": ["duffy"], "member": ["ralph"]},
                widgets=[("feed", {}), ("stats", {})])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "watched"))
    assert site.build().failures == []
    subscriptions = widget_id(site, "ralph", "subscriptions")
    assert "designteam" in site.fragment("ralph", subscriptions)["html"]
    sponsored = fedmsg_envelope(messages.group_member_added(
        T0 + timedelta(days=1), "duffy", "ralph", "designteam"))
    removed = sponsored | {"topic": "org.fedoraproject.prod.fas.group.member.remove",
                           "msg_id": "ralph-removed"}
    replay(site, tmp_path, removed)
    assert "designteam" not in site.fragment("ralph", subscriptions)["html"]
    added = sponsored | {"topic": "org.fedoraproject.prod.fas.group.member.add",
                         "msg_id": "ralph-added", "timestamp": sponsored["timestamp"] + 60}
    replay(site, tmp_path, added)
    assert "designteam" in site.fragment("ralph", subscriptions)["html"]
    clean = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "clean"))
    assert clean.build().failures == []
    assert tree_differences(site.out, clean.out) == []
    engine.dispose()


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
def test_a_removal_delivered_twice_in_one_batch_removes_once(site, tmp_path):
    """The bus delivers a removal twice (a redelivery): the second finds the member gone."""
    joined = fedmsg_envelope(messages.group_member_added(
        T0 + timedelta(days=1), "duffy", "ralph", "designteam"))
    left = joined | {"topic": "org.fedoraproject.prod.fas.group.member.remove",
                     "msg_id": "ralph-leaves", "timestamp": joined["timestamp"] + 60}
    replay(site, tmp_path, joined)
    stats = replay(site, tmp_path, left, left)
    with site.session() as s:
        roles = s.scalars(select(Membership.role).join(Hub).where(
            Hub.name == "designteam", Membership.username == "ralph")).all()
    assert roles == []
    assert stats["quarantined"] == 0


def test_explain_says_what_it_understood_and_what_it_would_refresh(site, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(award(1), indent=2))
    before = site.snapshot()
    result = CliRunner().invoke(cli, ["explain", "--db", site.settings.db_url, str(path)])
    assert result.exit_code == 0, result.output
    badges = widget_id(site, "ralph", "badges")
    assert "fedbadges.badge.award: users ralph;" in result.output
    assert f"-> ralph/{badges} (badges)" in result.output
    result = CliRunner().invoke(cli, ["explain", "--json", "--db", site.settings.db_url,
                                      str(path)])
    line = json.loads(result.output)
    assert line["usernames"] == ["ralph"]
    assert line["refreshes"] == [{"widget": f"ralph/{badges}", "plugin": "badges"}]
    assert site.changed_since(before) == set()


def test_irc_nicks_are_stored_as_the_account_the_directory_names(site, tmp_path):
    from hubs.models import AliasKind, Message, TagKind, UserAlias

    with site.session() as s:
        s.add(UserAlias(username="ralph", kind=AliasKind.NICK.value, value="threebean"))
        s.commit()
    replay(site, tmp_path, {
        "topic": "org.fedoraproject.prod.meetbot.meeting.start", "msg_id": "m-nick",
        "timestamp": (T0 + timedelta(days=1)).timestamp(),
        "msg": {"attendees": {"threebean": 2}, "chairs": {}, "channel": "#channel",
                "meeting_topic": "title", "owner": "threebean",
                "url": "http://logs.com/awesome"}})
    with site.session() as s:
        message = s.scalar(select(Message).where(Message.msg_id == "m-nick"))
        assert message.names(TagKind.USER) == ["ralph"]
        assert message.summary.startswith("ralph started meeting")


def built_with_a_meeting_today(sqlite_url: str, tmp_path) -> tuple[Site, int]:
    """ralph's hub, and designteam's with a meeting two hours after T0; built. The site and
    the id of its meetings widget."""
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "ralph", user_hub=True, widgets=[("badges", {"username": "ralph"})])
        add_hub(s, "designteam", members={"owner": ["duffy"]}, widgets=[("meetings", {})])
        add_events(s, [messages.meeting_scheduled(
            T0 - timedelta(days=3), "duffy", "designteam", 7, "Icon review",
            T0 + timedelta(hours=2), 60, "#fedora-design", "")])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    assert site.build().failures == []
    return site, widget_id(site, "designteam", "meetings")


def test_a_new_utc_day_rerenders_daily_widgets_no_message_touched(sqlite_url, tmp_path):
    """Assert a message for ralph on the next day takes the meeting that day left behind off
    designteam's calendar: the meetings widget is daily, and designteam heard nothing."""
    site, meetings = built_with_a_meeting_today(sqlite_url, tmp_path)
    assert "Icon review" in site.fragment("designteam", meetings)["html"]

    replay(site, tmp_path, award(0.4))  # 2 Nov, 21:36: the meeting is still today's
    assert "Icon review" in site.fragment("designteam", meetings)["html"]
    replay(site, tmp_path, award(1))
    assert "Icon review" not in site.fragment("designteam", meetings)["html"]
    site.engine.dispose()


def test_a_day_turn_lets_messages_through_between_its_slices(sqlite_url, tmp_path,
                                                             monkeypatch):
    """A large site's turn takes minutes: it goes a slice of hubs at a time between batches,
    and a source that runs dry mid-turn still leaves every daily widget turned."""
    from hubsgen.watch import pipeline

    site, _ = built_with_a_meeting_today(sqlite_url, tmp_path)
    with site.session() as s:
        for team in ("infra", "qa", "docs"):
            add_hub(s, team, members={"owner": ["duffy"]}, widgets=[("meetings", {})])
            add_events(s, [messages.meeting_scheduled(
                T0 - timedelta(days=3), "duffy", team, 8, f"{team} sync",
                T0 + timedelta(hours=2), 60, f"#fedora-{team}", "")])
        s.commit()
    assert site.build().failures == []
    monkeypatch.setattr(pipeline, "TURN_SLICE", 1)
    calls: list[str] = []
    for name in ("handle", "catch_up"):
        original = getattr(pipeline.Pipeline, name)

        def spy(self, *args, _name=name, _original=original):
            calls.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(pipeline.Pipeline, name, spy)
    replay(site, tmp_path, award(1), award(1.1, badge="second"), max_batch=1)
    assert calls[:4] == ["handle", "catch_up", "handle", "catch_up"]
    assert calls.count("catch_up") == 4, "one hub per slice, the last after the source ran dry"
    for team in ("designteam", "infra", "qa", "docs"):
        assert " sync" not in site.fragment(team, widget_id(site, team, "meetings"))["html"]
    assert "Icon review" not in site.fragment("designteam",
                                              widget_id(site, "designteam", "meetings"))["html"]
    site.engine.dispose()


def test_the_awarded_users_own_hub_is_written_before_their_teams(sqlite_url, tmp_path, caplog):
    """Every file of it, before any of the team's, though the team's id comes first."""
    engine = make_engine(sqlite_url)
    with Session(engine) as s:  # the team first, so its hub's id comes before the user's
        add_hub(s, "designteam", members={"owner": ["duffy"], "member": ["ralph"]},
                widgets=[("feed", {})])
        add_hub(s, "ralph", user_hub=True, widgets=[("badges", {"username": "ralph"})])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    assert run_build(site.settings).failures == []
    caplog.set_level("INFO", logger="hubsgen.output.hubs")
    replay(site, tmp_path, award(1))
    engine.dispose()
    written = [record.args[0].split("/")[0] for record in caplog.records
               if record.msg == "Wrote %s"]
    assert "designteam" in written, "the team's feed shows ralph's badge too"
    assert written == sorted(written, key=lambda hub: hub != "ralph"), written


def test_the_bus_position_moves_on_and_never_back(site, tmp_path, caplog):
    """A restart on a source that cannot redeliver names the last message handled, for an
    operator to backfill from; a late message sent before it does not move it back."""
    newest, late = award(2, badge="newest"), award(1, badge="late")
    replay(site, tmp_path, newest)
    replay(site, tmp_path, late)
    caplog.set_level("WARNING", logger="hubsgen.watch.daemon")
    with open_watcher(site.settings) as watcher:
        watcher.report_gap()
    assert f"Last message handled before this start: {newest['msg_id']} at " in caplog.text


def test_a_running_watcher_assembles_pages_from_the_fragments_it_wrote(site, tmp_path):
    """The page of a hub it wrote twice lately takes the other widgets' fragments from
    memory, not from their files: a file edited behind its back reaches no page. A hub
    written once is not kept: most wait long for their next message."""
    sticky = site.out / "ralph" / "widgets" / f"{widget_id(site, 'ralph', 'sticky')}.json"
    page = site.out / "ralph" / "index.html"
    lines = [award(1), award(2, badge="mentor"), award(3, badge="packager")]
    with open_watcher(site.settings) as watcher:
        for n, line in enumerate(lines):
            if n:
                doc = json.loads(sticky.read_bytes())
                sticky.write_text(json.dumps(doc | {"html": f"<p>Edited by hand {n}</p>"}))
            path = tmp_path / f"replay-{n}.jsonl"
            path.write_text(json.dumps(line) + "\n")
            watcher.run(ReplaySource(str(path)), threading.Event())
            if n == 1:
                assert "Edited by hand 1" in page.read_text(), "written once: read back"
    assert "Packager" in page.read_text() and "Edited by hand 2" not in page.read_text()


def test_a_failing_day_turn_is_logged_and_tried_again_without_stopping_the_watcher(
        sqlite_url, tmp_path, monkeypatch, caplog):
    """A bug in the day turn (timed work, not a message's fault) must not end the loop: the
    next batch is handled, and the turn runs again after it."""
    from hubsgen.watch.pipeline import Pipeline

    site, meetings = built_with_a_meeting_today(sqlite_url, tmp_path)
    catch_up = Pipeline.catch_up
    calls = []

    def fails_once(pipeline: Pipeline) -> None:
        calls.append(pipeline)
        if len(calls) == 1:
            raise RuntimeError("a bug in the day turn")
        catch_up(pipeline)

    monkeypatch.setattr(Pipeline, "catch_up", fails_once)
    stats = replay(site, tmp_path, award(1, badge="first"), award(1.1, badge="second"),
                   max_batch=1)
    assert stats["periodic_failures"] == 1
    assert "a bug in the day turn" in caplog.text
    badges = site.fragment("ralph", widget_id(site, "ralph", "badges"))["html"]
    assert "First" in badges and "Second" in badges
    assert "Icon review" not in site.fragment("designteam", meetings)["html"]
    site.engine.dispose()
