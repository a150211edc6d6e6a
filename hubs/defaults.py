"""The widgets a new hub starts with, so no hub page is born empty.

Each spec is ``(plugin, config, column)``: the wide ``main`` column holds what people read, the
narrow ``side`` column facts at a glance. Positions follow list order within a column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hubs.models import Column

WidgetSpec = tuple[str, dict[str, Any], str]

MAIN = Column.MAIN.value
SIDE = Column.SIDE.value


def team_widgets(hub_name: str, *, description: str = "",
                 rules: Mapping[str, str] | None = None,
                 calendars: Sequence[str] = ()) -> list[WidgetSpec]:
    """A team hub: its note and news in the main column, facts and meetings on the side.

    Args:
        description: the sticky note's Markdown; a welcome line when the team gave none.
        rules: the rules widget's links (``link``, ``schedule_text``, ...), if known.
        calendars: the team's fedocal calendars; the meetings widget defaults to the hub name.
    """
    note = description or (f"Welcome to the **{hub_name}** hub. Owners can replace this note "
                           "with what newcomers should read first.")
    meetings: dict[str, Any] = {"calendars": list(calendars)} if calendars else {}
    return [
        ("cobwebs", {}, MAIN),
        ("sticky", {"text": note}, MAIN),
        ("feed", {}, MAIN),
        ("activity", {}, MAIN),
        ("stats", {}, SIDE),
        ("rules", dict(rules or {}), SIDE),
        ("meetings", meetings, SIDE),
        ("message_stats", {}, SIDE),
    ]


def user_widgets(username: str, *, about: str = "") -> list[WidgetSpec]:
    """A contributor's hub; widgets about one person name *username*, as the prototype did.

    Args:
        about: the about widget's Markdown, empty until the user writes something.
    """
    mine = {"username": username}
    return [
        ("about", {"text": about} if about else {}, MAIN),
        ("feed", {}, MAIN),
        ("activity", {}, MAIN),
        ("updates_ready", dict(mine), MAIN),
        ("pending_reviews", dict(mine), MAIN),
        ("avatar", dict(mine), SIDE),
        ("badges", dict(mine), SIDE),
        ("subscriptions", dict(mine), SIDE),
        ("message_stats", {}, SIDE),
    ]
