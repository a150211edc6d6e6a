#!/usr/bin/env python
"""Fill a hubs database: the original prototype's demo hubs, or a synthetic population at scale.

    python populate.py [--db URL] [--force]
    python populate.py --users 100000 --groups 500 --seed 1 [--messages-per-user 3]
"""

from __future__ import annotations

import time

import click
from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from hubs.db import create_schema, open_engine, resolve_url
from hubs.migrations import VERSION_TABLE, drop_schema
from hubs.models import Base, Hub, Message
from hubsgen.demo.population import populate_demo
from hubsgen.demo.synthetic import DEFAULT_MESSAGES_PER_USER, Spec, populate_synthetic


@click.command()
@click.option("--db", "db_url", metavar="URL",
              help="Database URL; default $HUBS_DB_URL, else sqlite:///hubs.db.")
@click.option("--force", is_flag=True,
              help="Drop and recreate the hubs tables if the database already has them.")
@click.option("--users", type=click.IntRange(min=1),
              help="Generate a synthetic population of N users instead of the demo.")
@click.option("--groups", type=click.IntRange(min=0),
              help="Synthetic team hubs [default: one per 200 users].")
@click.option("--seed", type=int, help="Seed of the synthetic population [default: 1].")
@click.option("--messages-per-user", type=click.IntRange(min=0),
              help=f"Synthetic messages per user, on average [default: "
                   f"{DEFAULT_MESSAGES_PER_USER}].")
def cli(db_url: str | None, force: bool, users: int | None, groups: int | None,
        seed: int | None, messages_per_user: int | None) -> None:
    """Create the schema and fill it with demo or synthetic hubs, users and messages."""
    if users is None and (groups, seed, messages_per_user) != (None, None, None):
        raise click.UsageError("--groups, --seed and --messages-per-user need --users")
    engine = open_engine(resolve_url(db_url), create=True)
    try:
        started = time.perf_counter()
        prepare_schema(engine, force)
        if users is None:
            with Session(engine) as session, session.begin():
                populate_demo(session)
            what = _demo_summary(engine)
        else:
            spec = Spec(users=users, groups=users // 200 if groups is None else groups,
                        seed=1 if seed is None else seed,
                        messages_per_user=(DEFAULT_MESSAGES_PER_USER if messages_per_user is None
                                           else messages_per_user))
            with engine.begin() as conn:
                what = populate_synthetic(conn, spec).summary()
                _advance_sequences(conn)
        where = engine.url.render_as_string(hide_password=True)
        click.echo(f"Populated {where}: {what} in {time.perf_counter() - started:.1f}s")
    finally:
        engine.dispose()


def prepare_schema(engine: Engine, force: bool) -> None:
    """Create the tables through the migrations; refuse to touch existing ones unless *force*
    says to drop them."""
    existing = sorted(set(inspect(engine).get_table_names())
                      & {*Base.metadata.tables, VERSION_TABLE})
    if existing and not force:
        where = engine.url.render_as_string(hide_password=True)
        raise click.ClickException(
            f"{where} already holds hubs tables ({', '.join(existing)}); refusing to populate "
            "it again. Pass --force to drop and recreate them (their data will be lost)."
        )
    if existing:
        drop_schema(engine)
    create_schema(engine)


def _demo_summary(engine: Engine) -> str:
    with engine.connect() as conn:
        hubs = conn.scalar(select(func.count()).select_from(Hub))
        messages = conn.scalar(select(func.count()).select_from(Message))
    return f"the demo ({hubs} hubs, {messages} messages)"


def _advance_sequences(conn: Connection) -> None:
    """Synthetic rows carry explicit ids; PostgreSQL's sequences must move past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))


if __name__ == "__main__":
    cli()
