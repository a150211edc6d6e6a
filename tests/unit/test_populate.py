"""populate.py: the prototype's demo hubs and the synthetic population, into real databases."""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hubs.clock import data_now
from hubs.db import open_engine
from hubs.models import Base, Hub, Membership, Message, MessageTag, User, WidgetInstance
from hubs.plugins import load_widgets
from hubsgen.demo.population import PEOPLE, REFERENCE

POPULATE = Path(__file__).resolve().parents[2] / "populate.py"


@pytest.fixture(scope="module")
def populate() -> ModuleType:
    """populate.py is a script at the top of the tree, not part of an installed package."""
    spec = importlib.util.spec_from_file_location("populate", POPULATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(populate: ModuleType, *args: str) -> Result:
    return CliRunner().invoke(populate.cli, list(args), catch_exceptions=False)


@pytest.fixture
def opened(tmp_path) -> Iterator[Any]:
    """Open the databases a test populated, and close them all afterwards."""
    engines: list[Engine] = []

    def open_(url: str) -> Engine:
        engines.append(open_engine(url))
        return engines[-1]

    yield open_
    for engine in engines:
        engine.dispose()


@pytest.fixture
def demo(populate, sqlite_url, opened) -> Iterator[Session]:
    result = run(populate, "--db", sqlite_url)
    assert result.exit_code == 0, result.output
    with Session(opened(sqlite_url)) as session:
        yield session


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with engine.connect() as conn:
        return {table.name: [tuple(row) for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


def roles(session: Session, hub: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for m in session.scalars(select(Membership).join(Hub).where(Hub.name == hub)):
        found.setdefault(m.role, set()).add(m.username)
    return found


def test_demo_has_the_prototype_teams_and_members(demo: Session) -> None:
    teams = {h.name: h for h in demo.scalars(select(Hub).where(Hub.user_hub.is_(False)))}
    assert {n: (h.summary, h.archived) for n, h in teams.items()} == {
        "designteam": ("The Fedora Design Team", False),
        "infrastructure": ("The Fedora Infra Team", False),
        "marketing": ("The Fedora Marketing Team", False),
        "i18n": ("The Internationalization Team", True),
    }
    assert roles(demo, "i18n") == {"owner": {"pravins"}, "member": {"decause"},
                                   "subscriber": {"ralph"}}
    assert roles(demo, "designteam") == {
        "owner": {"duffy", "ryanlerch", "gnokii", "mrichard"}, "member": {"nask0", "decause"},
        "subscriber": {"ralph"}, "stargazer": {"mattdm", "lmacken"}}
    assert roles(demo, "infrastructure")["owner"] == {"ralph", "abompard", "lmacken"}
    assert roles(demo, "marketing")["member"] == {"mrichard", "mattdm", "decause"}
    assert sum(len(roles(demo, t).get("stargazer", ())) for t in teams) >= 3


def test_demo_gives_every_user_a_hub_with_the_default_widgets(demo: Session) -> None:
    users = {u.username: u.fullname for u in demo.scalars(select(User))}
    assert users == {name: fullname for name, (fullname, _about) in PEOPLE.items()}
    user_hubs = {h.name: h for h in demo.scalars(select(Hub).where(Hub.user_hub.is_(True)))}
    assert {n: h.summary for n, h in user_hubs.items()} == users
    layout = [(w.column, w.plugin) for w in user_hubs["duffy"].widgets]
    assert layout == [("main", p) for p in ("about", "feed", "activity", "updates_ready",
                                            "pending_reviews")] + [
        ("side", p) for p in ("avatar", "badges", "subscriptions", "message_stats")]


def test_demo_team_widgets_carry_the_original_configuration(demo: Session) -> None:
    design = demo.scalars(select(Hub).where(Hub.name == "designteam")).one()
    by_plugin = {w.plugin: w for w in design.widgets}
    assert [(w.column, w.position, w.plugin) for w in design.widgets] == [
        ("main", 0, "cobwebs"), ("main", 1, "sticky"), ("main", 2, "feed"),
        ("main", 3, "activity"), ("side", 0, "stats"), ("side", 1, "rules"),
        ("side", 2, "meetings"), ("side", 3, "message_stats")]
    assert by_plugin["rules"].config == {
        "link": "https://fedoraproject.org/wiki/Design",
        "schedule_text": "Meetings are every other Tuesday at 16:00 UTC",
        "schedule_link": "https://calendar.fedoraproject.org/design/",
        "minutes_link": "https://meetbot.fedoraproject.org/sresults/"
                        "?group_id=fedora-design&type=channel"}
    assert by_plugin["sticky"].config["text"].startswith("The Design Team is the design group")
    assert by_plugin["meetings"].config == {"calendars": ["design"]}


def test_every_demo_widget_config_validates(demo: Session) -> None:
    registry = load_widgets()
    instances = demo.scalars(select(WidgetInstance)).all()
    assert len(instances) == 4 * 8 + len(PEOPLE) * 9
    for instance in instances:
        registry.get(instance.plugin, instance.key).validate_config(instance.config,
                                                                   instance.key)


def test_demo_messages_give_every_widget_something_to_show(demo: Session) -> None:
    assert data_now(demo) == REFERENCE
    messages = demo.scalars(select(Message)).all()
    assert max(m.timestamp for m in messages) == REFERENCE
    assert min(m.timestamp for m in messages) >= REFERENCE - timedelta(weeks=12)
    topics = Counter(m.topic for m in messages)
    assert set(topics) == {
        "fedbadges.badge.award", "buildsys.build.state.change", "bodhi.update.comment",
        "bodhi.update.requirements_met.stable", "bodhi.update.complete.stable",
        "fedocal.meeting.new", "meetbot.meeting.complete", "pagure.pull-request.new",
        "pagure.pull-request.closed", "wiki.article.edit", "fas.group.member.sponsor"}
    upcoming = Counter(m.body["calendar"]["calendar_name"] for m in messages
                       if m.topic == "fedocal.meeting.new"
                       and m.body["meeting"]["meeting_date"] > REFERENCE.strftime("%Y-%m-%d"))
    assert all(upcoming[c] >= 2 for c in ("design", "infrastructure", "marketing"))
    pushed = {m.body["update"]["alias"] for m in messages
              if m.topic == "bodhi.update.complete.stable"}
    ready = {m.body["update"]["user"]["name"] for m in messages
             if m.topic == "bodhi.update.requirements_met.stable"
             and m.body["update"]["alias"] not in pushed}
    closed = {(m.body["pullrequest"]["project"]["name"], m.body["pullrequest"]["id"])
              for m in messages if m.topic == "pagure.pull-request.closed"}
    reviewers = {u for m in messages if m.topic == "pagure.pull-request.new"
                 and (m.body["pullrequest"]["project"]["name"], m.body["pullrequest"]["id"])
                 not in closed
                 for u in m.body["pullrequest"]["project"]["access_users"]["owner"]}
    badged = {m.body["user"]["username"] for m in messages
              if m.topic == "fedbadges.badge.award"}
    assert ready == reviewers == badged == set(PEOPLE)
    assert closed and pushed


def test_demo_tags_copy_their_message_timestamp(demo: Session) -> None:
    mismatched = demo.scalar(select(func.count()).select_from(MessageTag).join(Message).where(
        MessageTag.timestamp != Message.timestamp))
    assert mismatched == 0
    assert demo.scalar(select(func.count()).select_from(MessageTag)) > 190


def test_demo_is_deterministic(populate, tmp_path, opened) -> None:
    urls = [f"sqlite:///{tmp_path / f'{n}.db'}" for n in ("one", "two")]
    for url in urls:
        assert run(populate, "--db", url).exit_code == 0
    first, second = (contents(opened(url)) for url in urls)
    assert first == second
    assert len(first["messages"]) == 190


def test_refuses_an_existing_database_unless_forced(populate, sqlite_url, opened) -> None:
    assert run(populate, "--db", sqlite_url).exit_code == 0
    before = contents(opened(sqlite_url))
    refused = run(populate, "--db", sqlite_url, "--users", "10")
    assert refused.exit_code == 1
    assert "already holds hubs tables" in refused.output and "--force" in refused.output
    assert contents(opened(sqlite_url)) == before
    forced = run(populate, "--db", sqlite_url, "--force", "--users", "10", "--groups", "1")
    assert forced.exit_code == 0, forced.output
    with Session(opened(sqlite_url)) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 10
        assert session.get(User, "duffy") is None


def test_url_comes_from_the_environment_without_db(populate, sqlite_url, monkeypatch,
                                                   opened) -> None:
    monkeypatch.setenv("HUBS_DB_URL", sqlite_url)
    assert run(populate).exit_code == 0
    with Session(opened(sqlite_url)) as session:
        assert session.scalar(select(func.count()).select_from(Hub)) == 16


def test_synthetic_options_need_users(populate, sqlite_url) -> None:
    result = CliRunner().invoke(populate.cli, ["--db", sqlite_url, "--seed", "3"])
    assert result.exit_code == 2
    assert "need --users" in result.output


def synthetic(populate: ModuleType, url: str, seed: int) -> Result:
    result = run(populate, "--db", url, "--users", "200", "--groups", "3", "--seed", str(seed),
                 "--messages-per-user", "4")
    assert result.exit_code == 0, result.output
    return result


def test_synthetic_population_counts(populate, sqlite_url, opened) -> None:
    synthetic(populate, sqlite_url, seed=7)
    with Session(opened(sqlite_url)) as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(User) == 200
        assert count(Hub) == 203
        assert session.scalar(select(func.count()).where(Hub.user_hub.is_(True))) == 200
        assert count(WidgetInstance) == 200 * 9 + 3 * 8
        assert count(Message) == 800
        assert count(Membership) >= 3 * 3  # at least an owner and two members per team
        tagless = select(Message.id).where(~Message.id.in_(select(MessageTag.message_id)))
        assert session.scalars(tagless).all() == []
        stamps = session.scalars(select(Message.timestamp)).all()
        assert REFERENCE - timedelta(weeks=12) <= min(stamps) <= max(stamps) <= REFERENCE
        assert len(Counter(session.scalars(select(Message.category)))) >= 8
        registry = load_widgets()
        for instance in session.scalars(select(WidgetInstance)):
            registry.get(instance.plugin, instance.key).validate_config(instance.config,
                                                                       instance.key)


def test_synthetic_population_is_deterministic_per_seed(populate, tmp_path, opened) -> None:
    urls = {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in ("a", "b", "c")}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        synthetic(populate, urls[name], seed)
    a, b, c = (contents(opened(urls[name])) for name in ("a", "b", "c"))
    assert a == b
    assert a["users"] != c["users"] and a["messages"] != c["messages"]


@pytest.mark.postgresql
def test_synthetic_population_on_postgresql_leaves_room_for_new_rows(populate, pg_url,
                                                                     opened) -> None:
    """Bulk rows carry explicit ids, so the sequences must have moved past them."""
    synthetic(populate, pg_url, seed=7)
    with Session(opened(pg_url)) as session:
        hub = Hub(name="newcomer", created=REFERENCE, last_activity=REFERENCE)
        session.add(hub)
        session.flush()
        assert hub.id == 204
        assert session.scalar(select(func.count()).select_from(Message)) == 800
