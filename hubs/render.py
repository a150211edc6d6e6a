"""Render widget instances to fragments, and hubs to pages; shared by build, watch and serve."""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from sqlalchemy.orm import Session

from hubs import avatars, filters, listing
from hubs.atom import hub_feeds
from hubs.db import UNAVAILABLE
from hubs.errors import HubsError, WidgetError
from hubs.listing import Listing, PeoplePage
from hubs.models import Column, Hub, WidgetInstance
from hubs.plugins import Registry
from hubs.services import Services
from hubs.settings import DEFAULT_SITE_URL, LiveSettings
from hubs.template_cache import template_cache
from hubs.widget import BulkContext, ConfiguredInstance, DataContext, Widget

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
WIDGET_PREFIX = "widget:"
ERROR_PANEL_MARK = "data-error-panel"
DIRECTORY_TEMPLATES = ("base.html", "directory.html", "index.html", "people.html")


@dataclass(frozen=True)
class Fragment:
    """One rendered widget instance: what build/<hub>/widgets/<id>.json holds."""

    id: int
    hub: str
    plugin: str
    column: str
    version: str
    html: str
    data: dict[str, Any]
    error: str | None = None
    data_json: str = field(default="", compare=False, repr=False)
    """`data` as JSON, kept from rendering: serialising it again was a tenth of a refresh."""
    html_json: str = field(default="", compare=False, repr=False)
    """`html` as JSON, kept from hashing the version: the HTML is most of a fragment file."""
    packed_as: PackedFragment | None = field(default=None, compare=False, repr=False)
    """What this fragment was unpacked from, if it was: packed() gives it back rather than
    compressing the same text again."""

    def to_json(self) -> bytes:
        """What _dumps makes of the document (keys sorted), with the data and the HTML
        serialised once."""
        return (f'{{"data":{self._data_json()},"error":{_dumps(self.error)},'
                f'"html":{self.html_json or _dumps(self.html)},"hub":{_dumps(self.hub)},'
                f'"id":{self.id},'
                f'"plugin":{_dumps(self.plugin)},"version":{_dumps(self.version)}}}\n').encode()

    def _data_json(self) -> str:
        return self.data_json or _dumps(self.data)

    @classmethod
    def from_json(cls, payload: bytes, column: str) -> Fragment:
        doc = json.loads(payload)
        return cls(doc["id"], doc["hub"], doc["plugin"], column, doc["version"], doc["html"],
                   doc["data"], doc["error"])

    @property
    def is_error_panel(self) -> bool:
        return ERROR_PANEL_MARK in self.html

    def stale(self, error: str) -> Fragment:
        """This last good fragment, kept but marked with the error that stopped its refresh."""
        data_json = self._data_json()
        return Fragment(self.id, self.hub, self.plugin, self.column,
                        version_of(self.html, data_json, error), self.html, self.data, error,
                        data_json=data_json)

    def packed(self) -> PackedFragment:
        """This fragment as a writer keeps it between batches, to assemble pages and make
        stale copies: its HTML and data JSON compressed together. Kept whole, the fragments
        of 737 hubs held 37 MB more of a watcher's memory; as plain text, a thousand hubs'
        still held 39 MB, which zlib's fastest level makes a fifth at 34 µs a fragment."""
        if self.packed_as is not None:
            return self.packed_as
        text = self.html + self._data_json()
        return PackedFragment(self.id, self.hub, self.plugin, self.version, self.error,
                              len(self.html), zlib.compress(text.encode(), 1))


@dataclass(frozen=True, slots=True)
class PackedFragment:
    """A Fragment made small for keeping (see Fragment.packed); unpack() gives it back, in
    the column its instance has now, its `data` left empty (its JSON is what a file and a
    stale copy need)."""

    id: int
    hub: str
    plugin: str
    version: str
    error: str | None
    html_length: int
    text: bytes
    """The HTML, then the data as JSON, compressed."""

    def unpack(self, column: str) -> Fragment:
        text = zlib.decompress(self.text).decode()
        return Fragment(self.id, self.hub, self.plugin, column, self.version,
                        text[:self.html_length], {}, self.error,
                        data_json=text[self.html_length:], packed_as=self)


@dataclass(frozen=True)
class Versions:
    """build/<hub>/versions.json: each widget's version, and the sequence number of this set of
    versions, which goes up by one whenever the set changes. The page written with it carries
    the same number, so a live client can ask for exactly what changed since its HTML."""

    seq: int
    widgets: dict[str, str]

    def to_json(self) -> bytes:
        return _dumps({"seq": self.seq, "widgets": self.widgets}).encode() + b"\n"

    @classmethod
    def from_json(cls, payload: bytes) -> Versions:
        """Raises ValueError for anything but a versions.json this project wrote."""
        try:
            doc = json.loads(payload)
            seq, widgets = doc["seq"], doc["widgets"]
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"not a versions.json: {e}") from e
        if not (isinstance(seq, int) and isinstance(widgets, dict)
                and all(isinstance(v, str) for v in widgets.values())):
            raise ValueError("not a versions.json: seq must be a number, widgets a map")
        return cls(seq, {str(k): v for k, v in widgets.items()})

    def after(self, fragments: Sequence[Fragment]) -> Versions:
        """The versions of *fragments*, numbered after this state (the same, if unchanged)."""
        widgets = {str(f.id): f.version for f in fragments}
        return self if widgets == self.widgets else Versions(self.seq + 1, widgets)


NO_VERSIONS = Versions(0, {})
"""Before a hub's first build."""


def version_of(html: str, data_json: str, error: str | None, html_json: str = "") -> str:
    """A content hash of what a widget shows, so clients refetch only on real change: of
    `{"data", "error", "html"}` as _dumps writes it, the data already serialised (and the
    HTML too, if *html_json* is given)."""
    document = (f'{{"data":{data_json},"error":{_dumps(error)},'
                f'"html":{html_json or _dumps(html)}}}')
    return hashlib.sha256(document.encode()).hexdigest()[:16]


def _widget_error(instance: WidgetInstance, e: Exception) -> WidgetError:
    """*e* as the error of *instance*: a HubsError already names it."""
    if isinstance(e, WidgetError):
        return e
    message = str(e) if isinstance(e, HubsError) else (
        f"widget {instance.key} ({instance.plugin}): {type(e).__name__}: {e}")
    error = WidgetError(message)
    error.__cause__ = e
    return error


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Reads `message.link` on a plain dict (widget data is JSON) as the key it is, where
    Jinja2 tried the attribute first and caught an AttributeError, 445,000 times in a
    1,000-user build; a name dicts have as an attribute (`items`) still means it."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class Renderer:
    """Turns instances into fragments and hubs into pages with one Jinja2 environment, and
    hubs into feeds."""

    def __init__(self, registry: Registry, services: Services, now: datetime,
                 static_urls: Mapping[str, str], live: LiveSettings | None = None,
                 site_url: str = DEFAULT_SITE_URL, reload_templates: bool = False) -> None:
        self.registry = registry
        self.services = services
        self.now = now
        self.site_url = site_url
        self.env = _Environment(
            loader=jinja2.ChoiceLoader([
                jinja2.FileSystemLoader(TEMPLATES),
                jinja2.FunctionLoader(self._widget_template),
            ]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=reload_templates,
        )
        self._compiled: dict[str, jinja2.Template] = {}
        filters.install(self.env)
        self.env.bytecode_cache = template_cache(self.env)
        self.static_urls = dict(static_urls)
        self.env.globals["static"] = lambda name: static_urls[name]
        self.env.globals["live"] = live or LiveSettings()

    def set_now(self, now: datetime) -> None:
        """Advance the data clock (watch does, as messages arrive)."""
        self.now = now

    def _widget_template(self, name: str) -> tuple[str, str, Any] | None:
        if not name.startswith(WIDGET_PREFIX):
            return None
        path = self.registry.templates.get(name[len(WIDGET_PREFIX):])
        if path is None:
            return None
        mtime = path.stat().st_mtime
        return path.read_text(encoding="utf-8"), str(path), lambda: path.stat().st_mtime == mtime

    def render_instance(self, session: Session, instance: WidgetInstance) -> Fragment:
        """Render one instance; raise WidgetError saying which instance failed and why."""
        outcome = self.render_many(session, [instance])[instance.id]
        if isinstance(outcome, WidgetError):
            raise outcome
        return outcome

    def bulk_context(self, session: Session) -> BulkContext:
        """What the loaders of one chunk share: pass it to render_many and render_feeds."""
        return BulkContext(session, self.now, self.services)

    def render_many(self, session: Session, instances: Sequence[WidgetInstance],
                    bulk: BulkContext | None = None) -> dict[int, Fragment | WidgetError]:
        """Render *instances* (a build chunk, a watch batch), by id: a fragment, or the error
        naming the instance that failed. Each widget loads the data of all its instances at
        once, through *bulk* if given; a database outage is raised, not blamed on a widget."""
        outcomes: dict[int, Fragment | WidgetError] = {}
        batches: dict[str, list[ConfiguredInstance]] = {}
        for instance in instances:
            try:
                widget = self.registry.get(instance.plugin, instance.key)
                config = widget.validate_config(instance.config, instance.key)
            except Exception as e:  # noqa: BLE001 - blamed on this instance alone
                outcomes[instance.id] = _widget_error(instance, e)
                continue
            batches.setdefault(widget.name, []).append(ConfiguredInstance(instance, config))
        bulk = bulk or self.bulk_context(session)
        for name, batch in batches.items():
            widget = self.registry.widgets[name]
            for item, data in self._load(widget, bulk, batch):
                outcomes[item.id] = (data if isinstance(data, WidgetError)
                                     else self._fragment(widget, item, data))
        return {instance.id: outcomes[instance.id] for instance in instances}

    def _load(self, widget: Widget, bulk: BulkContext, batch: list[ConfiguredInstance]
              ) -> Iterator[tuple[ConfiguredInstance, dict[str, Any] | WidgetError]]:
        """Each instance's data, or its error: a failing batch is loaded again one instance at
        a time, so only the instances that fail alone are blamed."""
        if widget.load is None:
            yield from ((item, self._data_of(widget, bulk, item)) for item in batch)
            return
        try:
            loaded = widget.load(bulk, batch)
        except UNAVAILABLE:
            raise
        except Exception as e:  # noqa: BLE001 - retried per instance just below
            if len(batch) == 1:
                yield batch[0], _widget_error(batch[0].instance, e)
                return
            log.warning("Loading %d %s widgets at once failed (%s: %s); loading each alone",
                        len(batch), widget.name, type(e).__name__, e)
            for item in batch:
                yield from self._load(widget, bulk, [item])
            return
        for item in batch:
            data = loaded.get(item.id)
            yield item, data if data is not None else _widget_error(
                item.instance, LookupError("its batch loader returned no data for it"))

    @staticmethod
    def _data_of(widget: Widget, bulk: BulkContext,
                 item: ConfiguredInstance) -> dict[str, Any] | WidgetError:
        assert widget.data is not None
        try:
            return widget.data(DataContext(bulk.session, item.instance, item.config, bulk.now,
                                           bulk.services))
        except UNAVAILABLE:
            raise
        except Exception as e:  # noqa: BLE001 - blamed on this instance alone
            return _widget_error(item.instance, e)

    def _fragment(self, widget: Widget, item: ConfiguredInstance,
                  data: dict[str, Any]) -> Fragment | WidgetError:
        instance, config = item.instance, item.config
        try:
            data_json = _dumps(data)  # refuse non-JSON data here, not when the file is written
            body = self._template(WIDGET_PREFIX + widget.name).render(
                data=data, hub=instance.hub, config=config, instance=instance)
            html = self._template("panel.html").render(
                title=widget.title(config), plugin=widget.name, body=Markup(body),
                widget_id=instance.id)
        except UNAVAILABLE:
            raise
        except Exception as e:  # noqa: BLE001 - blamed on this instance alone
            return _widget_error(instance, e)
        html_json = _dumps(html)
        return Fragment(instance.id, instance.hub.name, instance.plugin, instance.column,
                        version_of(html, data_json, None, html_json), html, data,
                        data_json=data_json, html_json=html_json)

    def _template(self, name: str) -> jinja2.Template:
        """Compiled once per renderer, unless templates reload on edit (the dev server):
        Jinja2's own cache re-checks the loaders on every call."""
        if self.env.auto_reload:
            return self.env.get_template(name)
        template = self._compiled.get(name)
        if template is None:
            template = self._compiled[name] = self.env.get_template(name)
        return template

    def error_fragment(self, instance: WidgetInstance, error: str) -> Fragment:
        """What a failed instance shows when it has no last good fragment to keep."""
        html = self._template("error_panel.html").render(
            plugin=instance.plugin, error=error)
        return Fragment(instance.id, instance.hub.name, instance.plugin, instance.column,
                        version_of(html, "{}", error), html, {}, error)

    def render_page(self, hub: Hub, fragments: Sequence[Fragment], seq: int) -> bytes:
        """The complete hub page: every widget's HTML inline, so it works without JavaScript;
        *seq* is the versions.json state it shows."""
        columns = {c.value: [f for f in fragments if f.column == c.value] for c in Column}
        html = self._template("hub.html").render(hub=hub, columns=columns, seq=seq,
                                                 root="../")
        return html.encode()

    def render_feeds(self, bulk: BulkContext, hubs: Sequence[Hub]) -> dict[int, bytes]:
        """build/<hub>/feed.atom of each of *hubs*, by hub id: its messages up to the data
        clock, for all the hubs in a constant number of queries."""
        return hub_feeds(bulk, hubs, self.site_url) if hubs else {}

    def render_directory(self, listing: Listing, digest: str) -> bytes:
        """build/index.html: the search box, every team, and a link to every people page;
        *digest* goes into the page, so the writer knows what it shows without rendering it."""
        page = self._template("index.html").render(listing=listing, digest=digest,
                                                          root="")
        return page.encode()

    def render_people_page(self, listing: Listing, page: PeoplePage, digest: str) -> bytes:
        """build/people/<slug>.html: one page of people, and links to all the others."""
        html = self._template("people.html").render(listing=listing, page=page,
                                                           digest=digest, root="../")
        return html.encode()

    def directory_fingerprint(self) -> str:
        """A hash of what directory pages show besides their hubs: their templates, the code
        that shapes them and the static files' URLs; equal hubs and fingerprint, equal pages."""
        digest = hashlib.sha256(repr(sorted(self.static_urls.items())).encode())
        for name in DIRECTORY_TEMPLATES:
            source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            digest.update(source.encode())
        for module in (avatars, filters, listing):
            digest.update(Path(str(module.__file__)).read_bytes())
        return digest.hexdigest()

    def render_not_found(self) -> bytes:
        """build/404.html: nginx serves it for any missing path, at any depth, so its links
        start at the site root."""
        return self._template("404.html").render(root="/").encode()
