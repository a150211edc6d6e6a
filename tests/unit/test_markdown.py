"""Markdown of hub owners: a plain line skips the parser, yet reads exactly as parsed."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from hubs import markdown

ALPHABET = "aZé漢ßǅ09 '.-_*&"
"""What plain lines are made of, and a few characters that would make them Markdown."""


@given(st.text(ALPHABET, max_size=30))
@example("Ralph Bean")
@example("José García-López")
@example("O'Brien Jr.")
@example("Edit number 12.")
def test_a_plain_line_is_what_the_parser_makes_of_it(source: str) -> None:
    assert markdown._to_html(source) == markdown._parser().render(source)


def test_plain_lines_do_not_load_the_parser() -> None:
    markdown._parser.cache_clear()
    assert markdown.render_markdown("Ralph Bean") == "<p>Ralph Bean</p>\n"
    assert markdown._parser.cache_info().currsize == 0
    assert markdown.render_markdown("Ralph *Bean*") == "<p>Ralph <em>Bean</em></p>\n"
