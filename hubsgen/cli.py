"""The ``hubsgen`` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from hubs.errors import HubsError
from hubs.settings import Settings, load_settings


def setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class HubsGroup(click.Group):
    """Print errors a user can fix as one sentence, without a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except HubsError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=HubsGroup)
@click.option("--config", "config_path", envvar="HUBSGEN_CONFIG",
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="TOML settings file (or $HUBSGEN_CONFIG).")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL; default $HUBS_DB_URL, else sqlite:///hubs.db.")
@click.option("-v", "--verbose", count=True, help="-v for info, -vv for debug.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, db_url: str | None, verbose: int) -> None:
    """Pre-render Fedora Hubs to static files and keep them fresh."""
    setup_logging(verbose)
    ctx.obj = {"config_path": config_path, "db_url": db_url}


@cli.command()
@click.option("--db", "db_url", metavar="URL", help="Database URL (overrides the group option).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory [default: build].")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Render in N processes.")
@click.option("--hub", "hub_names", multiple=True, metavar="NAME",
              help="Build only this hub (repeatable); the directory page is still refreshed.")
@click.pass_obj
def build(obj: dict[str, object], db_url: str | None, out_dir: Path | None, jobs: int | None,
          hub_names: tuple[str, ...]) -> None:
    """Render every hub page and widget fragment into the output directory."""
    from hubsgen.build import run_build  # heavy imports only when the command runs

    settings = _settings(obj, db_url=db_url, out_dir=out_dir, jobs=jobs)
    if sys.stderr.isatty():
        with click.progressbar(length=_hub_count(settings, hub_names), label="Rendering hubs",
                               file=sys.stderr) as bar:
            report = run_build(settings, hub_names, on_progress=bar.update)
    else:
        report = run_build(settings, hub_names)
    click.echo(report.summary())
    if report.failures:
        for failure in report.failures:
            click.echo(f"  failed: {failure}", err=True)
        raise click.exceptions.Exit(1)


def _settings(obj: dict[str, object], **options: object) -> Settings:
    config_path = obj["config_path"]
    assert config_path is None or isinstance(config_path, Path)
    options["db_url"] = options.get("db_url") or obj["db_url"]
    return load_settings(config_path, **options)


def _hub_count(settings: Settings, hub_names: tuple[str, ...]) -> int:
    if hub_names:
        return len(set(hub_names))
    from sqlalchemy import func, select

    from hubs.db import open_engine
    from hubs.models import Hub

    engine = open_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Hub)) or 0)
    finally:
        engine.dispose()
