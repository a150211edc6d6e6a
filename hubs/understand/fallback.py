"""Read a message no processor knows by the keys Fedora's services commonly use.

Usernames come from ``agent``, ``user``, ``username``, ``owner``, ``submitter`` and
``actor`` (a string that is not an e-mail address or URL, or an object's ``name``/``username``;
an e-mail address counts as its owner if the directory knows it), at the top of the body or one
level down (``{"update": {"user": {"name": ...}}}``); packages
from ``package``/``packages`` (a string, a list, or objects with a ``name``); groups from
``group``/``groups`` likewise.
The summary is ``<agent> <topic>`` and the link the body's ``url``/``link``, if any.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hubs.directory import NO_ALIASES, Directory
from hubs.events import RawMessage
from hubs.understand.reading import Reading, web_url
from hubs.understand.topics import strip_prefix

USER_KEYS = ("agent", "user", "username", "owner", "submitter", "actor")
PACKAGE_KEYS = ("package", "packages")
GROUP_KEYS = ("group", "groups")
NAME_KEYS = ("username", "name")
NOT_IN_NAMES = set(" @/")  # e-mail addresses and URLs are not account names
NOT_IN_ADDRESSES = set(" /")


def read(raw: RawMessage, directory: Directory = NO_ALIASES) -> Reading:
    """What the well-known keys of the body say; always an answer, possibly empty."""
    body = raw.body
    scopes = _scopes(body)
    users = list(_users(_names(scopes, USER_KEYS), directory))
    packages = frozenset(_plain(_names(scopes, PACKAGE_KEYS)))
    groups = frozenset(_plain(_names(scopes, GROUP_KEYS)))
    topic = strip_prefix(raw.topic)
    return Reading(source="fallback", usernames=frozenset(users), packages=packages,
                   groups=groups, summary=f"{users[0]} {topic}" if users else topic,
                   link=web_url(body.get("url") or body.get("link")))


def _names(scopes: list[Mapping[str, Any]], keys: tuple[str, ...]) -> Iterator[str]:
    for scope in scopes:
        for key in keys:
            if key in scope:
                yield from _values(scope[key])


def _scopes(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The body, then the objects directly inside it."""
    return [body, *(value for value in body.values() if _is_mapping(value))]


def _is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, answered without the ABC machinery for the types
    decoded JSON has: this runs for every value at the body's top level."""
    return isinstance(value, dict) or (not isinstance(value, _PLAIN)
                                       and isinstance(value, Mapping))


_PLAIN = (str, int, float, list, type(None))


def _users(values: Iterator[str], directory: Directory) -> Iterator[str]:
    """Account names, and the owners of the e-mail addresses the directory knows."""
    for value in values:
        if "@" in value and not set(value) & NOT_IN_ADDRESSES:
            owner = directory.username_for_email(value)
            if owner:
                yield owner
        elif not set(value) & NOT_IN_NAMES:
            yield value


def _plain(values: Iterator[str]) -> Iterator[str]:
    return (v for v in values if not set(v) & NOT_IN_NAMES)


def _values(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif _is_mapping(value):
        for key in NAME_KEYS:
            if isinstance(value.get(key), str):
                yield from _values(value[key])
                return
    elif isinstance(value, list):
        for item in value[:100]:
            if not isinstance(item, list):
                yield from _values(item)
