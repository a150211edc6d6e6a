"""Write the schema that the release before migrations made, for tests/unit/test_migrations.py.

    .venv/bin/python tests/unit/before_migrations/regenerate.py

It runs that release's own hubs/models.py, read from git at 3b6edf0^ (the commit before the
quarantine table), and writes the DDL its ``create_all`` emits on SQLite and on PostgreSQL to
sqlite.sql and postgresql.sql beside this file. It needs the repository's history.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

from sqlalchemy import MetaData, create_mock_engine

RELEASE = "3b6edf0^"
HERE = Path(__file__).parent
DIALECTS = {"sqlite": "sqlite://", "postgresql": "postgresql+psycopg://"}


def release_metadata() -> MetaData:
    """The release's models, run as a module of their own (declarative needs it registered)."""
    source = subprocess.run(["git", "show", f"{RELEASE}:hubs/models.py"], cwd=HERE,
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("release_models")
    sys.modules[module.__name__] = module
    exec(compile(source, f"{RELEASE}:hubs/models.py", "exec"), module.__dict__)  # noqa: S102
    metadata: MetaData = module.Base.metadata
    return metadata


def create_all_ddl(metadata: MetaData, url: str) -> str:
    """What ``metadata.create_all`` sends to a new database of *url*'s dialect, statement by
    statement, each ending with ";" and a blank line."""
    statements: list[str] = []
    engine = create_mock_engine(url, lambda sql, *_, **__: statements.append(
        str(sql.compile(dialect=engine.dialect)).strip()))
    metadata.create_all(engine, checkfirst=False)
    return "".join("\n".join(line.rstrip() for line in statement.splitlines()) + ";\n\n"
                   for statement in statements)


def main() -> None:
    metadata = release_metadata()
    for name, url in DIALECTS.items():
        header = (f"-- The schema hubsgen's create_all made before migrations ({RELEASE}), on "
                  f"{name}.\n-- Regenerate: .venv/bin/python "
                  "tests/unit/before_migrations/regenerate.py\n\n")
        (HERE / f"{name}.sql").write_text(header + create_all_ddl(metadata, url))


if __name__ == "__main__":
    main()
