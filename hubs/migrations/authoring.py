"""Writing a revision: what autogenerate finds between the revisions and the models."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine

from hubs.errors import ConfigError
from hubs.migrations import config, scripts
from hubs.models import Base


def differences(connection: Connection) -> list[object]:
    """What Alembic finds between *connection*'s schema and the models (empty: they agree)."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def new_revision(message: str) -> Path:
    """Write the revision that takes a database at head to the models, as Alembic's
    autogenerate finds it on a scratch SQLite database, for a developer to read and adjust."""
    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as conn:
            command.upgrade(config(conn), "head")
            if not differences(conn):
                raise ConfigError("the models and the migrations already agree: change "
                                  "hubs/models.py first, then write its revision")
            number = len(list(scripts().walk_revisions())) + 1
            slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:27]
            written = command.revision(config(conn), message, autogenerate=True,
                                       rev_id=f"{number:04d}_{slug}")
    finally:
        scratch.dispose()
    assert written is not None and not isinstance(written, list)
    return Path(written.path)
