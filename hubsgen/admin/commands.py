"""``hubsgen hub|widget|member``: administer hubs from the command line.

Each change is committed, then carried to build/ by ``--bus``: published for a running
``hubsgen watch``, or (``none``) written here by building the hubs it touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hubs.errors import HubsError
from hubs.roles import ROLES
from hubsgen.admin.announce import BUSES, publish, rewrite
from hubsgen.dev.scaffold import new_widget_command
from hubsgen.options import (
    database_session,
    db_option,
    echo_report,
    load_command_settings,
    out_option,
)
from hubsgen.terminal import echo, printable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hubs.admin import Change
    from hubs.plugins import Registry

bus_option = click.option(
    "--bus", default="none", show_default=True, envvar="HUBSGEN_BUS", type=click.Choice(BUSES),
    help="Announce the change for a running hubsgen watch on fedmsg (through fedmsg-relay) "
         "or AMQP (fedora-messaging's configuration), or (none) rewrite the files here "
         "[env HUBSGEN_BUS].")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def change_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--db, --out and --bus: what every command that changes a hub takes."""
    return db_option(out_option(bus_option(command)))


def _assignments(parse: Callable[[str], Any]) -> Callable[..., dict[str, Any]]:
    """A click callback reading repeated KEY=VALUE options into a dict, values by *parse*."""
    def callback(_ctx: click.Context, param: click.Parameter,
                 items: tuple[str, ...]) -> dict[str, Any]:
        values = {}
        for item in items:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise click.BadParameter(f"{item!r}: give KEY=VALUE", param=param)
            try:
                values[key] = parse(value)
            except ValueError as e:
                raise click.BadParameter(f"{key}: not JSON: {e}", param=param) from None
        return values

    return callback


set_option = click.option("--set", "texts", multiple=True, metavar="KEY=TEXT",
                          callback=_assignments(str),
                          help="Set an argument to a text (repeatable); numbers and "
                               "comma-separated lists are read from text too.")
set_json_option = click.option("--set-json", "jsons", multiple=True, metavar="KEY=JSON",
                               callback=_assignments(json.loads),
                               help="Set an argument to a JSON value: true, [\"a\", \"b\"] "
                                    "(repeatable).")


def _apply(obj: dict[str, object], db_url: str | None, out_dir: Path | None, bus: str,
           action: Callable[[Session], Change], new_database: bool = False,
           registry: Registry | None = None) -> None:
    """Commit what *action* does, say so, then publish it on *bus* or rewrite its files
    (with *registry*, if the command loaded the plugins: loading them again is 10 ms)."""
    settings = load_command_settings(obj, db_url=db_url, out_dir=out_dir)
    with database_session(settings, new_database) as session:
        change = action(session)
        session.commit()
    echo(change.what)
    if not change.notices:
        return
    if bus != "none":
        try:
            sent = publish(bus, change.notices, settings.bus.environment)
        except HubsError as e:
            raise click.ClickException(printable(
                f"{e}; the change is saved: hubsgen build --hub {' --hub '.join(change.hubs)} "
                "rewrites its files")) from e
        echo(f"Announced on {bus}: " + ", ".join(
            f"{notice.topic} {notice.body['hub']} (msg {msg_id})"
            for notice, msg_id in zip(change.notices, sent, strict=True)))
        return
    report = rewrite(settings, change, registry)
    if report is not None:
        echo_report(report)


@click.group()
def hub() -> None:
    """Create, show, list and archive hubs."""


@hub.command("create")
@click.argument("name")
@click.option("--user", "user_hub", is_flag=True,
              help="A contributor's hub, named after their account.")
@click.option("--summary", default="", help="The line under the hub's name.")
@click.option("--widgets", type=click.Choice(["default", "none"]), default="default",
              show_default=True, help="Start with the usual widgets of a team or user hub, "
                                      "or with none.")
@change_options
@click.pass_obj
def create_hub(obj: dict[str, object], name: str, user_hub: bool, summary: str, widgets: str,
               db_url: str | None, out_dir: Path | None, bus: str) -> None:
    """Create the hub NAME."""
    from hubs import admin
    from hubs.plugins import load_widgets

    registry = load_widgets()
    _apply(obj, db_url, out_dir, bus, lambda session: admin.create_hub(
        session, registry, name, user_hub=user_hub, summary=summary,
        default_widgets=widgets == "default"), new_database=True, registry=registry)


@hub.command("archive")
@click.argument("name")
@click.option("--undo", is_flag=True, help="Bring an archived hub back.")
@change_options
@click.pass_obj
def archive_hub(obj: dict[str, object], name: str, undo: bool, db_url: str | None,
                out_dir: Path | None, bus: str) -> None:
    """Mark the hub NAME archived: kept for reference, no longer looked after."""
    from hubs import admin

    _apply(obj, db_url, out_dir, bus,
           lambda session: admin.archive_hub(session, name, archived=not undo))


@hub.command("show")
@click.argument("name")
@json_option
@db_option
@click.pass_obj
def show_hub(obj: dict[str, object], name: str, as_json: bool, db_url: str | None) -> None:
    """Print the hub NAME, its people by role and its widgets in page order."""
    from hubs import admin

    with database_session(load_command_settings(obj, db_url=db_url)) as session:
        details = admin.describe_hub(admin.find_hub(session, name))
    if as_json:
        click.echo(json.dumps(details, indent=2))  # ASCII: json.dumps escapes the rest
        return
    state = ", archived" if details["archived"] else ""
    echo(f"{details['name']} ({details['kind']} hub{state})")
    if details["summary"]:
        echo(f"  {details['summary']}")
    for role, usernames in details["members"].items():
        echo(f"{role}s: {', '.join(usernames) or '-'}")
    echo("widgets:" if details["widgets"] else "widgets: -")
    width = max((len(str(w["id"])) for w in details["widgets"]), default=0)
    for w in details["widgets"]:
        echo(f"  {w['column']:<4} {w['position']:>2}  {name}/{w['id']:<{width}}  "
                   f"{w['plugin']:<15} {json.dumps(w['config'], sort_keys=True)}")


@hub.command("list")
@json_option
@db_option
@click.pass_obj
def list_hubs(obj: dict[str, object], as_json: bool, db_url: str | None) -> None:
    """Print every hub, teams first, with its widget and people counts."""
    from hubs import admin

    with database_session(load_command_settings(obj, db_url=db_url)) as session:
        hubs = admin.list_hubs(session)
    if as_json:
        click.echo(json.dumps(hubs, indent=2))  # ASCII: json.dumps escapes the rest
        return
    width = max((len(h["name"]) for h in hubs), default=0)
    for h in hubs:
        state = "archived" if h["archived"] else ""
        echo(f"{h['name']:<{width}}  {h['kind']:<4}  {state:<8}  {h['widgets']:>2} widgets"
                   f"  {h['people']:>3} people  {h['summary']}".rstrip())
    if not hubs:
        echo("No hubs")


@click.group()
def widget() -> None:
    """Add, configure, move and remove the widgets of a hub; scaffold a new widget plugin."""


@widget.command("add")
@click.argument("hub_name", metavar="HUB")
@click.argument("plugin")
@click.option("--column", default="main", show_default=True, metavar="main|side",
              help="The wide main column or the narrow side one.")
@click.option("--position", type=int, help="0 for the top  [default: the column's end].")
@set_option
@set_json_option
@change_options
@click.pass_obj
def add_widget(obj: dict[str, object], hub_name: str, plugin: str, column: str,
               position: int | None, texts: dict[str, Any], jsons: dict[str, Any],
               db_url: str | None, out_dir: Path | None, bus: str) -> None:
    """Add a PLUGIN widget to HUB, configured by --set and --set-json."""
    from hubs import admin
    from hubs.plugins import load_widgets

    registry = load_widgets()
    _apply(obj, db_url, out_dir, bus, lambda session: admin.add_widget(
        session, registry, hub_name, plugin, {**texts, **jsons}, column=column,
        position=position), registry=registry)


@widget.command("configure")
@click.argument("ref", metavar="WIDGET")
@set_option
@set_json_option
@click.option("--unset", multiple=True, metavar="KEY",
              help="Drop an argument, so its default applies (repeatable).")
@click.option("--replace", is_flag=True,
              help="Start from an empty configuration instead of the current one.")
@change_options
@click.pass_obj
def configure_widget(obj: dict[str, object], ref: str, texts: dict[str, Any],
                     jsons: dict[str, Any], unset: tuple[str, ...], replace: bool,
                     db_url: str | None, out_dir: Path | None, bus: str) -> None:
    """Change the configuration of WIDGET (HUB/ID or ID, as hub show lists them)."""
    from hubs import admin
    from hubs.plugins import load_widgets

    registry = load_widgets()
    _apply(obj, db_url, out_dir, bus, lambda session: admin.configure_widget(
        session, registry, ref, {**texts, **jsons}, unset=unset, replace=replace),
           registry=registry)


@widget.command("move")
@click.argument("ref", metavar="WIDGET")
@click.option("--column", metavar="main|side", help="Move to this column.")
@click.option("--position", type=int,
              help="0 for the top  [default: the end of the column it goes to].")
@change_options
@click.pass_obj
def move_widget(obj: dict[str, object], ref: str, column: str | None, position: int | None,
                db_url: str | None, out_dir: Path | None, bus: str) -> None:
    """Move WIDGET to another column or position; the others close up."""
    from hubs import admin

    _apply(obj, db_url, out_dir, bus, lambda session: admin.move_widget(
        session, ref, column=column, position=position))


@widget.command("remove")
@click.argument("ref", metavar="WIDGET")
@change_options
@click.pass_obj
def remove_widget(obj: dict[str, object], ref: str, db_url: str | None, out_dir: Path | None,
                  bus: str) -> None:
    """Remove WIDGET from its hub."""
    from hubs import admin

    _apply(obj, db_url, out_dir, bus, lambda session: admin.remove_widget(session, ref))


ROLE_METAVAR = "|".join(ROLES)


@click.group()
def member() -> None:
    """Give people roles on a hub, or take them away."""


@member.command("add")
@click.argument("hub_name", metavar="HUB")
@click.argument("username")
@click.option("--role", default="member", show_default=True, metavar=ROLE_METAVAR,
              help="What USERNAME becomes on HUB.")
@change_options
@click.pass_obj
def add_member(obj: dict[str, object], hub_name: str, username: str, role: str,
               db_url: str | None, out_dir: Path | None, bus: str) -> None:
    """Give USERNAME a role on HUB."""
    from hubs import admin

    _apply(obj, db_url, out_dir, bus,
           lambda session: admin.add_member(session, hub_name, username, role))


@member.command("remove")
@click.argument("hub_name", metavar="HUB")
@click.argument("username")
@click.option("--role", metavar=ROLE_METAVAR, help="Take only this role  [default: all].")
@change_options
@click.pass_obj
def remove_member(obj: dict[str, object], hub_name: str, username: str, role: str | None,
                  db_url: str | None, out_dir: Path | None, bus: str) -> None:
    """Take USERNAME's role (or roles) on HUB away."""
    from hubs import admin

    _apply(obj, db_url, out_dir, bus,
           lambda session: admin.remove_member(session, hub_name, username, role))


widget.add_command(new_widget_command)
