"""Where the database is and how to open it."""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from hubs.models import Base

DEFAULT_URL = "sqlite:///hubs.db"
URL_ENV = "HUBS_DB_URL"


def resolve_url(db_url: str | None) -> str:
    """``--db`` wins, then ``$HUBS_DB_URL``, then a SQLite file in the working directory."""
    return db_url or os.environ.get(URL_ENV) or DEFAULT_URL


def open_engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """Cascade deletes and let a build read while watch writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
