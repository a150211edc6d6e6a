"""Whose account an IRC nick or an e-mail address is, so messages naming people by them count.

Fedora's FAS answered this for the fedmsg-era processors (meetings name people by IRC nick,
Bugzilla and mailing lists by address); here a ``Directory`` does: the ``user_aliases`` table
in production, a table in memory in tests and benchmarks, and an empty one by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import Engine, bindparam, select

from hubs.models import AliasKind, UserAlias, alias_value


class Directory(Protocol):
    """Looks up aliases; None means "not an alias we know". Errors reading it propagate."""

    def username_for_nick(self, nick: str) -> str | None: ...

    def username_for_email(self, address: str) -> str | None: ...


class AliasTable:
    """A directory held in memory: the empty default, tests, the corpus benchmark."""

    def __init__(self, nicks: Mapping[str, str] | None = None,
                 emails: Mapping[str, str] | None = None) -> None:
        self._nicks = {alias_value(k): v for k, v in (nicks or {}).items()}
        self._emails = {alias_value(k): v for k, v in (emails or {}).items()}

    def username_for_nick(self, nick: str) -> str | None:
        return self._nicks.get(alias_value(nick))

    def username_for_email(self, address: str) -> str | None:
        return self._emails.get(alias_value(address))


NO_ALIASES = AliasTable()
"""The default: without a directory, nicks and addresses stay as the message has them."""


_LOOKUP = select(UserAlias.username).where(UserAlias.kind == bindparam("kind"),
                                            UserAlias.value == bindparam("value"))


class DatabaseDirectory:
    """The ``user_aliases`` table, asked on every lookup so an edited alias applies at once:
    a statement on a pooled connection, as a session and the ORM cost five times as much
    (meeting minutes name each of their 20 people by nick)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def username_for_nick(self, nick: str) -> str | None:
        return self._lookup(AliasKind.NICK, nick)

    def username_for_email(self, address: str) -> str | None:
        return self._lookup(AliasKind.EMAIL, address)

    def _lookup(self, kind: AliasKind, value: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.scalar(_LOOKUP, {"kind": kind.value, "value": alias_value(value)})
