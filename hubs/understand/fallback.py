"""Read a message no processor knows by the keys Fedora's services commonly use.

Usernames come from ``agent``, ``user``, ``username``, ``owner``, ``submitter`` and
``actor`` (a string that is not an e-mail address or URL, or an object's ``name``/``username``),
at the top of the body or one level down (``{"update": {"user": {"name": ...}}}``); packages
from ``package``/``packages`` (a string, a list, or objects with a ``name``); groups from
``group``/``groups`` likewise.
The summary is ``<agent> <topic>`` and the link the body's ``url``/``link``, if any.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hubs.events import RawMessage
from hubs.understand.reading import Reading, web_url
from hubs.understand.topics import strip_prefix

USER_KEYS = ("agent", "user", "username", "owner", "submitter", "actor")
PACKAGE_KEYS = ("package", "packages")
GROUP_KEYS = ("group", "groups")
NAME_KEYS = ("username", "name")
NOT_IN_NAMES = set(" @/")  # e-mail addresses and URLs are not account names


def read(raw: RawMessage) -> Reading:
    """What the well-known keys of the body say; always an answer, possibly empty."""
    body = raw.body
    usernames = frozenset(_names(body, USER_KEYS))
    packages = frozenset(_names(body, PACKAGE_KEYS))
    groups = frozenset(_names(body, GROUP_KEYS))
    agent = _first(body, USER_KEYS)
    topic = strip_prefix(raw.topic)
    return Reading(source="fallback", usernames=usernames, packages=packages, groups=groups,
                   summary=f"{agent} {topic}" if agent else topic,
                   link=web_url(body.get("url") or body.get("link")))


def _names(body: Mapping[str, Any], keys: tuple[str, ...]) -> Iterator[str]:
    for scope in _scopes(body):
        for key in keys:
            yield from _values(scope.get(key))


def _scopes(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The body, then the objects directly inside it."""
    yield body
    for value in body.values():
        if isinstance(value, Mapping):
            yield value


def _values(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip() and not set(value.strip()) & NOT_IN_NAMES:
            yield value.strip()
    elif isinstance(value, Mapping):
        for key in NAME_KEYS:
            if isinstance(value.get(key), str):
                yield from _values(value[key])
                return
    elif isinstance(value, list):
        for item in value[:100]:
            if not isinstance(item, list):
                yield from _values(item)


def _first(body: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return next(iter(_names(body, keys)), "")
