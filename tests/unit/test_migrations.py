"""Schema migrations: a database of the release before them upgrades keeping its rows, the
revisions make exactly the models' schema, and build and watch refuse a database behind it."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from alembic import command as alembic
from click.testing import CliRunner, Result
from sqlalchemy import Engine, MetaData, event, insert, make_url, select, text
from sqlalchemy.orm import Session

from hubs import migrations
from hubs.db import open_engine
from hubs.migrations.authoring import differences as found_differences
from hubs.models import (
    Base,
    Hub,
    Membership,
    Message,
    MessageTag,
    Position,
    User,
    UserAlias,
    WidgetInstance,
)
from hubs.testing import T0
from hubsgen.cli import cli
from tests.sites import award, replay

RELEASE_SCHEMA = Path(__file__).parent / "before_migrations"
"""The DDL that the release before migrations ran; regenerate.py there says how it is made."""
POPULATE = Path(__file__).resolve().parents[2] / "populate.py"
HEAD = "0004_covering_tag_lookup"
UPGRADE = "hubsgen db upgrade"


def hubsgen(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines a test opened, disposed afterwards."""
    opened: list[Engine] = []
    yield opened
    for engine in opened:
        engine.dispose()


@pytest.fixture
def released(db_url: str, engines: list[Engine]) -> Engine:
    """A database as the release before migrations left it: its create_all, then some rows."""
    engine = open_engine(db_url, create=True)
    engines.append(engine)
    ddl = (RELEASE_SCHEMA / f"{engine.dialect.name}.sql").read_text()
    with engine.begin() as conn:
        for statement in ddl.split(";\n\n"):
            code = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
            if code.strip():
                conn.exec_driver_sql(code)
    with engine.begin() as conn:  # Core: the ORM would keep counts this release had no table for
        conn.execute(insert(User), [{"username": u, "created": T0} for u in ("mizmo", "ralph")])
        conn.execute(insert(Hub), [{"id": 1, "name": "designteam", "summary": "Design",
                                    "created": T0, "last_activity": T0}])
        conn.execute(insert(Membership), [{"hub_id": 1, "username": "mizmo", "role": "owner"},
                                          {"hub_id": 1, "username": "ralph", "role": "member"}])
        conn.execute(insert(WidgetInstance), [
            {"hub_id": 1, "plugin": "sticky", "config": {"text": "Welcome"}, "position": 0},
            {"hub_id": 1, "plugin": "members", "config": {}, "column": "side", "position": 1}])
    with Session(engine) as session:
        session.add(Message(msg_id="2026-abc", topic="fas.group.member.sponsor", timestamp=T0,
                            body={"group": "designteam"}, summary="ralph joined",
                            tags=[MessageTag(kind="user", name="ralph", timestamp=T0)]))
        session.add(Position(source="fedmsg", msg_id="2026-abc", timestamp=T0))
        session.add(UserAlias(username="ralph", kind="nick", value="Ralph"))
        session.commit()
    return engine


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the database has, in primary-key order."""
    reflected = MetaData()
    reflected.reflect(engine)
    with engine.connect() as conn:
        return {name: [tuple(row) for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for name, table in sorted(reflected.tables.items())}


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return found_differences(conn)


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return migrations.revision_of(conn)


def test_the_release_before_migrations_is_upgraded_keeping_its_rows(released, db_url):
    before = rows(released)
    assert "quarantine" not in before and before["hubs"] and before["message_tags"]
    assert revision(released) is None
    done = hubsgen("db", "upgrade", "--db", db_url)
    assert done.exit_code == 0, done.output
    assert done.output == (f"Upgraded {where(db_url)} from revision 0001_baseline (recognised "
                           f"from its tables: made before migrations) to {HEAD}\n")
    after = rows(released)
    assert after.pop("alembic_version") == [(HEAD,)]
    assert after.pop("quarantine") == []
    assert after.pop("hub_counts") == [(1, T0.date(), "", 1)], "ralph's message, counted"
    assert after == before
    assert differences(released) == []


def test_upgrading_twice_changes_nothing(released, db_url):
    assert hubsgen("db", "upgrade", "--db", db_url).exit_code == 0
    before = rows(released)
    done = hubsgen("db", "upgrade", "--db", db_url)
    assert done.exit_code == 0, done.output
    assert done.output == (f"Database {where(db_url)} is already at revision {HEAD}: "
                           "nothing to do\n")
    assert rows(released) == before


def test_the_revisions_make_exactly_the_models_schema(db_url, engines):
    """A model changed without its revision fails here: compare_metadata sees the change."""
    engine = open_engine(db_url, create=True)
    engines.append(engine)
    done = migrations.upgrade(engine)
    assert (done.before, done.after, done.recognised) == (None, HEAD, False)
    assert migrations.head() == HEAD
    assert differences(engine) == []


def test_a_schema_one_revision_behind_differs_from_the_models(db_url, engines):
    """The comparison above can fail: a revision behind, it finds the counts missing."""
    engine = open_engine(db_url, create=True)
    engines.append(engine)
    with engine.begin() as conn:
        alembic.upgrade(migrations.config(conn), "0002_quarantine")
    found = differences(engine)
    assert [(d[0], d[1].name) for d in found if isinstance(d, tuple) and d[0] == "add_table"] \
        == [("add_table", "hub_counts")]


def test_an_empty_database_is_upgraded_from_nothing(db_url, engines):
    engine = open_engine(db_url, create=True)
    engines.append(engine)
    engine.connect().close()  # SQLite makes its file on the first connection
    done = hubsgen("db", "upgrade", "--db", db_url)
    assert done.output == f"Created the hubs tables in {where(db_url)}, at revision {HEAD}\n"
    assert set(rows(engine)) == {*Base.metadata.tables, "alembic_version"}


def at_revision(engine: Engine, name: str) -> None:
    """Stamp *engine*'s database (of the release before migrations) as being at *name*."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES (:name)"), {"name": name})


BEHIND = {
    "made before migrations": (None, "has hubs tables but no revision (made before "
                                     f"migrations); this hubsgen needs revision {HEAD}: run "
                                     f"{UPGRADE}"),
    "at the baseline": ("0001_baseline", "is at revision 0001_baseline; this hubsgen needs "
                                         f"revision {HEAD}: run {UPGRADE}"),
    "at an unknown revision": ("0099_future", "is at revision 0099_future, which this hubsgen "
                                              "does not know (a newer release's?); this hubsgen "
                                              f"needs revision {HEAD}: run the release that "
                                              "upgraded it, or restore a backup"),
}


@pytest.mark.parametrize("command", [["build"], ["watch", "--once", "--source", "replay:-"],
                                     ["rejected", "list"], ["rejected", "retry", "--all"],
                                     ["explain", "-"], ["db", "recount"]])
@pytest.mark.parametrize("state", BEHIND)
def test_a_database_not_at_head_is_refused_in_one_line(released, db_url, tmp_path, command,
                                                       state):
    stamped, says = BEHIND[state]
    if stamped:
        at_revision(released, stamped)
    before = rows(released)
    out = tmp_path / "build"
    done = CliRunner().invoke(cli, [*command, "--db", db_url]
                              + (["--out", str(out)] if "--out" in _options(command) else []),
                              input="")
    assert done.exit_code == 1, done.output
    assert done.stderr == f"Error: database {where(db_url)} {says}\n"
    assert not out.exists(), "refused before writing anything"
    assert rows(released) == before


def _options(command: list[str]) -> set[str]:
    found = cli.get_command(None, command[0])  # type: ignore[arg-type]
    for name in command[1:]:
        if not isinstance(found, click.Group):
            break
        found = found.get_command(None, name)  # type: ignore[arg-type]
    return {option for param in found.params for option in param.opts}


def test_status_and_current_say_where_a_database_stands(released, db_url):
    unversioned = BEHIND["made before migrations"][1]
    done = hubsgen("db", "status", "--db", db_url)
    assert (done.exit_code, done.output) == (1, f"Database {where(db_url)} {unversioned}\n")
    assert hubsgen("db", "current", "--db", db_url).output == "none\n"
    hubsgen("db", "upgrade", "--db", db_url)
    done = hubsgen("db", "status", "--db", db_url)
    assert (done.exit_code, done.output) == (0, f"Database {where(db_url)} is at revision "
                                                f"{HEAD}, this hubsgen's: up to date\n")
    assert hubsgen("db", "current", "--db", db_url).output == f"{HEAD}\n"


def test_a_database_of_this_release_made_before_migrations_is_only_stamped(db_url, engines):
    engine = open_engine(db_url, create=True)
    engines.append(engine)
    Base.metadata.create_all(engine)  # as this release did before it had migrations
    done = hubsgen("db", "upgrade", "--db", db_url)
    assert done.output == (f"Stamped {where(db_url)} at revision {HEAD}, recognised from its "
                           "tables (made before migrations): its schema was already this "
                           "release's\n")
    assert revision(engine) == HEAD
    assert differences(engine) == []


def test_tables_of_no_release_are_not_guessed_at(released, db_url):
    with released.begin() as conn:
        conn.execute(text("DROP TABLE positions"))
    done = CliRunner().invoke(cli, ["db", "upgrade", "--db", db_url])
    assert done.exit_code == 1
    assert done.stderr == (
        f"Error: database {where(db_url)} has hubs tables (hubs, memberships, message_tags, "
        "messages, user_aliases, users, widgets) but no revision, and they match no release's: "
        "upgrade it with the release that made it, or restore a backup\n")
    assert revision(released) is None


def test_watch_reads_the_revision_once_not_per_batch(watched_site, tmp_path):
    reads: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM alembic_version" in statement:
            reads.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        stats = replay(watched_site, tmp_path, award(1), award(2, badge="mentor"),
                       award(3, badge="helper"), max_batch=1)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert stats["received"] == 3, stats  # in three batches of one
    assert len(reads) == 1, reads


def test_a_new_revision_is_refused_while_the_models_and_migrations_agree(sqlite_url, engines):
    engine = open_engine(sqlite_url, create=True)
    engines.append(engine)
    migrations.upgrade(engine)
    assert differences(engine) == [], "else the command would write a revision into the tree"
    done = CliRunner().invoke(cli, ["db", "revision", "add a column"])
    assert done.exit_code == 1
    assert done.stderr == ("Error: the models and the migrations already agree: change "
                           "hubs/models.py first, then write its revision\n")


@pytest.fixture(scope="module")
def populate() -> Any:
    """populate.py is a script at the top of the tree, not part of an installed package."""
    spec = importlib.util.spec_from_file_location("populate", POPULATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_populate_makes_the_schema_through_the_migrations(populate, db_url, engines):
    for args in ([], ["--force"]):
        done = CliRunner().invoke(populate.cli, ["--db", db_url, *args])
        assert done.exit_code == 0, done.output
    engine = open_engine(db_url)
    engines.append(engine)
    assert revision(engine) == HEAD
    assert differences(engine) == []


def test_the_revision_that_skips_alembic_at_start_up_is_the_newest():
    """require_hubs knows a current database by hubs.db.SCHEMA_REVISION alone: a new revision
    must move it, or every command would load Alembic to find the database current."""
    from hubs import db, migrations

    assert migrations.head() == db.SCHEMA_REVISION
