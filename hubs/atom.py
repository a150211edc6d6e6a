"""A hub's recent activity as an Atom feed (RFC 4287), so feed readers can follow a team.

Links are absolute, made from the `site_url` setting, as Pelican and Hugo make theirs from
SITEURL and baseURL: a feed is read away from the site, where a relative link has nothing to
resolve against. Ids are tag: URIs (RFC 4151) under the site's host: a hub's feed is
`tag:HOST,CREATED:hub/NAME`, a message `tag:HOST,DATE:msg/MSG_ID`, so a message keeps one id
in every feed that shows it and across rebuilds. A message naming one person has them as
author; one naming several lists them as contributors and takes the feed's author, the hub.
The feed's `updated` is its newest entry's
time (the hub's creation when it has none), never the wall clock, so the same database
gives the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from hubs.models import Hub, TagKind
from hubs.store import StoredMessage, newest_of_chunk
from hubs.validators import link_or_nothing

if TYPE_CHECKING:
    from hubs.widget import BulkContext

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_FILE = "feed.atom"
FEED_ENTRIES = 50
"""Entries per feed: what a reader needs between two polls, in one bounded query per hub."""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 forbids even escaped: an ElementTree would write them, and every feed
parser would then refuse the whole feed."""


def hub_feeds(bulk: BulkContext, hubs: Sequence[Hub], site_url: str) -> dict[int, bytes]:
    """Each hub's newest messages, up to the data clock, as an Atom document, by hub id: the
    messages of all the hubs read in two statements, which the feed widget shares."""
    newest = newest_of_chunk(bulk, {hub.id for hub in hubs}, FEED_ENTRIES)
    return {hub.id: render_feed(hub, newest[hub.id], site_url) for hub in hubs}


def render_feed(hub: Hub, messages: Sequence[StoredMessage], site_url: str) -> bytes:
    """The Atom document of *messages*, newest first, for *hub* served under *site_url*."""
    host = urlsplit(site_url).hostname or "localhost"
    page = f"{site_url}{quote(hub.name)}/"
    feed = ET.Element("feed", xmlns=ATOM_NS)
    _text(feed, "id", f"tag:{host},{_day(hub.created)}:hub/{quote(hub.name)}")
    _text(feed, "title", f"{hub.name} · Fedora Hubs")
    if hub.summary:
        _text(feed, "subtitle", hub.summary)
    newest = messages[0].timestamp if messages else hub.created
    _text(feed, "updated", _rfc3339(newest))
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml",
                  href=_clean(page + FEED_FILE))
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=_clean(page))
    _text(ET.SubElement(feed, "author"), "name", hub.name)  # for entries naming nobody
    _text(feed, "generator", "hubsgen")
    for message in messages:
        _entry(feed, message, host)
    ET.indent(feed)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _entry(feed: ET.Element, message: StoredMessage, host: str) -> None:
    entry = ET.SubElement(feed, "entry")
    _text(entry, "id", f"tag:{host},{_day(message.timestamp)}:msg/{quote(message.msg_id, safe='')}")
    title = message.summary or message.topic
    _text(entry, "title", title)
    _text(entry, "updated", _rfc3339(message.timestamp))
    people = message.names(TagKind.USER)
    for username in people:  # the one person named did it; of several, we cannot tell who
        _text(ET.SubElement(entry, "author" if len(people) == 1 else "contributor"), "name",
              username)
    ET.SubElement(entry, "category", term=_clean(message.category))
    link = link_or_nothing(message.link)
    if link:
        ET.SubElement(entry, "link", rel="alternate", href=_clean(link))
    else:  # an entry needs an alternate link or content (RFC 4287, 4.1.1)
        _text(entry, "content", title, type="text")


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> None:
    ET.SubElement(parent, tag, attributes).text = _clean(text)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _utc(when: datetime) -> datetime:
    """SQLite hands back naive times; the store holds UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _rfc3339(when: datetime) -> str:
    return _utc(when).isoformat().replace("+00:00", "Z")


def _day(when: datetime) -> str:
    return _utc(when).date().isoformat()
