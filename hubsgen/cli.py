"""The ``hubsgen`` command line."""

from __future__ import annotations

import importlib
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from hubs.errors import HubsError
from hubsgen.logs import setup_logging, show_progress
from hubsgen.options import db_option, echo_report, load_command_settings, out_option
from hubsgen.terminal import printable

if TYPE_CHECKING:
    from hubs.settings import Settings
    from hubsgen.live.events import Network
    from hubsgen.watch.sources import Source


GROUPS = {"hub": "hubsgen.admin.commands", "widget": "hubsgen.admin.commands",
          "member": "hubsgen.admin.commands", "rejected": "hubsgen.admin.rejected",
          "db": "hubsgen.admin.database"}
"""The command groups, each a click group named as its module's attribute: imported only
when named (or help lists them), so ``hubsgen build`` loads no administration code."""


class HubsGroup(click.Group):
    """Print errors a user can fix as one sentence, without a traceback; load GROUPS when
    they are asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *GROUPS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in GROUPS:
            command: click.Command = getattr(importlib.import_module(GROUPS[cmd_name]), cmd_name)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except HubsError as e:
            raise click.ClickException(printable(str(e))) from e
        except Exception as e:
            if not _database_unavailable(e):
                raise
            reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
            raise click.ClickException(printable(
                f"the database could not do it ({reason}); if it is down or restarting, run "
                "the command again when it is back")) from e


def _database_unavailable(error: Exception) -> bool:
    """Whether *error* is the database being unreachable: only if the database layer was
    loaded at all, so that commands which never touch it do not import it to find out."""
    if "sqlalchemy" not in sys.modules:
        return False
    from hubs.db import UNAVAILABLE

    return isinstance(error, UNAVAILABLE)


@click.group(cls=HubsGroup)
@click.option("--config", "config_path", envvar="HUBSGEN_CONFIG",
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="TOML settings file (or $HUBSGEN_CONFIG).")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL; default $HUBS_DB_URL, else sqlite:///hubs.db.")
@click.option("-v", "--verbose", count=True, help="-v for info, -vv for debug.")
@click.option("--log-json", is_flag=True, help="Log JSON lines (for log collectors).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, db_url: str | None, verbose: int,
        log_json: bool) -> None:
    """Pre-render Fedora Hubs to static files and keep them fresh."""
    setup_logging(verbose, log_json)
    ctx.obj = {"config_path": config_path, "db_url": db_url}


@cli.command()
@db_option
@out_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Render in N processes.")
@click.option("--hub", "hub_names", multiple=True, metavar="NAME",
              help="Build only this hub (repeatable); the directory is rewritten only where its "
                   "entry changed.")
@click.option("--force", is_flag=True,
              help="Render even when nothing changed since the last full build.")
@click.pass_obj
def build(obj: dict[str, object], db_url: str | None, out_dir: Path | None, jobs: int | None,
          hub_names: tuple[str, ...], force: bool) -> None:
    """Render every hub page and widget fragment into the output directory.

    A full build whose database, code, templates and settings are as the last full build saw
    them, with its output untouched, renders nothing; --force renders anyway."""
    from hubsgen.build.run import run_build  # heavy imports only when the command runs

    settings = load_command_settings(obj, db_url=db_url, out_dir=out_dir, jobs=jobs)
    if sys.stderr.isatty():
        with click.progressbar(length=_hub_count(settings, hub_names), label="Rendering hubs",
                               file=sys.stderr) as bar:
            report = run_build(settings, hub_names, on_progress=bar.update, force=force)
    else:
        report = run_build(settings, hub_names, force=force)
    echo_report(report)


def _hub_count(settings: Settings, hub_names: tuple[str, ...]) -> int:
    if hub_names:
        return len(set(hub_names))
    from sqlalchemy import func, select

    from hubs.db import open_engine, require_hubs
    from hubs.models import Hub

    engine = open_engine(settings.db_url)
    try:
        require_hubs(engine)
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Hub)) or 0)
    finally:
        engine.dispose()


@cli.command()
@click.option("--source", "source_spec", default="fedmsg", show_default=True,
              metavar="SOURCE",
              help="fedmsg, amqp (fedora-messaging's TOML config), amqp://URL, or "
                   "replay:PATH (- for standard input).")
@click.option("--endpoint", "endpoints", multiple=True, metavar="tcp://HOST:PORT",
              help="fedmsg endpoint (repeatable); default: the fedmsg.d configuration.")
@click.option("--topic", "topics", multiple=True, metavar="TOPIC",
              help="AMQP binding (repeatable); default: every topic of [bus] environment.")
@click.option("--once", is_flag=True, help="Stop when the source has nothing more to give.")
@click.option("--declare-only", is_flag=True,
              help="Declare the AMQP queues and bindings, then exit: run it before the first "
                   "build, so the broker keeps what is published while the build runs.")
@click.option("--metrics", "metrics_address", metavar="HOST:PORT",
              help="Serve Prometheus metrics at http://HOST:PORT/metrics.")
@click.option("--shard", "shard_spec", metavar="I/N",
              help="Write only the hubs of shard I of N (0-based); with AMQP, use a queue of "
                   "this shard's own.")
@db_option
@out_option
@click.pass_obj
def watch(obj: dict[str, object], source_spec: str, endpoints: tuple[str, ...],
          topics: tuple[str, ...], once: bool, declare_only: bool, metrics_address: str | None,
          shard_spec: str | None, db_url: str | None, out_dir: Path | None) -> None:
    """Rewrite the fragments (and pages) that bus messages change, as they arrive."""
    import signal
    import threading

    from hubsgen.watch.daemon import WatchOptions, run_watch
    from hubsgen.watch.shards import Shard
    from hubsgen.watch.sources.open import open_source

    settings = load_command_settings(obj, db_url=db_url, out_dir=out_dir)
    replay = Path(source_spec.removeprefix("replay:"))
    if source_spec.startswith("replay:") and str(replay) != "-" and not replay.is_file():
        raise click.ClickException(f"replay file {replay} does not exist: give --source "
                                   "replay:PATH of a JSON-lines file, or replay:- for stdin")
    shard = Shard.parse(shard_spec) if shard_spec else Shard()
    source = open_source(source_spec, endpoints=endpoints, topics=topics, once=once,
                         queue_suffix=shard.suffix, environment=settings.bus.environment)
    if declare_only:
        _declare(source)
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stats = run_watch(settings, source, stop, WatchOptions(shard=shard),
                      metrics_address=metrics_address)
    click.echo(", ".join(f"{count} {name}" for name, count in sorted(stats.items()))
               or "No messages")


def _declare(source: Source) -> None:
    """Declare an AMQP source's queues and bindings, as the first step of a deployment."""
    from hubsgen.watch.sources.amqp import AmqpSource, broker_address

    if not isinstance(source, AmqpSource):
        source.close()
        raise click.ClickException(f"--declare-only needs an AMQP source (--source amqp or "
                                   f"amqp://URL), got {source.name}")
    source.declare()
    click.echo(f"Declared {', '.join(source.topology.queues)} on "
               f"{broker_address(source.topology.parameters())}")


@cli.command()
@click.argument("message_file", type=click.File("rb"), metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@db_option
@click.pass_obj
def explain(obj: dict[str, object], message_file: BinaryIO, as_json: bool,
            db_url: str | None) -> None:
    """Say what messages mean and which widgets they would refresh; changes nothing."""
    import json
    import tempfile

    from hubsgen.watch.daemon import open_watcher
    from hubsgen.watch.explain import Explanation
    from hubsgen.watch.explain import explain as explain_messages

    with tempfile.TemporaryDirectory() as scratch:  # the watcher's output, never written to
        settings = load_command_settings(obj, db_url=db_url, out_dir=Path(scratch))
        with open_watcher(settings) as watcher:
            for item in explain_messages(watcher.pipeline, message_file.read()):
                if isinstance(item, Explanation):
                    click.echo(json.dumps(item.as_dict()) if as_json else printable(item.line()))
                elif as_json:
                    click.echo(json.dumps({"msg_id": item.msg_id, "error": item.reason}))
                else:
                    click.echo(printable(f"{item.msg_id}: would be quarantined: {item.reason}"))


def _since(value: str) -> datetime:
    """``7d``, ``12h``, ``30m`` ago, or an ISO 8601 time (UTC unless it says otherwise)."""
    import re
    from datetime import UTC, timedelta

    match = re.fullmatch(r"(\d+)([dhm])", value.strip())
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match[2]]
        return datetime.now(UTC) - timedelta(**{unit: int(match[1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use 7d, 12h, 30m or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cli.command()
@click.option("--datagrepper", "url", default="https://apps.fedoraproject.org/datagrepper",
              show_default=True, help="Datagrepper's base URL.")
@click.option("--since", "since", required=True, metavar="7d|ISO",
              help="How far back: 7d, 12h, 30m, or an ISO 8601 time.")
@db_option
@out_option
@click.pass_obj
def backfill(obj: dict[str, object], url: str, since: str, db_url: str | None,
             out_dir: Path | None) -> None:
    """Fill the message store from datagrepper, refreshing the widgets it changes."""
    import threading
    from datetime import UTC

    from hubsgen.watch.daemon import run_watch
    from hubsgen.watch.sources.datagrepper import DatagrepperSource

    settings = load_command_settings(obj, db_url=db_url, out_dir=out_dir)
    source = DatagrepperSource(url, _since(since), datetime.now(UTC))
    stats = run_watch(settings, source, threading.Event())
    click.echo(", ".join(f"{count} {name}" for name, count in sorted(stats.items()))
               or "No messages")


def _networks(_ctx: click.Context, _param: click.Parameter,
              values: tuple[str, ...]) -> tuple[Network, ...]:
    import ipaddress

    try:
        return tuple(ipaddress.ip_network(value, strict=False) for value in values)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--trusted-proxy") from e


@cli.command()
@click.option("--listen", default="127.0.0.1:8081", show_default=True, metavar="HOST:PORT",
              help="Where to answer /events (behind nginx).")
@click.option("--max-connections", type=click.IntRange(min=1), default=10_000,
              show_default=True, help="Open event streams in all.")
@click.option("--max-per-address", type=click.IntRange(min=1), default=100, show_default=True,
              help="Open event streams per client address (X-Real-IP from a trusted proxy, "
                   "else the peer's).")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS[/BITS]",
              callback=_networks,
              help="Believe X-Real-IP from this address or network (repeatable; nginx on "
                   "this host: 127.0.0.1). From other peers it is ignored.")
@click.option("--keepalive", type=click.FloatRange(min=0.1), default=15.0, show_default=True,
              metavar="SECONDS", help="Seconds between keep-alive comments on idle streams.")
@out_option
@click.pass_obj
def events(obj: dict[str, object], listen: str, max_connections: int, max_per_address: int,
           trusted_proxies: tuple[Network, ...], keepalive: float, out_dir: Path | None) -> None:
    """Stream which widgets changed to open hub pages (server-sent events)."""
    import asyncio
    import signal

    from hubsgen.live.events import Limits, serve_events

    settings = load_command_settings(obj, out_dir=out_dir)
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise click.BadParameter(f"{listen!r}: use HOST:PORT", param_hint="--listen")
    show_progress("hubsgen.live.events")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve_events(settings.out_dir, host or "127.0.0.1", int(port),
                           Limits(max_connections, max_per_address, keepalive, trusted_proxies),
                           stop)

    asyncio.run(main())


@cli.command()
@click.option("--port", type=click.IntRange(1, 65534), default=5000, show_default=True,
              help="Serve on 127.0.0.1:PORT.")
@click.option("--events-port", type=click.IntRange(1, 65535),
              help="Where the events shim listens  [default: PORT+1].")
@db_option
@out_option
@click.pass_obj
def serve(obj: dict[str, object], port: int, events_port: int | None, db_url: str | None,
          out_dir: Path | None) -> None:
    """Build, serve and rebuild on save, reloading the browser: the widget author's loop."""
    from hubsgen.dev.server import serve as run_dev_server

    show_progress("hubsgen.dev.server", "hubsgen.dev.site")
    run_dev_server(load_command_settings(obj, db_url=db_url, out_dir=out_dir), "127.0.0.1", port,
                   events_port or port + 1)
