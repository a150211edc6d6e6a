"""Fixtures: real SQLite databases per test, and a private schema on the running PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from hubs.settings import ENVIRONMENT
from hubs.testing import make_engine

PG_URL = os.environ.get("HUBS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def require(reason: str) -> None:
    """Skip on a laptop without the component; under CI=true a missing component fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def settings_environment_cleared(monkeypatch) -> None:
    """The developer's own $HUBSGEN_JOBS, $HUBS_DB_URL... would override what tests set."""
    for name in [*ENVIRONMENT.values(), "HUBSGEN_CONFIG"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True, scope="session")
def template_cache_of_the_run(tmp_path_factory) -> Iterator[None]:
    """Templates the tests compile are kept in a cache of the run's own (the hubsgen processes
    tests start inherit it), not in the developer's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'hubs.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped afterwards."""
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        require(f"PostgreSQL at {PG_URL} is not reachable: {e}")
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def db_url(request) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
