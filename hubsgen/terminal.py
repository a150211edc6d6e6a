"""Text from the database or the bus, made safe to print on an admin's terminal."""

from __future__ import annotations

import unicodedata

import click

HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Controls (C0, DEL, C1: escape sequences), format characters and line separators that
reorder or hide text (bidi overrides, zero-width spaces), and lone surrogates, which no
terminal encoding can write."""


def printable(text: str) -> str:
    """*text* with each hidden character written as its Python escape (``\\x1b``,
    ``\\u200b``): an escape sequence in a username must not drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in HIDDEN else c for c in text)


def echo(line: str = "", err: bool = False) -> None:
    """Print a line that may hold data, escaped."""
    click.echo(printable(line), err=err)
