"""A database's schema against the revisions this release ships (Alembic).

The revisions live in ``versions/`` beside this module and run through Alembic's API with a
configuration made here, so an installed hubsgen needs no alembic.ini.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, inspect

from hubs.errors import DatabaseError
from hubs.models import Base

HERE = Path(__file__).parent
UPGRADE_COMMAND = "hubsgen db upgrade"
VERSION_TABLE = "alembic_version"

Signature = Mapping[str, frozenset[str]]
"""A schema as far as telling releases apart goes: each hubs table and its column names."""


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made in code; env.py runs the revisions on *connection*."""
    made = Config()
    made.set_main_option("script_location", str(HERE))
    made.set_main_option("file_template", "%%(rev)s")  # the revision id says it all: 0003_...
    made.attributes["connection"] = connection
    return made


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The revision this release's models are at."""
    found = scripts().get_current_head()
    assert found is not None, "hubs/migrations/versions holds no revision"
    return found


def revision_of(connection: Connection) -> str | None:
    """The revision stamped in the database's alembic_version table, None if it has none."""
    return MigrationContext.configure(connection).get_current_revision()


def has_hubs_tables(connection: Connection) -> bool:
    return inspect(connection).has_table("hubs")


def is_known(revision: str) -> bool:
    try:
        return scripts().get_revision(revision) is not None
    except CommandError:
        return False


@dataclass(frozen=True)
class Standing:
    """Where a database's schema stands against this release's."""

    where: str
    current: str | None
    """Its stamped revision; None without one (empty, or made before migrations)."""
    head: str
    tables: bool
    """Whether it has the hubs tables at all."""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def line(self) -> str:
        """One sentence saying where the database stands and what to do about it."""
        needs = f"this hubsgen needs revision {self.head}"
        if self.up_to_date:
            return f"database {self.where} is at revision {self.head}, this hubsgen's: up to date"
        if self.current is None and not self.tables:
            return f"database {self.where} has no hubs tables; {needs}: run {UPGRADE_COMMAND}"
        if self.current is None:
            return (f"database {self.where} has hubs tables but no revision (made before "
                    f"migrations); {needs}: run {UPGRADE_COMMAND}")
        if not is_known(self.current):
            return (f"database {self.where} is at revision {self.current}, which this hubsgen "
                    f"does not know (a newer release's?); {needs}: run the release that "
                    "upgraded it, or restore a backup")
        return (f"database {self.where} is at revision {self.current}; {needs}: run "
                f"{UPGRADE_COMMAND}")


def standing(engine: Engine) -> Standing:
    with engine.connect() as conn:
        current = revision_of(conn)
        tables = current is not None or has_hubs_tables(conn)
    return Standing(engine.url.render_as_string(hide_password=True), current, head(), tables)


def require_head(engine: Engine) -> None:
    """Refuse a database whose schema is not this release's, saying how to bring it there."""
    found = standing(engine)
    if not found.up_to_date:
        raise DatabaseError(found.line())


@dataclass(frozen=True)
class Upgrade:
    where: str
    before: str | None
    after: str
    recognised: bool
    """Whether *before* was recognised from the tables of a database made before migrations."""

    def line(self) -> str:
        if self.before == self.after and self.recognised:
            return (f"Stamped {self.where} at revision {self.after}, recognised from its tables "
                    "(made before migrations): its schema was already this release's")
        if self.before == self.after:
            return f"Database {self.where} is already at revision {self.after}: nothing to do"
        if self.before is None:
            return f"Created the hubs tables in {self.where}, at revision {self.after}"
        made = " (recognised from its tables: made before migrations)" if self.recognised else ""
        return f"Upgraded {self.where} from revision {self.before}{made} to {self.after}"


def upgrade(engine: Engine) -> Upgrade:
    """Bring the schema to head in one transaction: an empty database from nothing, one made
    before migrations from the revision its tables match."""
    where = engine.url.render_as_string(hide_password=True)
    with engine.begin() as conn:
        before = revision_of(conn)
        recognised = before is None and has_hubs_tables(conn)
        if recognised:
            before = recognise(conn, where)
            command.stamp(config(conn), before)
        elif before is not None and not is_known(before):
            raise DatabaseError(Standing(where, before, head(), True).line())
        command.upgrade(config(conn), "head")
        after = revision_of(conn)
    assert after is not None
    return Upgrade(where, before, after, recognised)


def recognise(connection: Connection, where: str) -> str:
    """The newest revision whose tables and columns are the database's, for a database that
    an earlier release made with ``create_all`` and so carries no revision."""
    revisions = signatures()
    known = frozenset(table for tables in revisions.values() for table in tables)
    found = signature(connection, known)
    for revision, expected in reversed(revisions.items()):
        if found == expected:
            return revision
    raise DatabaseError(f"database {where} has hubs tables ({', '.join(sorted(found))}) but no "
                        "revision, and they match no release's: upgrade it with the release "
                        "that made it, or restore a backup")


def signatures() -> dict[str, Signature]:
    """Each revision's signature, base first, read from a scratch database upgraded one
    revision at a time."""
    order = [script.revision for script in reversed(list(scripts().walk_revisions()))]
    scratch = create_engine("sqlite://")
    found: dict[str, Signature] = {}
    try:
        with scratch.begin() as conn:
            for revision in order:
                command.upgrade(config(conn), revision)
                found[revision] = signature(conn)
    finally:
        scratch.dispose()
    return found


def signature(connection: Connection, tables: frozenset[str] | None = None) -> Signature:
    """*connection*'s tables (those in *tables*, when given) and their column names."""
    inspector = inspect(connection)
    return {table: frozenset(column["name"] for column in inspector.get_columns(table))
            for table in inspector.get_table_names()
            if table != VERSION_TABLE and (tables is None or table in tables)}


def drop_schema(engine: Engine) -> None:
    """Drop the hubs tables and the revision stamp, leaving the database as if new."""
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        Table(VERSION_TABLE, MetaData()).drop(conn, checkfirst=True)

