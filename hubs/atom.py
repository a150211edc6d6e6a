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

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 forbids even escaped: written, they would make every feed parser
refuse the whole feed. Listed, not as the complement of what it allows: compiling that
took 5 ms of every process that imports this module."""

_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>"


def hub_feeds(bulk: BulkContext, hubs: Sequence[Hub], site_url: str) -> dict[int, bytes]:
    """Each hub's newest messages, up to the data clock, as an Atom document, by hub id: the
    messages of all the hubs read in one statement, which the feed widget shares."""
    newest = newest_of_chunk(bulk, {hub.id for hub in hubs}, FEED_ENTRIES)
    return {hub.id: render_feed(hub, newest[hub.id], site_url) for hub in hubs}


def render_feed(hub: Hub, messages: Sequence[StoredMessage], site_url: str) -> bytes:
    """The Atom document of *messages*, newest first, for *hub* served under *site_url*: a
    line per element, indented two spaces a level."""
    host = urlsplit(site_url).hostname or "localhost"
    page = f"{site_url}{quote(hub.name)}/"
    lines = [_DECLARATION, f'<feed xmlns="{ATOM_NS}">',
             _element("  ", "id", f"tag:{host},{_day(hub.created)}:hub/{quote(hub.name)}"),
             _element("  ", "title", f"{hub.name} · Fedora Hubs")]
    if hub.summary:
        lines.append(_element("  ", "subtitle", hub.summary))
    newest = messages[0].timestamp if messages else hub.created
    lines += [_element("  ", "updated", _rfc3339(newest)),
              f'  <link rel="self" type="application/atom+xml"'
              f'{_attribute("href", page + FEED_FILE)} />',
              f'  <link rel="alternate" type="text/html"{_attribute("href", page)} />',
              *_person("  ", "author", hub.name),  # for entries naming nobody
              _element("  ", "generator", "hubsgen")]
    made: dict[tuple[str, str], str] = {}
    lines += (_entry(message, host, made) for message in messages)
    lines.append("</feed>\n")
    return "\n".join(lines).encode()


def _entry(message: StoredMessage, host: str, made: dict[tuple[str, str], str]) -> str:
    """One entry; *made* keeps the people and category lines of the feed's entries so far,
    which repeat (a person's feed names them in every entry)."""
    title = message.summary or message.topic
    updated = _rfc3339(message.timestamp)
    lines = ["  <entry>",
             _element("    ", "id", f"tag:{host},{updated[:10]}:msg/"
                                     f"{quote(message.msg_id, safe='')}"),
             _element("    ", "title", title),
             _element("    ", "updated", updated)]
    people = message.names(TagKind.USER)
    role = "author" if len(people) == 1 else "contributor"
    for username in people:  # the one person named did it; of several, we cannot tell who
        person = made.get((role, username))
        if person is None:
            person = made[role, username] = "\n".join(_person("    ", role, username))
        lines.append(person)
    category = made.get(("category", message.category))
    if category is None:
        category = made["category", message.category] = (
            f"    <category{_attribute('term', message.category)} />")
    lines.append(category)
    link = link_or_nothing(message.link)
    if link:
        lines.append(f'    <link rel="alternate"{_attribute("href", link)} />')
    else:  # an entry needs an alternate link or content (RFC 4287, 4.1.1)
        lines.append(_element("    ", "content", title, ' type="text"'))
    lines.append("  </entry>")
    return "\n".join(lines)


def _person(indent: str, role: str, name: str) -> list[str]:
    return [f"{indent}<{role}>", _element(indent + "  ", "name", name), f"{indent}</{role}>"]


def _element(indent: str, tag: str, text: str, attributes: str = "") -> str:
    """One line holding an element, its *attributes* (as _attribute writes them) and its
    text; an element whose text is empty is written `<tag />`, as ElementTree wrote it."""
    content = _escape(_clean(text))
    if not content:
        return f"{indent}<{tag}{attributes} />"
    return f"{indent}<{tag}{attributes}>{content}</{tag}>"


def _attribute(name: str, value: str) -> str:
    return f' {name}="{_escape_attribute(_clean(value))}"'


def _escape(text: str) -> str:
    """&, < and > as XML text needs them. Not xml.sax.saxutils.escape, which gives the same:
    importing it imports urllib.request, a tenth of a one-hub build's start-up."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    """What ElementTree escaped in attribute values, so feeds kept their bytes when string
    building replaced it (building a tree, then walking it, was a fifth of a build)."""
    return (_escape(value).replace('"', "&quot;").replace("\r", "&#13;")
            .replace("\n", "&#10;").replace("\t", "&#09;"))


def _clean(text: str) -> str:
    """*text* without what XML forbids; printable text holds none of it (and is most text)."""
    return text if text.isprintable() else _NOT_XML.sub("", text)


def _utc(when: datetime) -> datetime:
    """SQLite hands back naive times; the store holds UTC."""
    if when.tzinfo is UTC:  # as the store hands them back
        return when
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _rfc3339(when: datetime) -> str:
    return _utc(when).isoformat().replace("+00:00", "Z")


def _day(when: datetime) -> str:
    return _utc(when).date().isoformat()
