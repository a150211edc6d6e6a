"""What the admin CLI prints from the database reaches a terminal with its control and
invisible characters escaped: data must not drive the terminal, or hide or reorder text."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from hubs.testing import add_hub, make_engine
from hubsgen.cli import cli
from hubsgen.terminal import printable

EVIL = "mal\x1b[31mlory\u200b"
"""A username with a colour escape and a zero-width space, as a hand edit could store."""


@pytest.mark.parametrize(("raw", "shown"), [
    ("ralph", "ralph"),
    ("José 雪 émoji 🎉 a\u00a0b", "José 雪 émoji 🎉 a\u00a0b"),
    (EVIL, "mal\\x1b[31mlory\\u200b"),
    ("a\x00b\x07c\x7fd\x9be", "a\\x00b\\x07c\\x7fd\\x9be"),
    ("two\nlines\r\tand\u2028more", "two\\nlines\\r\\tand\\u2028more"),
    ("\u202egnp.exe \u2066x\u2069 \ufeff\u200d", "\\u202egnp.exe \\u2066x\\u2069 \\ufeff\\u200d"),
])
def test_printable_escapes_controls_and_invisible_formatting(raw, shown):
    assert printable(raw) == shown


def test_hub_show_and_list_escape_what_the_database_holds(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "designteam", summary="Designers", members={"owner": ["duffy"]},
                widgets=[("sticky", {"text": "Hi"})])
        s.commit()
        s.execute(text("INSERT INTO users (username, fullname, created) "
                       "VALUES (:u, :f, '2026-11-02 12:00:00')"),
                  {"u": EVIL, "f": "\x1b]0;pwned\x07"})
        s.execute(text("INSERT INTO memberships (hub_id, username, role) "
                       "SELECT id, :u, 'member' FROM hubs"), {"u": EVIL})
        s.execute(text("UPDATE hubs SET summary = :s"), {"s": "Design\x1b[2J\u202eers"})
        s.commit()
    engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(cli, ["hub", "show", "designteam", "--db", sqlite_url])
    as_json = runner.invoke(cli, ["hub", "show", "designteam", "--json", "--db", sqlite_url])
    listed = runner.invoke(cli, ["hub", "list", "--db", sqlite_url])
    removed = runner.invoke(cli, ["member", "remove", "designteam", EVIL, "--db", sqlite_url,
                                  "--bus", "none", "--out", str(tmp_path / "build")])
    for result in (shown, as_json, listed, removed):
        assert result.exit_code == 0, result.output
        assert not any(c in result.output for c in "\x1b\x07\u200b\u202e"), result.output
    assert "members: mal\\x1b[31mlory\\u200b" in shown.stdout
    assert "  Design\\x1b[2J\\u202eers" in shown.stdout
    assert "Design\\x1b[2J\\u202eers" in listed.stdout
    assert json.loads(as_json.stdout)["members"]["member"] == [EVIL]
    assert "Removed mal\\x1b[31mlory\\u200b from designteam" in removed.stdout
