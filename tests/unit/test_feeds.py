"""build/<hub>/feed.atom: valid Atom, deterministic, and kept fresh by watch."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pytest

from hubs.atom import render_feed
from hubs.errors import ConfigError
from hubs.models import Hub
from hubs.settings import load_settings
from hubs.store import StoredMessage
from hubs.testing import T0, add_hub
from tests.sites import award, replay

ATOM = "{http://www.w3.org/2005/Atom}"


def parsed(payload: bytes) -> feedparser.FeedParserDict:
    """The feed as a real feed reader sees it, after the stdlib's strict XML parser."""
    ET.fromstring(payload)
    feed = feedparser.parse(payload)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_a_build_writes_each_hubs_feed_with_its_activity(watched_site):
    team = parsed((watched_site.out / "designteam" / "feed.atom").read_bytes())
    assert team.feed.title == "designteam · Fedora Hubs"
    assert team.feed.id.startswith("tag:hubs.fedoraproject.org,2026-11-02:hub/designteam")
    links = {link.rel: link.href for link in team.feed.links}
    assert links == {"self": "https://hubs.fedoraproject.org/designteam/feed.atom",
                     "alternate": "https://hubs.fedoraproject.org/designteam/"}
    [edit] = team.entries
    assert edit.title == 'duffy made a wiki edit to "Design"'
    assert edit.link == "https://fedoraproject.org/wiki/Design"
    assert edit.id.startswith("tag:hubs.fedoraproject.org,2026-11-01:msg/")
    assert edit.author == "duffy"
    assert team.feed.updated == edit.updated == "2026-11-01T12:00:00Z"

    ralph = parsed((watched_site.out / "ralph" / "feed.atom").read_bytes())
    assert ralph.entries == [] and ralph.feed.updated == "2026-11-02T12:00:00Z"


def test_the_hub_page_links_its_feed(watched_site):
    page = (watched_site.out / "designteam" / "index.html").read_text()
    assert ('<link rel="alternate" type="application/atom+xml" '
            'title="designteam · recent activity" href="feed.atom">') in page


def test_a_rebuild_rewrites_no_feed(watched_site):
    before = watched_site.snapshot()
    report = watched_site.build(force=True)
    assert report.written == 0 and watched_site.changed_since(before) == set()


def test_a_watched_award_joins_ralphs_feed(watched_site, tmp_path):
    replay(watched_site, tmp_path, award(1))
    feed = parsed((watched_site.out / "ralph" / "feed.atom").read_bytes())
    [entry] = feed.entries
    assert entry.title == 'ralph has been awarded the "Tester" badge'
    assert entry.link == "https://badges.fedoraproject.org/user/ralph"
    assert feed.feed.updated == entry.updated == "2026-11-03T12:00:00Z"
    before = watched_site.snapshot()
    watched_site.build(force=True)
    changed = watched_site.changed_since(before)  # designteam's stats follow the data clock
    assert not {path for path in changed if path.endswith("feed.atom")}, "as a build writes"


def test_a_hub_showing_no_activity_still_gets_its_feed_rewritten(watched_site, tmp_path):
    with watched_site.session() as s:
        add_hub(s, "adamw", user_hub=True, widgets=[("sticky", {"text": "Hi"})])
        s.commit()
    watched_site.build()
    before = watched_site.snapshot()
    replay(watched_site, tmp_path, award(1, username="adamw"))
    assert watched_site.changed_since(before) == {"adamw/feed.atom"}
    [entry] = parsed((watched_site.out / "adamw" / "feed.atom").read_bytes()).entries
    assert entry.title == 'adamw has been awarded the "Tester" badge'


def hostile(summary: str, link: str = "", msg_id: str = "2026-abc") -> StoredMessage:
    return StoredMessage(1, msg_id, "wiki.article.edit", "wiki", T0, {}, summary, link, "",
                         (("user", "duffy"), ("user", "ralph")))


def test_markup_and_control_characters_are_escaped_or_dropped():
    hub = Hub(name="designteam", summary="<b>Design</b> & \x1b[31mco", created=T0)
    messages = [hostile('<script>alert("x")</script> & \x00\x08\x0b\ufffe\ud800 ]]> done',
                        link="javascript:alert(1)", msg_id="id with spaces/<&>"),
                hostile("fine", link='https://example.org/?a=1&b="2"')]
    payload = render_feed(hub, messages, "https://hubs.example.org/")
    root = ET.fromstring(payload)
    first = root.find(f"{ATOM}entry")
    assert first is not None
    assert first.findtext(f"{ATOM}title") == '<script>alert("x")</script> &  ]]> done'
    assert first.find(f"{ATOM}link") is None  # not http(s): the text stands in as content
    assert first.findtext(f"{ATOM}content") == first.findtext(f"{ATOM}title")
    assert [c.findtext(f"{ATOM}name") for c in first.findall(f"{ATOM}contributor")] == [
        "duffy", "ralph"]
    feed = parsed(payload)
    assert feed.feed.subtitle == "<b>Design</b> & [31mco"
    assert feed.entries[0].id == (
        "tag:hubs.example.org,2026-11-02:msg/id%20with%20spaces%2F%3C%26%3E")
    assert feed.entries[1].link == 'https://example.org/?a=1&b="2"'


def test_the_same_messages_give_the_same_bytes():
    hub = Hub(name="ralph", summary="", created=T0)
    messages = [hostile("one"), hostile("two", msg_id="2026-def")]
    assert render_feed(hub, messages, "https://a.example/") == render_feed(
        hub, list(messages), "https://a.example/")


@pytest.mark.parametrize("given, kept", [
    ("https://hubs.example.org", "https://hubs.example.org/"),
    ("http://localhost:8000/hubs/", "http://localhost:8000/hubs/")])
def test_site_url_is_kept_as_a_root_ending_in_a_slash(given, kept):
    assert load_settings(site_url=given).site_url == kept


@pytest.mark.parametrize("bad", ["hubs.example.org", "ftp://hubs.example.org/", "https://",
                                 "https://hubs.example.org/?x=1", "https://[::1/", 42])
def test_a_site_url_that_is_no_site_root_is_refused(bad):
    with pytest.raises(ConfigError, match="site_url must be an http"):
        load_settings(site_url=bad)


def test_the_site_url_comes_from_the_config_file(tmp_path):
    config = tmp_path / "hubsgen.toml"
    config.write_text('site_url = "https://hubs.example.org/"\n')
    assert load_settings(config).site_url == "https://hubs.example.org/"


def test_feeds_use_the_configured_site_url(watched_site):
    watched_site.build(site_url="https://hubs.example.org/")
    feed = parsed((watched_site.out / "designteam" / "feed.atom").read_bytes())
    assert feed.feed.links[0].href == "https://hubs.example.org/designteam/feed.atom"
    assert feed.entries[0].id.startswith("tag:hubs.example.org,")



def test_a_feed_is_laid_out_as_elementtree_lays_it_out():
    """Feeds are built as text; their bytes stay those ElementTree's indent() and tostring()
    wrote before, so no reader sees every entry change at once."""
    hub = Hub(name="designteam", summary="<b>Design</b> & co", created=T0)
    untitled = StoredMessage(2, "2026-x", "", "", T0, {}, "", "", "", ())
    messages = [hostile('<a href="x">"quoted" & \'single\'</a> ]]>',
                        link='https://example.org/?a=1&b="2"&c=<3>'),
                hostile("one person", msg_id="2026-y"), untitled]
    payload = render_feed(hub, messages, "https://hubs.example.org/")
    root = ET.fromstring(payload)
    for element in root.iter():
        element.tag = element.tag.removeprefix(ATOM)
    root.set("xmlns", ATOM[1:-1])
    ET.indent(root)
    assert ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n" == payload


def test_exactly_the_characters_xml_forbids_are_dropped():
    every = "".join(map(chr, range(0x110000)))
    allowed = "".join(c for c in every if c in "\t\n\r" or "\x20" <= c <= "\ud7ff"
                      or "\ue000" <= c <= "\ufffd" or c >= "\U00010000")
    root = ET.fromstring(render_feed(Hub(name="all", summary=every, created=T0), [],
                                     "https://hubs.example.org/"))
    # XML parsers read a line end in text as \n.
    assert root.findtext(f"{ATOM}subtitle") == allowed.replace("\r", "\n")
