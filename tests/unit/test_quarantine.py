"""Every message has an outcome: what cannot be handled is quarantined, and the rest goes on.

Each case that once stopped ``hubsgen watch`` goes through the replay source (whose code paths
every source shares) beside a valid award: the watcher finishes, the bad message is kept with
its reason, the award is shown, and ``hubsgen rejected`` lists, shows, retries and purges it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hubs.bodies import BodyError
from hubs.models import Membership, QuarantinedMessage
from hubs.plugins import Registry
from hubs.testing import T0
from hubsgen.cli import cli
from tests.sites import Site, award, replay, widget_id

MEMBER_ADD = "org.fedoraproject.prod.fas.group.member.add"


def envelope(msg_id: str, topic: str, body: object, when: datetime = T0) -> dict[str, object]:
    return {"topic": topic, "msg": body, "msg_id": msg_id, "timestamp": when.timestamp()}


def joining(msg_id: str, username: object) -> dict[str, object]:
    return envelope(msg_id, MEMBER_ADD, {"msg": {"user": username, "group": "designteam",
                                                 "agent": "duffy"}})


def quarantined(site: Site) -> dict[str, QuarantinedMessage]:
    with site.session() as session:
        return {e.msg_id: e for e in session.scalars(select(QuarantinedMessage))}


def shows_award(site: Site) -> bool:
    return "Tester" in str(site.fragment("ralph", widget_id(site, "ralph", "badges"))["html"])


@pytest.mark.parametrize(("line", "stage", "reason"), [
    (b'{"topic": "x", "msg": {"a": "\xff"}, "msg_id": "m", "timestamp": 1}', "decode",
     "not JSON: 'utf-8' codec can't decode byte 0xff"),
    (b"[" * 100_000 + b"]" * 100_000, "decode", "nested too deeply"),
    (json.dumps(envelope("deep", "a.b", json.loads('{"a":' * 60 + "1" + "}" * 60))), "check",
     "body nests deeper than 40 levels"),
    (json.dumps(envelope("member-x", MEMBER_ADD, {"msg": "x"})), "read",
     "hub membership cannot read this fas.group.member.add: 'msg' is text, not an object"),
    (json.dumps(joining("surrogate", "\ud800")), "check",
     "body holds the character U+D800 at msg.user"),
    (json.dumps(joining("escape", "ral\x1b[31mph")), "check",
     "body holds the character U+001B at msg.user"),
    (json.dumps(joining("newline", "ralph\n")), "read", "the user must be a Fedora account"),
    (json.dumps(joining("empty", "")), "read", "the user must be a Fedora account"),
    (json.dumps(joining("zero-width", "ral\u200bph")), "read", "must be a Fedora account"),
    (json.dumps(joining("long", "r" * 5000)), "read", "must be a Fedora account"),
    (json.dumps(envelope("nan", "a.b", {"x": float("nan")})), "check",
     "body holds nan, which JSON has no number for, at x"),
    (json.dumps(envelope("future", "a.b", {}, datetime(2999, 1, 1, tzinfo=UTC))), "check",
     "it was sent at 2999-01-01T00:00:00+00:00, in the future"),
    (json.dumps(envelope("x" * 200, "a.b", {})), "check", "message id must be 1 to 128"),
    (json.dumps(envelope("topic", "a b\u0000", {})), "check", "topic must be 1 to 255"),
    (json.dumps(envelope("no-badge", "org.fedoraproject.prod.fedbadges.badge.award",
                         {"user": {"username": "ralph"}, "badge": {"badge_id": ["a"]}})),
     "read", "the badges widget cannot read this fedbadges.badge.award: 'badge.name' is missing"),
    (json.dumps(envelope("no-alias", "org.fedoraproject.prod.bodhi.update.requirements_met."
                         "stable", {"update": {"user": {"name": "ralph"},
                                               "date_submitted": "2026-11-01 00:00:00"}})),
     "read", "'update' has no alias, title or builds to name it by"),
])
def test_a_bad_message_is_quarantined_and_the_batch_goes_on(
        watched_site: Site, tmp_path: Path, line: str | bytes, stage: str, reason: str) -> None:
    path = tmp_path / "replay.jsonl"
    good = json.dumps(award(1)).encode()
    path.write_bytes(b"\n".join([good, line if isinstance(line, bytes) else line.encode(),
                                 json.dumps(award(2, badge="second")).encode()]) + b"\n")
    stats = replay_file(watched_site, path)
    assert (stats["quarantined"], stats["matched"]) == (1, 2)
    [entry] = quarantined(watched_site).values()
    assert (entry.stage, entry.seen) == (stage, 1)
    assert reason in entry.reason
    assert shows_award(watched_site)
    with watched_site.session() as session:
        assert session.scalars(select(Membership.username)).all() == ["duffy"]


def replay_file(site: Site, path: Path) -> dict[str, int]:
    from threading import Event

    from hubsgen.watch.daemon import run_watch
    from hubsgen.watch.sources.replay import ReplaySource

    return run_watch(site.settings, ReplaySource(str(path)), Event())


def test_the_same_bad_message_again_is_one_entry_seen_twice(watched_site, tmp_path):
    bad = envelope("member-x", MEMBER_ADD, {"msg": "x"})
    replay(watched_site, tmp_path, bad)
    replay(watched_site, tmp_path, bad)
    assert quarantined(watched_site)["member-x"].seen == 2


def test_a_badge_award_of_the_fedmsg_era_is_shown(watched_site, tmp_path):
    """fedbadges sent image_url and no badge_id until 2016; Tahrir derived the id."""
    old = envelope("old-award", "org.fedoraproject.prod.fedbadges.badge.award", {
        "user": {"username": "ralph", "badges_user_id": 1},
        "badge": {"name": "Something on your mind", "description": "Commented twice.",
                  "image_url": "https://badges.fedoraproject.org/pngs/mind.png"}},
        T0 + timedelta(days=1))
    stats = replay(watched_site, tmp_path, old)
    assert (stats["quarantined"], stats["matched"]) == (0, 1)
    data = watched_site.fragment("ralph", widget_id(watched_site, "ralph", "badges"))["data"]
    assert data["badges"][0]["link"] == (  # type: ignore[index]
        "https://badges.fedoraproject.org/badge/something-on-your-mind")


def test_rejected_lists_shows_and_purges(watched_site, tmp_path):
    replay(watched_site, tmp_path, joining("escape-1", "ral\x1b[31mph"),
           envelope("member-x", MEMBER_ADD, {"msg": "x"}))
    db = ["--db", watched_site.settings.db_url]
    runner = CliRunner()
    listed = runner.invoke(cli, ["rejected", "list", *db])
    assert listed.exit_code == 0, listed.output
    assert "\x1b" not in listed.output
    assert "body holds the character U+001B at msg.user" in listed.output
    assert listed.output.index("member-x") < listed.output.index("escape-1")  # newest first
    entry = quarantined(watched_site)["escape-1"]
    shown = runner.invoke(cli, ["rejected", "show", str(entry.id), *db])
    assert shown.exit_code == 0 and "\x1b" not in shown.output
    assert '"user": "ral\\u001b[31mph"' in shown.output
    missing = runner.invoke(cli, ["rejected", "show", "999", *db])
    assert missing.exit_code == 1
    assert missing.output == ("Error: no message 999 in quarantine; hubsgen rejected list "
                              "shows the ids\n")
    assert runner.invoke(cli, ["rejected", "purge", *db]).exit_code == 2
    purged = runner.invoke(cli, ["rejected", "purge", str(entry.id), *db])
    assert purged.output == "Purged 1 message from quarantine.\n"
    assert set(quarantined(watched_site)) == {"member-x"}
    assert runner.invoke(cli, ["rejected", "purge", "--all", *db]).exit_code == 0
    assert quarantined(watched_site) == {}


def test_retry_after_a_fix_handles_the_message_and_forgets_it(
        watched_site, tmp_path, monkeypatch):
    """A reader that refused awards (the bug) quarantines one; once it is fixed, a retry
    shows the badge and empties the quarantine. Messages still refused stay."""
    def refuse(_body: object) -> None:
        raise BodyError("'badge' is not what this version expected")

    with monkeypatch.context() as bug:
        bug.setattr(Registry, "readers",
                    lambda self: {"fedbadges.badge.award": [("the buggy reader", refuse)]})
        replay(watched_site, tmp_path, award(1), envelope("member-x", MEMBER_ADD, {"msg": "x"}))
    assert set(quarantined(watched_site)) == {award(1)["msg_id"], "member-x"}
    assert not shows_award(watched_site)

    db = ["--db", watched_site.settings.db_url, "--out", str(watched_site.out)]
    result = CliRunner().invoke(cli, ["rejected", "retry", "--all", *db])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("Retried 2: 1 handled, 1 quarantined again\n")
    assert shows_award(watched_site)
    assert set(quarantined(watched_site)) == {"member-x"}
    assert quarantined(watched_site)["member-x"].seen == 2


def test_explain_says_why_a_message_would_be_quarantined_and_goes_on(watched_site, tmp_path):
    """A line that is not UTF-8, a membership that does not read: one line each, and the
    award after them is still explained."""
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([
        b'{"topic": "x", "msg": {"a": "\xff"}, "msg_id": "m", "timestamp": 1}',
        json.dumps(envelope("member-x", MEMBER_ADD, {"msg": "x"})).encode(),
        json.dumps(award(1)).encode()]) + b"\n")
    result = CliRunner().invoke(cli, ["explain", "--db", watched_site.settings.db_url,
                                      str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("line 1: would be quarantined: message (no id): not JSON: "
                               "'utf-8' codec can't decode byte 0xff")
    assert lines[1] == ("member-x: would be quarantined: read: hub membership cannot read "
                        "this fas.group.member.add: 'msg' is text, not an object")
    assert "fedbadges.badge.award: users ralph;" in lines[2]
    assert quarantined(watched_site) == {}  # explaining changes nothing
