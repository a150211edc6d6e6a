"""Pending reviews: dist-git pull requests a maintainer could merge, so contributors get answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from hubs import bodies
from hubs.events import Event
from hubs.models import WidgetInstance
from hubs.store import StoredMessage
from hubs.validators import integer, optional, text, username
from hubs.widget import (
    CONFIG_TOPICS,
    Argument,
    BulkContext,
    ConfiguredInstance,
    Hint,
    Panel,
    Widget,
    hub_reconfigured,
)
from widgets._user import known_subject, per_person, subject_names

OPENED = "pagure.pull-request.new"
REOPENED = "pagure.pull-request.reopened"
CLOSED = "pagure.pull-request.closed"
SRC = "https://src.fedoraproject.org"
REVIEWERS = ("owner", "admin", "commit")
"""The access levels that may merge a pull request."""

LOOKBACK = timedelta(days=365)
"""How far back the message store is read: a pull request untouched for a year is abandoned."""

PAGURE_PAGE = 100
"""Pagure's largest page; the widget shows at most 50."""


def reviews_many(ctx: BulkContext,
                 batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
    """Open pull requests by others, newest first; from Pagure if web services are on, else
    the store, read for the whole chunk in one query."""
    found = per_person(ctx, batch, topics=[OPENED, REOPENED, CLOSED], lookback=LOOKBACK,
                       from_service=_from_pagure, from_store=_from_store)
    return {item.id: _reviews(*found[item.id], item.config["limit"]) for item in batch}


def _reviews(name: str, pending: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    pending = [pr for pr in pending if pr["author"] != name]
    pending.sort(key=lambda pr: (pr["project"], pr["number"]))
    pending.sort(key=lambda pr: datetime.fromisoformat(pr["opened"]), reverse=True)
    return {
        "username": name,
        "requests": pending[:limit],
        "total": len(pending),
        "more": f"{SRC}/user/{quote(name, safe='')}/requests",
    }


def read_pull_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """The pull request a Pagure message is about, in the shape ``_view`` reads, checked."""
    pr = bodies.field(body, "pullrequest", Mapping)
    access = bodies.field(pr, "project.access_users", Mapping, {})
    created = bodies.number(pr, "date_created")
    try:
        datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError) as e:
        raise bodies.BodyError(f"'pullrequest.date_created' is out of range: {created}") from e
    return {
        "id": bodies.number(pr, "id"),
        "title": bodies.text(pr, "title", ""),
        "date_created": created,
        "user": {"name": bodies.text(pr, "user.name")},
        "project": {"fullname": _fullname(bodies.field(pr, "project", Mapping)),
                    "access_users": {level: bodies.texts(access, level) for level in REVIEWERS}},
    }


def _fullname(project: Mapping[str, Any]) -> str:
    """Pagure's ``namespace/name``; before Pagure 2 sent ``fullname`` (2016), projects had no
    namespace and the name was all. A fork's name starts ``forks/<user>/``."""
    fullname = bodies.text(project, "fullname", "")
    if fullname:
        return fullname
    name = bodies.text(project, "name")
    namespace = bodies.text(project, "namespace", "")
    fullname = f"{namespace}/{name}" if namespace else name
    if bodies.field(project, "parent", Mapping, None) is not None:
        return f"forks/{bodies.text(project, 'user.name')}/{fullname}"
    return fullname


def _from_store(messages: Sequence[StoredMessage], name: str) -> list[dict[str, Any]]:
    """The newest message about each pull request says whether it is still open."""
    newest: dict[tuple[str, int], tuple[str, Mapping[str, Any]]] = {}
    for message, pr in bodies.readable(messages, lambda m: read_pull_request(m.body)):
        newest.setdefault((pr["project"]["fullname"], pr["id"]), (message.topic, pr))
    return [_view(pr) for topic, pr in newest.values()
            if topic != CLOSED and _can_merge(pr, name)]


def _from_pagure(ctx: BulkContext, name: str) -> list[dict[str, Any]]:
    """Pagure's "actionable" requests are the open ones on projects the user may merge in."""
    answer = ctx.services.get_json(
        "pagure", f"/api/0/user/{quote(name, safe='')}/requests/actionable",
        {"status": "Open", "per_page": PAGURE_PAGE})
    return [_view(pr) for pr in answer["requests"]]


def _can_merge(pr: Mapping[str, Any], name: str) -> bool:
    access = pr["project"].get("access_users", {})
    return any(name in access.get(level, ()) for level in REVIEWERS)


def _view(pr: Mapping[str, Any]) -> dict[str, Any]:
    """The same shape from a bus message and from Pagure's API (``date_created``: epoch text)."""
    project = pr["project"]["fullname"]
    return {
        "project": project,
        "number": pr["id"],
        "title": pr["title"],
        "author": pr["user"]["name"],
        "link": f"{SRC}/{quote(project)}/pull-request/{int(pr['id'])}",
        "opened": datetime.fromtimestamp(int(pr["date_created"]), UTC).isoformat(),
    }


def review_changed(event: Event, instance: WidgetInstance) -> bool:
    """Someone else's pull request on a project this person may merge in opened or closed."""
    if hub_reconfigured(event, instance):
        return True
    name = known_subject(instance, instance.config)
    if event.topic not in (OPENED, REOPENED, CLOSED) or name is None:
        return False
    try:
        pr = read_pull_request(event.body)
    except bodies.BodyError:
        return False
    return name in event.usernames and _can_merge(pr, name) and pr["user"]["name"] != name


WIDGET = Widget(
    name="pending_reviews",
    template="pending_reviews.html",
    load=reviews_many,
    hint=Hint(topics=CONFIG_TOPICS, usernames=subject_names),
    should_invalidate=review_changed,
    arguments=(
        Argument("username", "", optional(username),
                 "the maintainer whose review queue to show; defaults to a user hub's own user"),
        Argument("limit", 10, integer(1, 50), "how many pull requests to show"),
        Argument("title", "Pending reviews", text(max_length=80), "the panel's title"),
    ),
    chrome=Panel("Pending reviews"),
    reads=dict.fromkeys((OPENED, REOPENED, CLOSED), read_pull_request),
    description="Open dist-git pull requests by others on projects a person maintains.",
    daily=True,
)
