"""Where the database is and how to open it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import URL, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hubs.errors import ConfigError, DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

    from hubs.models import Base

DEFAULT_URL = "sqlite:///hubs.db"
URL_ENV = "HUBS_DB_URL"

UNAVAILABLE = (OperationalError, InterfaceError)
"""What SQLAlchemy raises when the database is down, restarting or cut off (and what SQLite
raises when it is locked): the database's fault, so work is retried, never blamed on data."""

SCHEMA_REVISION = "0004_covering_tag_lookup"
"""The newest revision in hubs/migrations/versions (a test checks they agree): a database at
it is known current from one query, without loading Alembic, which costs most of a small
command's start-up."""


def resolve_url(db_url: str | None) -> str:
    """``--db`` wins, then ``$HUBS_DB_URL``, then a SQLite file in the working directory."""
    return db_url or os.environ.get(URL_ENV) or DEFAULT_URL


def open_engine(url: str, create: bool = False) -> Engine:
    """An engine on *url*, or an error saying why it cannot work before anything runs: a
    SQLite file is made only when *create* says so (populate.py, ``hub create``, each then
    giving it the schema with create_schema), since a mistyped URL would otherwise become an
    empty database."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(parsed, create)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(parsed, pool_pre_ping=True)  # servers restart; pooled links go stale
    try:
        engine.connect().close()
    except OperationalError as e:
        engine.dispose()
        reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        raise DatabaseError(f"database {shown(parsed)} is not reachable ({reason}): check that "
                            "it is running and that the URL is right") from e
    return engine


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except ArgumentError as e:
        raise ConfigError(f"database URL {url!r} is not a URL: use sqlite:///{url} for a SQLite "
                          "file, or postgresql+psycopg://USER@HOST/NAME") from e
    except NoSuchModuleError as e:
        raise ConfigError(f"database URL {url!r} names no known database: use sqlite:///PATH "
                          "or postgresql+psycopg://USER@HOST/NAME") from e
    return parsed


def _check_sqlite_file(url: URL, create: bool) -> None:
    if url.database in (None, "", ":memory:") or url.query.get("uri"):
        return
    path = Path(url.database)
    if not path.parent.is_dir():
        raise DatabaseError(f"database {path}: its directory {path.parent} does not exist: "
                            "create it, or fix the URL")
    if not create and not path.exists():
        raise DatabaseError(f"database {path} does not exist: create it with "
                            + how_to_create(shown(url)))


def shown(url: URL | str) -> str:
    """*url* as an error message may print it: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def how_to_create(url: str) -> str:
    return (f"python populate.py --db {url} (demo data), or start empty with "
            f"hubsgen hub create NAME --db {url}")


def require_hubs(engine: Engine) -> None:
    """Refuse a database without the hubs tables (not the one meant, or not filled yet), or
    whose schema is not this release's: a few queries, once, before any work starts."""
    found = inspect(engine)
    if not found.has_table("hubs"):
        raise DatabaseError(f"database {shown(engine.url)} has no hubs tables: create them with "
                            + how_to_create(shown(engine.url)))
    if found.has_table("alembic_version") and _revision(engine) == SCHEMA_REVISION:
        return
    from hubs import migrations  # Alembic, to say where the schema stands and what to run

    migrations.require_head(engine)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        found = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return None if found is None else str(found)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """Cascade deletes and let a build read while watch writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_schema(engine: Engine) -> None:
    """Give a database without the hubs tables this release's schema, through the migrations
    as every schema is made; one that has them must already be current, since upgrading it is
    the operator's step (``hubsgen db upgrade``), taken knowingly."""
    from hubs import migrations

    if inspect(engine).has_table("hubs"):
        migrations.require_head(engine)
    else:
        migrations.upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def dialect_insert(model: type[Base], dialect: str) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into *model*'s table that can take ON CONFLICT, which both dialects spell
    alike but SQLAlchemy builds per dialect. Each dialect's module is imported only where it
    is the database: PostgreSQL's took 25 ms of a SQLite command's start-up."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(model)
