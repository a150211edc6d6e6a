"""Widget arguments: defaults, validators, and errors that name the argument and what is allowed."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubs import validators
from hubs.errors import ConfigError
from hubs.plugins import load_widgets
from hubs.widget import REQUIRED, Argument, Hint, Panel, Widget

WIDGET = Widget(
    name="demo", template="demo.html", data=lambda ctx: {}, hint=Hint(),
    should_invalidate=lambda e, i: False, chrome=Panel("Demo"),
    arguments=(
        Argument("text", REQUIRED, validators.text(20), "what to say"),
        Argument("limit", 5, validators.integer(1, 10), "how many"),
        Argument("link", "", validators.link, "where to go"),
        Argument("title", "Demo", validators.text(40), "panel title"),
    ),
)


def test_defaults_fill_what_is_not_given():
    assert WIDGET.validate_config({"text": "hi"}) == {
        "text": "hi", "limit": 5, "link": "", "title": "Demo"}


def test_valid_values_are_cleaned():
    config = WIDGET.validate_config({"text": "hi", "limit": "7", "link": " https://x.org/a "})
    assert config["limit"] == 7
    assert config["link"] == "https://x.org/a"


@pytest.mark.parametrize(("raw", "message"), [
    ({}, "widget designteam/3 (demo): argument text is required (what to say)"),
    ({"text": "x" * 21}, "argument text must be at most 20 characters, got 21"),
    ({"text": 3}, "argument text must be text"),
    ({"text": "hi", "limit": 11}, "argument limit must be from 1 to 10, got 11"),
    ({"text": "hi", "limit": "many"}, "argument limit must be a whole number from 1 to 10"),
    ({"text": "hi", "limit": True}, "argument limit must be a whole number from 1 to 10"),
    ({"text": "hi", "link": "javascript:alert(1)"},
     "argument link must be an http:// or https:// link, got 'javascript:alert(1)'"),
    ({"text": "hi", "link": "data:text/html,x"}, "argument link must be an http:// or https://"),
    ({"text": "hi", "colour": "red", "size": 2},
     "unknown argument(s) colour, size; valid arguments: limit, link, text, title"),
])
def test_invalid_config_is_refused_naming_argument_and_rule(raw, message):
    with pytest.raises(ConfigError) as error:
        WIDGET.validate_config(raw, "designteam/3")
    assert message in str(error.value)


def test_title_argument_overrides_the_panel_title():
    assert WIDGET.title({"title": "Our demo"}) == "Our demo"
    assert WIDGET.title({"title": ""}) == "Demo"


@pytest.mark.parametrize("value", ["ralph", "a", "kevin.fenzi", "x_y-z"])
def test_usernames_accepted(value):
    assert validators.username(value) == value


@pytest.mark.parametrize("value", ["", "Ralph", "1abc", "../etc", "a b", None, "a" * 65])
def test_usernames_refused(value):
    with pytest.raises(ValueError, match="must be a Fedora account name"):
        validators.username(value)


def test_name_lists_accept_text_or_lists():
    assert validators.name_list("design, infrastructure ,") == ["design", "infrastructure"]
    assert validators.name_list(["qa"]) == ["qa"]
    with pytest.raises(ValueError, match="contains '<b>'"):
        validators.name_list("<b>")


def test_choice_and_boolean():
    assert validators.choice("main", "side")("side") == "side"
    with pytest.raises(ValueError, match="must be one of main, side, got 'top'"):
        validators.choice("main", "side")("top")
    with pytest.raises(ValueError, match="must be true or false"):
        validators.boolean("yes")


def test_every_built_in_argument_has_help_and_a_valid_default():
    """A default must pass its own validator, or every new instance would be refused."""
    for widget in load_widgets().widgets.values():
        for argument in widget.arguments:
            assert argument.help, f"{widget.name}.{argument.name} has no help"
            if argument.default is not REQUIRED and argument.default is not None:
                argument.validator(argument.default)


def test_optional_accepts_empty_for_not_set():
    check = validators.optional(validators.username)
    assert check("") == "" and check(None) == "" and check("ralph") == "ralph"
    with pytest.raises(ValueError, match="must be a Fedora account name"):
        check("Not A Name")


def urlsplit_link(value: str) -> str:
    """What validators.link accepted when urlsplit read every link."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return value.strip()


LINK_PIECES = st.lists(st.sampled_from(
    ["/", "?", "#", "[", "]", "::1", "x.org", "@", ":", " ", "\t", "\n", "\r", "\x0b", "é",
     "ａ", "＃", "℀", "a", "%41"]), max_size=5).map("".join)
LINKS = st.tuples(st.sampled_from(["http://", "https://", "HTTP://", "http:", "ftp://", " ", ""]),
                  LINK_PIECES, LINK_PIECES).map("".join)


@settings(max_examples=1000)
@given(LINKS)
def test_links_read_as_urlsplit_reads_them(value):
    """The shortcut for plain links accepts exactly what urlsplit does, and keeps the same text."""
    try:
        expected = urlsplit_link(value)
    except ValueError:  # urlsplit refuses some hosts outright: not a link either
        expected = ""
    assert validators.link_or_nothing(value) == expected
