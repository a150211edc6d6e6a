"""Markdown written by hub owners, turned into HTML that cannot run script."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "h5", "h6", "hr",
     "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th",
     "thead", "tr", "ul"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
_PLAIN = re.compile(r"[^\W\d_][^\W_]*+(?:[ '.-][^\W_]++)*+\.?")
"""Words, starting with a letter, joined by single spaces, hyphens, apostrophes or stops: a
line that no rule of CommonMark's changes, such as the full name a user hub's About shows."""


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # here: most hubs render no Markdown, and builds of one
                                        # hub start faster without it
    # Raw HTML is allowed through the parser (the original sticky notes held HTML) and then
    # sanitised, so only the tags above survive.
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def _to_html(source: str) -> str:
    """*source* as CommonMark; a plain line without the parser, whose import is 20 ms of a
    build of one hub."""
    return f"<p>{source}</p>\n" if _PLAIN.fullmatch(source) else _parser().render(source)


def render_markdown(source: str) -> str:
    """CommonMark to sanitised HTML: safe tags only, http(s)/mailto links, no script."""
    return nh3.clean(
        _to_html(source),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
