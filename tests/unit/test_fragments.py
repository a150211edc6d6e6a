"""Fragment files and versions: built from the data serialised once, the same bytes as
serialising the whole document."""

from __future__ import annotations

import hashlib
import json

import jinja2
import pytest

from hubs.render import Fragment, version_of
from hubs.testing import make_renderer


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))


DATA = {"b": [1, "ünïcode", {"z": None, "a": 2.5}], "a": "quote \" and <tag>"}


HTML = "<p>é \"x\"</p>"


@pytest.mark.parametrize("error", [None, "widget ralph/7 (feed): RuntimeError: down"])
@pytest.mark.parametrize("data_json, html_json", [("", ""), (canonical(DATA), canonical(HTML))],
                         ids=["read back", "rendered"])
def test_fragment_json_is_the_whole_document_serialised(error, data_json, html_json):
    fragment = Fragment(7, "ralph", "feed", "main", "0123456789abcdef", HTML,
                        DATA, error, data_json=data_json, html_json=html_json)
    document = {"id": 7, "hub": "ralph", "plugin": "feed", "version": "0123456789abcdef",
                "html": "<p>é \"x\"</p>", "data": DATA, "error": error}
    assert fragment.to_json() == canonical(document).encode() + b"\n"
    assert Fragment.from_json(fragment.to_json(), "main") == fragment


def test_version_hashes_what_the_widget_shows():
    html = "<ul><li>ünï</li></ul>"
    expected = hashlib.sha256(canonical({"html": html, "data": DATA, "error": None})
                              .encode()).hexdigest()[:16]
    assert version_of(html, canonical(DATA), None) == expected
    assert version_of(html, canonical(DATA), None, canonical(html)) == expected
    assert version_of(html, canonical(DATA), "failed") != expected


def test_a_fragment_kept_in_memory_writes_the_same_file_and_stale_copy():
    fragment = Fragment(7, "ralph", "feed", "main", "0123456789abcdef", HTML, DATA, None,
                        data_json=canonical(DATA), html_json=canonical(HTML))
    packed = fragment.packed()
    kept = packed.unpack("main")
    assert (kept.html, kept.data, kept.html_json) == (HTML, {}, "")
    assert kept.to_json() == fragment.to_json()
    assert kept.stale("down").to_json() == fragment.stale("down").to_json()
    assert json.loads(kept.stale("down").to_json())["data"] == DATA
    assert kept.packed() is packed  # kept again as it was, not compressed anew
    assert kept.stale("down").packed().unpack("main").error == "down"


def test_templates_read_a_dicts_keys_and_still_its_methods():
    """Names on plain dicts are looked up as keys first; a key named like a dict method
    (`items`) leaves the method in place, as Jinja2 has it, and a missing key is undefined."""
    env = make_renderer().env
    template = env.from_string(
        "{{ d.link }}|{{ d['items'] }}|{{ d.items() | list | length }}|{{ d.gone is undefined }}"
        "|{{ n.x.y }}")
    data = {"link": "<a>", "items": "kept"}
    assert template.render(d=data, n={"x": {"y": 1}}) == "&lt;a&gt;|kept|2|True|1"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ d.gone }}").render(d=data)
