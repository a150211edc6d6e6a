"""``hubsgen hub|widget|member`` on SQLite and PostgreSQL: what each command stores, the errors
that name the argument and what is allowed, and exactly which files a change rewrites, whether
the command writes them itself (``--bus none``) or a watcher does from its announcement."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from hubs import admin
from hubs.defaults import team_widgets
from hubs.models import Hub, User
from hubs.plugins import load_widgets
from hubs.settings import load_settings
from hubs.testing import T0, add_events, add_hub, make_engine
from hubs.widget import CONFIG_TOPICS, MEMBERSHIP_TOPICS
from hubsgen.build.run import run_build
from hubsgen.cli import cli
from hubsgen.demo import messages
from hubsgen.watch.daemon import open_watcher
from hubsgen.watch.sources.replay import ReplaySource
from tests.sites import Site, widget_id


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    """designteam (sticky, feed; stats on the side; ralph follows it), ralph's own hub
    (subscriptions, sticky) and lounge (sticky), built."""
    engine = make_engine(db_url)
    with Session(engine) as s:
        designteam = add_hub(
            s, "designteam", summary="Makes Fedora pretty",
            members={"owner": ["duffy"], "member": ["mizmo"], "stargazer": ["ralph"]},
            widgets=[("sticky", {"text": "Hi"}), ("feed", {}), ("stats", {}, "side")])
        designteam.widgets[2].position = 0  # numbered per column, as populate.py does
        add_hub(s, "ralph", user_hub=True, summary="Ralph",
                widgets=[("subscriptions", {}), ("sticky", {"text": "Me"})])
        add_hub(s, "lounge", widgets=[("sticky", {"text": "Quiet"})])
        add_events(s, [messages.wiki_edit(T0, "duffy", "Design")])  # the data clock: T0
        s.commit()
    site = Site(engine, load_settings(db_url=db_url, out_dir=tmp_path / "build"))
    assert run_build(site.settings).failures == []
    yield site
    engine.dispose()


def hubsgen(site: Site, *args: str, code: int = 0) -> Result:
    """Run ``hubsgen ARGS --db ...`` (and ``--out`` for commands that change something),
    with no bus configured in the environment; check the exit code."""
    out = [] if args[:2] in (("hub", "show"), ("hub", "list")) else ["--out", str(site.out)]
    result = CliRunner(env={"HUBSGEN_BUS": None}).invoke(
        cli, [*args, "--db", site.settings.db_url, *out])
    assert result.exit_code == code, result.output
    return result


def files(site: Site, hub: str, *widget_ids: int) -> set[str]:
    """A hub's page and versions.json, and the fragments of *widget_ids*."""
    return {f"{hub}/index.html", f"{hub}/versions.json",
            *(f"{hub}/widgets/{i}.json" for i in widget_ids)}


def details(site: Site, hub: str) -> dict[str, Any]:
    return json.loads(hubsgen(site, "hub", "show", hub, "--json").stdout)


def placement(site: Site, hub: str) -> list[tuple[str, str, int]]:
    return [(w["plugin"], w["column"], w["position"]) for w in details(site, hub)["widgets"]]


def revisions(site: Site) -> dict[str, int]:
    with site.session() as s:
        return dict(s.execute(select(Hub.name, Hub.revision)).all())


def test_configure_without_a_bus_rewrites_only_that_widget(site: Site) -> None:
    """Assert a configured sticky note, with no bus, rewrites its fragment, its hub's
    versions.json and page, and nothing else."""
    sticky = widget_id(site, "designteam", "sticky")
    before = site.snapshot()
    result = hubsgen(site, "widget", "configure", f"designteam/{sticky}",
                     "--set", "text=Now **bold**")
    assert result.stdout.splitlines()[0] == f"Configured widget designteam/{sticky} (sticky)"
    assert result.stdout.splitlines()[1].startswith("Built 1 hubs, 3 widgets: 3 written, ")
    assert site.changed_since(before) == files(site, "designteam", sticky)
    assert "<strong>bold</strong>" in site.fragment("designteam", sticky)["html"]


def test_hub_create_builds_the_hub_and_the_directory_only(site: Site) -> None:
    """Assert a new team hub gets the default widgets in their columns, its own files and a
    card in the directory; no other hub's file is touched."""
    before = site.snapshot()
    result = hubsgen(site, "hub", "create", "qa", "--summary", "Quality")
    assert result.stdout.startswith("Created team hub qa with 8 widgets\n")
    changed = site.changed_since(before)
    assert "index.html" in changed and "qa/index.html" in changed
    assert all(p.startswith("qa/") for p in changed - {"index.html", "directory.json"})
    assert "qa/index.html" in (site.out / "index.html").read_text()
    shown = details(site, "qa")
    assert shown["summary"] == "Quality" and shown["kind"] == "team"
    assert sorted((w["plugin"], w["config"], w["column"]) for w in shown["widgets"]) == \
        sorted(team_widgets("qa"))


def test_user_hub_create_adds_the_account_and_can_start_empty(site: Site) -> None:
    hubsgen(site, "hub", "create", "adamw", "--user", "--widgets", "none")
    with site.session() as s:
        assert s.get(User, "adamw") is not None
    shown = hubsgen(site, "hub", "show", "adamw").stdout
    assert shown.splitlines()[0] == "adamw (user hub)"
    assert "widgets: -" in shown


@pytest.mark.parametrize(("args", "error"), [
    (["Bad Name"], "hub name 'Bad Name' is invalid: use 1 to 64 lower-case letters"),
    (["static"], "hub name 'static' is reserved for the site itself"),
    (["designteam"], "hub designteam already exists"),
    (["1abc", "--user"], "username must be a Fedora account name: lower-case letters, "
                         "digits, '_', '.', '-', starting with a letter, got '1abc'"),
])
def test_hub_create_refuses_bad_and_taken_names(site: Site, args: list[str], error: str) -> None:
    result = hubsgen(site, "hub", "create", *args, code=1)
    assert result.stderr.startswith(f"Error: {error}") and result.stderr.count("\n") == 1


def test_commands_other_than_create_refuse_a_database_without_hubs(
        site: Site, tmp_path: Path) -> None:
    """Assert a mistyped --db is refused instead of becoming a new, empty database."""
    typo = tmp_path / "typo.db"
    empty = tmp_path / "empty.db"
    empty.touch()
    for command in (["hub", "list"], ["hub", "show", "designteam"],
                    ["member", "add", "designteam", "ralph", "--out", str(site.out)]):
        result = CliRunner(env={"HUBSGEN_BUS": None}).invoke(
            cli, [*command, "--db", f"sqlite:///{typo}"])
        assert result.exit_code == 1, result.output
        assert result.stderr == (f"Error: database {typo} does not exist: create it with "
                                 f"python populate.py --db sqlite:///{typo} (demo data), or "
                                 f"start empty with hubsgen hub create NAME --db "
                                 f"sqlite:///{typo}\n")
        assert not typo.exists()
        result = CliRunner(env={"HUBSGEN_BUS": None}).invoke(
            cli, [*command, "--db", f"sqlite:///{empty}"])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"Error: database sqlite:///{empty} has no hubs tables: "
                                        "create them with python populate.py")


def test_a_widget_id_must_be_ascii_digits(site: Site) -> None:
    result = hubsgen(site, "widget", "configure", "\u00b2", "--set", "text=x", code=1)
    assert "give HUB/ID or ID" in result.stderr


def test_list_and_show_print_readably(site: Site) -> None:
    """Assert hub list puts teams first with counts, and hub show gives people by role and
    widgets (column, position, HUB/ID, plugin, config) in page order."""
    listed = hubsgen(site, "hub", "list").stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [
        ["designteam", "team"], ["lounge", "team"], ["ralph", "user"]]
    assert listed[0].split()[2:] == ["3", "widgets", "3", "people", "Makes", "Fedora", "pretty"]
    sticky, feed, stats = (widget_id(site, "designteam", p) for p in ("sticky", "feed", "stats"))
    shown = hubsgen(site, "hub", "show", "designteam").stdout.splitlines()
    assert shown[:6] == ["designteam (team hub)", "  Makes Fedora pretty", "owners: duffy",
                         "members: mizmo", "subscribers: -", "stargazers: ralph"]
    assert [line.split() for line in shown[7:]] == [
        ["main", "0", f"designteam/{sticky}", "sticky", '{"text":', '"Hi"}'],
        ["main", "1", f"designteam/{feed}", "feed", "{}"],
        ["side", "0", f"designteam/{stats}", "stats", "{}"]]
    assert json.loads(hubsgen(site, "hub", "list", "--json").stdout)[2] == {
        "name": "ralph", "kind": "user", "archived": False, "summary": "Ralph", "widgets": 2,
        "people": 0}


def test_archive_rewrites_the_hub_the_directory_and_its_peoples_subscriptions(
        site: Site) -> None:
    """Assert archiving designteam rewrites its page, the directory, and the subscriptions of
    ralph (who follows it) on his own hub; --undo brings every byte back."""
    subscriptions = widget_id(site, "ralph", "subscriptions")
    before = site.snapshot()
    assert hubsgen(site, "hub", "archive", "designteam").stdout.startswith(
        "Hub designteam is now archived\n")
    assert site.changed_since(before) == {"designteam/index.html", "index.html",
                                          *files(site, "ralph", subscriptions)}, \
        "the directory's search index holds no archived flag"
    assert "archived" in site.fragment("ralph", subscriptions)["html"]
    archived = site.snapshot()
    assert hubsgen(site, "hub", "archive", "designteam").stdout == (
        "Hub designteam is already archived\n")
    assert site.changed_since(archived) == set()
    hubsgen(site, "hub", "archive", "designteam", "--undo")
    back = site.snapshot()
    for path in ("designteam/index.html", "index.html", f"ralph/widgets/{subscriptions}.json"):
        assert back[path][0] == before[path][0], path


def test_widget_add_validates_places_and_stores_only_what_was_set(site: Site) -> None:
    """Assert a widget added at the top of the side column pushes stats down, stores its
    given arguments cleaned (the number as a number) and no defaults, and gets a fragment."""
    before = site.snapshot()
    result = hubsgen(site, "widget", "add", "designteam", "cobwebs", "--column", "side",
                     "--position", "0", "--set", "days=30")
    added = int(result.stdout.split()[2].split("/")[1])
    assert placement(site, "designteam") == [
        ("sticky", "main", 0), ("feed", "main", 1), ("cobwebs", "side", 0), ("stats", "side", 1)]
    assert details(site, "designteam")["widgets"][2]["config"] == {"days": 30}
    assert site.changed_since(before) == files(site, "designteam", added)
    hubsgen(site, "widget", "add", "designteam", "sticky", "--set", "text=Last")
    assert placement(site, "designteam")[2] == ("sticky", "main", 2)


@pytest.mark.parametrize(("args", "error"), [
    (["widget", "add", "designteam", "sticky"],
     "widget sticky: argument text is required (the note, in Markdown)"),
    (["widget", "add", "designteam", "sticky", "--set", "text=hi", "--set", "colour=red"],
     "widget sticky: unknown argument(s) colour; valid arguments: text, title"),
    (["widget", "add", "designteam", "cobwebs", "--set", "days=0"],
     "widget cobwebs: argument days must be from 1 to 3650, got 0"),
    (["widget", "add", "designteam", "nope"],
     "widget on designteam: no plugin named 'nope'; known: about, activity, avatar, "),
    (["widget", "add", "designteam", "sticky", "--set", "text=hi", "--column", "top"],
     "column must be one of main, side, got 'top'"),
    (["widget", "add", "designteam", "sticky", "--set", "text=hi", "--position", "3"],
     "position must be from 0 to 2 in the main column of designteam, got 3"),
    (["widget", "add", "nohub", "sticky", "--set", "text=hi"],
     "no hub named nohub; hubsgen hub list shows them"),
    (["widget", "configure", "{sticky}", "--set-json", "text=3"],
     "widget designteam/{sticky} (sticky): argument text must be text"),
    (["widget", "configure", "designteam/{sticky}", "--unset", "colour"],
     "widget designteam/{sticky} (sticky): cannot unset colour, not an argument; "
     "valid arguments: text, title"),
    (["widget", "configure", "lounge/{sticky}", "--set", "text=hi"],
     "no widget lounge/{sticky}; hubsgen hub show lounge lists them"),
    (["widget", "configure", "sticky"],
     "widget 'sticky': give HUB/ID or ID, as hubsgen hub show lists them"),
    (["widget", "move", "{sticky}"],
     "widget designteam/{sticky}: nothing to move; give a column or a position"),
    (["widget", "move", "{sticky}", "--column", "side", "--position", "2"],
     "position must be from 0 to 1 in the side column of designteam, got 2"),
    (["member", "add", "designteam", "ralph", "--role", "admin"],
     "role must be one of owner, member, subscriber, stargazer, got 'admin'"),
    (["member", "add", "designteam", "Not Valid"],
     "username must be a Fedora account name: lower-case letters, digits"),
    (["member", "remove", "designteam", "duffy", "--role", "member"],
     "duffy does not hold member on designteam; holds: owner"),
    (["member", "remove", "designteam", "nobody"], "nobody holds no role on designteam"),
    (["hub", "archive", "nohub"], "no hub named nohub"),
])
def test_refused_changes_name_the_culprit_and_change_nothing(
        site: Site, args: list[str], error: str) -> None:
    """Assert each refusal is one line naming the argument and what is allowed, and that
    neither the database nor any file changed."""
    sticky = str(widget_id(site, "designteam", "sticky"))
    before, revised = site.snapshot(), revisions(site)
    result = hubsgen(site, *(a.replace("{sticky}", sticky) for a in args), code=1)
    assert result.stderr.startswith("Error: " + error.replace("{sticky}", sticky))
    assert result.stderr.count("\n") == 1, "one line, no traceback"
    assert site.changed_since(before) == set() and revisions(site) == revised


def test_bad_assignments_are_refused_by_the_option(site: Site) -> None:
    sticky = str(widget_id(site, "designteam", "sticky"))
    assert "'text': give KEY=VALUE" in hubsgen(
        site, "widget", "configure", sticky, "--set", "text", code=2).stderr
    assert "text: not JSON: " in hubsgen(
        site, "widget", "configure", sticky, "--set-json", "text={bad", code=2).stderr


def test_configure_merges_unsets_and_replaces(site: Site) -> None:
    """Assert --set merges, --unset drops a key (its default applies again), --replace starts
    from nothing, and a configuration that does not change is neither stored nor rebuilt."""
    ref = f"designteam/{widget_id(site, 'designteam', 'sticky')}"

    def config() -> dict[str, Any]:
        return details(site, "designteam")["widgets"][0]["config"]

    hubsgen(site, "widget", "configure", ref, "--set", "title=Pinned")
    assert config() == {"text": "Hi", "title": "Pinned"}
    hubsgen(site, "widget", "configure", ref, "--unset", "title")
    assert config() == {"text": "Hi"}
    hubsgen(site, "widget", "configure", ref, "--replace", "--set-json", 'text="New"')
    assert config() == {"text": "New"}
    before, revised = site.snapshot(), revisions(site)
    assert hubsgen(site, "widget", "configure", ref, "--set", "text=New").stdout == (
        f"Widget {ref} (sticky) is unchanged\n")
    assert site.changed_since(before) == set() and revisions(site) == revised


def test_move_renumbers_both_columns_and_rewrites_only_the_page(site: Site) -> None:
    sticky = widget_id(site, "designteam", "sticky")
    before = site.snapshot()
    result = hubsgen(site, "widget", "move", str(sticky), "--column", "side", "--position", "1")
    assert result.stdout.startswith(
        f"Moved widget designteam/{sticky} (sticky) to the side column, position 1\n")
    assert placement(site, "designteam") == [
        ("feed", "main", 0), ("stats", "side", 0), ("sticky", "side", 1)]
    assert site.changed_since(before) == {"designteam/index.html"}  # fragments hold no place
    hubsgen(site, "widget", "move", str(sticky), "--position", "0")
    assert placement(site, "designteam")[1:] == [("sticky", "side", 0), ("stats", "side", 1)]


def test_remove_deletes_the_fragment_and_closes_up(site: Site) -> None:
    sticky = widget_id(site, "designteam", "sticky")
    before = site.snapshot()
    hubsgen(site, "widget", "remove", f"designteam/{sticky}")
    assert placement(site, "designteam") == [("feed", "main", 0), ("stats", "side", 0)]
    assert site.changed_since(before) == files(site, "designteam", sticky)
    assert not (site.out / "designteam" / "widgets" / f"{sticky}.json").exists()


def test_members_change_the_hubs_stats_and_the_persons_subscriptions(site: Site) -> None:
    """Assert adding ralph as a member rewrites designteam's stats and his own subscriptions,
    a second add changes nothing, and removing him without --role takes every role."""
    stats = widget_id(site, "designteam", "stats")
    subscriptions = widget_id(site, "ralph", "subscriptions")
    before = site.snapshot()
    assert hubsgen(site, "member", "add", "designteam", "ralph").stdout.startswith(
        "Added ralph to designteam as member\n")
    assert site.changed_since(before) == (files(site, "designteam", stats)
                                          | files(site, "ralph", subscriptions))
    assert details(site, "designteam")["members"]["member"] == ["mizmo", "ralph"]
    assert hubsgen(site, "member", "add", "designteam", "ralph").stdout == (
        "ralph already holds member on designteam\n")
    assert hubsgen(site, "member", "remove", "designteam", "ralph").stdout.startswith(
        "Removed ralph from designteam as member, stargazer\n")
    assert details(site, "designteam")["members"]["stargazer"] == []
    hubsgen(site, "member", "add", "designteam", "newbie", "--role", "subscriber")
    with site.session() as s:
        assert s.get(User, "newbie") is not None


@pytest.mark.parametrize(("bus", "error"), [
    ("fedmsg", "fedmsg configuration lists no relay_inbound endpoint: hubsgen publishes "
               "through fedmsg-relay; list it in /etc/fedmsg.d"),
    ("amqp", "fedora-messaging configuration {tmp}/missing.toml does not exist; set "
             "$FEDORA_MESSAGING_CONF"),
])
def test_a_change_that_cannot_be_announced_is_saved_and_says_how_to_write_it(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bus: str,
        error: str) -> None:
    """Assert a bus that is not configured fails the command with one line saying why and
    how to write the files, after the change was committed."""
    monkeypatch.chdir(tmp_path)  # fedmsg reads ./fedmsg.d, ~/.fedmsg.d and /etc/fedmsg.d
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    (tmp_path / "fedmsg.d").mkdir()
    (tmp_path / "fedmsg.d" / "hubsgen_test.py").write_text(
        "config = {'environment': 'prod', 'endpoints': {}}\n")
    monkeypatch.setenv("FEDORA_MESSAGING_CONF", str(tmp_path / "missing.toml"))
    result = hubsgen(site, "member", "add", "designteam", "ralph", "--bus", bus, code=1)
    assert result.stdout == "Added ralph to designteam as member\n"
    assert result.stderr == (f"Error: {error.format(tmp=tmp_path)}; the change is saved: "
                             "hubsgen build --hub designteam --hub ralph rewrites its files\n")
    assert details(site, "designteam")["members"]["member"] == ["mizmo", "ralph"]


def test_every_change_names_its_hub_on_a_topic_watch_acts_on(site: Site) -> None:
    """Assert the notices: widget changes name hub and widget on hubs.widget.update; member
    changes send hubs.hub.update and hubs.membership.update naming the person; archiving
    announces the hub and its people's own hubs. Each change moves the hub's revision."""
    registry = load_widgets()
    sticky = widget_id(site, "designteam", "sticky")
    with site.session() as s:
        start = revisions(site)["designteam"]
        configured = admin.configure_widget(s, registry, str(sticky), {"title": "Pinned"})
        joined = admin.add_member(s, "designteam", "ralph", "owner")
        archived = admin.archive_hub(s, "designteam")
        s.commit()
    assert configured.notices == (
        admin.Notice("hubs.widget.update", {"hub": "designteam", "widget": sticky}),)
    assert joined.notices == (
        admin.Notice("hubs.hub.update", {"hub": "designteam"}),
        admin.Notice("hubs.membership.update", {"hub": "designteam", "user": "ralph",
                                                "role": "owner", "action": "add"}))
    assert joined.hubs == archived.hubs == ("designteam", "ralph")
    assert [n.body for n in archived.notices] == [{"hub": "designteam"}, {"hub": "ralph"}]
    topics = {n.topic for c in (configured, joined, archived) for n in c.notices}
    assert topics <= CONFIG_TOPICS | MEMBERSHIP_TOPICS
    assert revisions(site)["designteam"] > start


def watch_notices(site: Site, tmp_path: Path, change: Any) -> set[str]:
    """Start a watcher, make *change* (a function of a session) and commit it, then hand the
    watcher its notices as fedmsg delivers them; the files that changed."""
    before = site.snapshot()
    with open_watcher(site.settings) as watcher, site.session() as s:
        notices = change(s).notices
        s.commit()
        path = tmp_path / "notices.jsonl"
        path.write_text("".join(json.dumps({
            "topic": f"org.fedoraproject.prod.{n.topic}", "msg": dict(n.body),
            "msg_id": f"admin-{uuid.uuid4()}", "timestamp": T0.timestamp()}) + "\n"
            for n in notices))
        watcher.run(ReplaySource(str(path)), threading.Event())
    # Matched by the notices themselves, not only noticed by the watcher's revision poll.
    assert watcher.stats["matched"] == len(notices)
    return site.changed_since(before)


def test_a_watcher_rewrites_from_the_notices_what_the_change_touched(
        site: Site, tmp_path: Path) -> None:
    """Assert a watcher given a change's notices rewrites the configured sticky alone; for
    a new member, designteam's stats, ralph's subscriptions, and designteam's feed widget and
    both hubs' Atom feeds, where the announcement now shows as ralph's activity."""
    sticky = widget_id(site, "designteam", "sticky")
    changed = watch_notices(site, tmp_path, lambda s: admin.configure_widget(
        s, load_widgets(), str(sticky), {"text": "From the bus"}))
    assert changed == files(site, "designteam", sticky)
    assert "From the bus" in site.fragment("designteam", sticky)["html"]

    stats, feed = widget_id(site, "designteam", "stats"), widget_id(site, "designteam", "feed")
    subscriptions = widget_id(site, "ralph", "subscriptions")
    changed = watch_notices(site, tmp_path, lambda s: admin.add_member(
        s, "designteam", "ralph", "member"))
    assert changed == (files(site, "designteam", stats, feed) | files(site, "ralph", subscriptions)
                       | {"designteam/feed.atom", "ralph/feed.atom"})
