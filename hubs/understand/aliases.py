"""Answer fedmsg.meta's FAS lookups (IRC nick or e-mail address -> username) from a Directory.

fasshim keeps one module-level cache, ``_fas_cache``, on which ``nick2fas`` and ``email2fas``
call ``get(alias, alias)``, downloading FAS's whole user list first whenever the cache is
empty. A ``FasCache`` installed in its place is never empty, so nothing is downloaded, and
answers from the directory of the read under way: a context variable, so threads reading
with different directories never see each other's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from hubs.directory import Directory


class _Lookups:
    """One read's lookups; remembers a failing directory, as processor code swallows errors."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.failure: Exception | None = None

    def get(self, alias: object, default: str) -> str:
        if not isinstance(alias, str):
            return default  # a processor handed over a body's object: today's meetbot names
            # attendees as {"name", "lines_said"}, which the fedmsg-era one takes for nicks
        # nick2fas and email2fas share fasshim's cache; an IRC nick cannot contain "@".
        try:
            if "@" in alias:
                found = self.directory.username_for_email(alias)
            else:
                found = self.directory.username_for_nick(alias)
        except Exception as e:  # noqa: BLE001 - kept and re-raised once the read is over
            self.failure = self.failure or e
            return default
        return found or default


_current: ContextVar[_Lookups | None] = ContextVar("hubs_directory_lookups", default=None)


class FasCache:
    """Stands in for fasshim's dict; only ``get`` and truth are what fasshim uses."""

    def __bool__(self) -> bool:
        return True  # "already built": fasshim never goes to FAS

    def get(self, alias: object, default: str) -> str:
        lookups = _current.get()
        return default if lookups is None else lookups.get(alias, default)


def install(fasshim: Any) -> None:
    """Put a FasCache in place of fasshim's cache (once, when the processors load)."""
    fasshim._fas_cache = FasCache()


@contextmanager
def answering(directory: Directory) -> Iterator[None]:
    """FAS lookups made inside the block ask *directory*.

    Raises what the directory raised, after the block: a directory that could not be read
    (its database down) must not pass for one that knows no alias.
    """
    lookups = _Lookups(directory)
    token = _current.set(lookups)
    try:
        yield
    finally:
        _current.reset(token)
    if lookups.failure is not None:
        raise lookups.failure
