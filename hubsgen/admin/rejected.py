"""``hubsgen rejected``: see, retry and purge the messages the watcher quarantined."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hubs.errors import ConfigError
from hubsgen.options import database_session, db_option, load_command_settings, out_option
from hubsgen.terminal import echo

if TYPE_CHECKING:
    from hubs.models import QuarantinedMessage

STAGES = ("decode", "check", "understand", "read", "handle")


@click.group()
def rejected() -> None:
    """Messages that could not be handled, kept in quarantine with the reason."""


@rejected.command("list")
@click.option("--stage", type=click.Choice(STAGES), help="Only those refused at this stage.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@db_option
@click.pass_obj
def list_rejected(obj: dict[str, object], stage: str | None, limit: int, as_json: bool,
                  db_url: str | None) -> None:
    """The most recently refused first."""
    from hubs import quarantine

    with database_session(load_command_settings(obj, db_url=db_url)) as session:
        found = quarantine.entries(session, stage=stage, limit=limit)
        for entry in found:
            if as_json:
                click.echo(json.dumps(_summary(entry)))
            else:
                echo(f"{entry.id:>6}  {entry.last_seen:%Y-%m-%d %H:%M:%S}  "
                           f"x{entry.seen:<3} {entry.stage:<10} {entry.msg_id or '(no id)'}  "
                           f"{entry.topic or '(no topic)'}\n        {entry.reason}")
        if not found and not as_json:
            click.echo("No messages in quarantine.")


@rejected.command()
@click.argument("entry_id", type=int, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@db_option
@click.pass_obj
def show(obj: dict[str, object], entry_id: int, as_json: bool, db_url: str | None) -> None:
    """One message with everything kept of it: the payload as it came."""
    from hubs.models import QuarantinedMessage

    with database_session(load_command_settings(obj, db_url=db_url)) as session:
        entry = session.get(QuarantinedMessage, entry_id)
        if entry is None:
            raise ConfigError(f"no message {entry_id} in quarantine; hubsgen rejected list "
                              "shows the ids")
        payload = entry.payload.decode("utf-8", "backslashreplace")
        if as_json:
            click.echo(json.dumps({**_summary(entry), "headers": entry.headers,
                                   "payload": payload}))
            return
        for label, value in _summary(entry).items():
            echo(f"{label + ':':<12} {value}")
        echo(f"{'headers:':<12} {json.dumps(entry.headers, sort_keys=True)}")
        echo(f"payload ({len(entry.payload)} bytes):")
        for line in _pretty(payload).splitlines():
            echo(line)


@rejected.command()
@click.argument("entry_ids", type=int, nargs=-1, metavar="[ID]...")
@click.option("--all", "everything", is_flag=True, help="Every message in quarantine.")
@db_option
@out_option
@click.pass_obj
def retry(obj: dict[str, object], entry_ids: tuple[int, ...], everything: bool,
          db_url: str | None, out_dir: Path | None) -> None:
    """Handle messages again, as if they had just arrived, after a fix: those that get through
    leave quarantine and refresh their widgets; the others stay, with their new reason."""
    from hubs import quarantine
    from hubs.db import open_engine, require_hubs, session_factory
    from hubsgen.watch.daemon import run_watch
    from hubsgen.watch.sources.quarantine import QuarantineSource

    _one_of(entry_ids, everything)
    settings = load_command_settings(obj, db_url=db_url, out_dir=out_dir)
    engine = open_engine(settings.db_url)
    try:
        require_hubs(engine)
        with session_factory(engine)() as session:
            before = len(quarantine.entries(session, entry_ids))
        stats = run_watch(settings, QuarantineSource(engine, entry_ids), threading.Event())
        with session_factory(engine)() as session:
            left = len(quarantine.entries(session, entry_ids)) if entry_ids else None
    finally:
        engine.dispose()
    again = stats["quarantined"]
    click.echo(f"Retried {before}: {before - again} handled, {again} quarantined again"
               + ("" if left is None else f" ({left} of the given ids left)"))


@rejected.command()
@click.argument("entry_ids", type=int, nargs=-1, metavar="[ID]...")
@click.option("--all", "everything", is_flag=True, help="Every message in quarantine.")
@click.option("--older-than", "days", type=click.IntRange(min=0), metavar="DAYS",
              help="Only those last refused more than DAYS days ago.")
@db_option
@click.pass_obj
def purge(obj: dict[str, object], entry_ids: tuple[int, ...], everything: bool,
          days: int | None, db_url: str | None) -> None:
    """Forget messages for good."""
    from hubs import quarantine

    if days is None:
        _one_of(entry_ids, everything)
    before = None if days is None else datetime.now(UTC) - timedelta(days=days)
    with database_session(load_command_settings(obj, db_url=db_url)) as session:
        removed = quarantine.forget(session, entry_ids, before)
        session.commit()
    click.echo(f"Purged {removed} message{'' if removed == 1 else 's'} from quarantine.")


def _one_of(entry_ids: tuple[int, ...], everything: bool) -> None:
    if bool(entry_ids) == everything:
        raise click.UsageError("give the ids of the messages, or --all")


def _summary(entry: QuarantinedMessage) -> dict[str, Any]:
    return {"id": entry.id, "msg_id": entry.msg_id, "topic": entry.topic,
            "source": entry.source, "stage": entry.stage, "reason": entry.reason,
            "kind": entry.kind, "seen": entry.seen, "first_seen": entry.first_seen.isoformat(),
            "last_seen": entry.last_seen.isoformat()}


def _pretty(payload: str) -> str:
    try:
        return json.dumps(json.loads(payload), indent=2, sort_keys=True, ensure_ascii=False)
    except (ValueError, RecursionError):
        return payload
