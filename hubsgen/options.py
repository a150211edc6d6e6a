"""What the commands share: the options every group takes, the settings they load and the
database session they open. Light to import, so ``hubsgen --help`` loads no database layer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hubsgen.terminal import printable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hubs.settings import Settings
    from hubsgen.build.run import BuildReport

db_option = click.option("--db", "db_url", metavar="URL",
                         help="Database URL (overrides the group option).")
out_option = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                          help="Output directory [default: build].")


def load_command_settings(obj: dict[str, object], **options: object) -> Settings:
    """The settings of the group's --config and --db, then of the command's own options."""
    from hubs.settings import load_settings

    config_path = obj["config_path"]
    assert config_path is None or isinstance(config_path, Path)
    options["db_url"] = options.get("db_url") or obj["db_url"]
    return load_settings(config_path, **options)


@contextmanager
def database_session(settings: Settings, new_database: bool = False) -> Iterator[Session]:
    """A session on the configured database. Only ``hub create`` may start a new one: for any
    other command, a mistyped URL would silently make an empty database (SQLite) and, with no
    bus, rewrite the live directory page from it."""
    from hubs.db import create_schema, open_engine, require_hubs, session_factory

    engine = open_engine(settings.db_url, create=new_database)
    try:
        if new_database:
            create_schema(engine)
        else:
            require_hubs(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def echo_report(report: BuildReport) -> None:
    """A build's one-line summary, then each failure; exit 1 if there was any."""
    click.echo(report.summary())
    for failure in report.failures:
        click.echo(printable(f"  failed: {failure}"), err=True)
    if report.failures:
        raise click.exceptions.Exit(1)
