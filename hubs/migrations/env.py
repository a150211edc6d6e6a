"""Run the revisions on the connection hubs.migrations hands over (there is no alembic.ini)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from hubs.models import Base, UTCDateTime


def render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Write UTCDateTime as the DateTime it stores: a revision must not import the models,
    which move on after it."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters a table by copying it; batch mode writes that for us
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
