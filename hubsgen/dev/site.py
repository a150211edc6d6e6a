"""The output directory kept in step with the sources a widget author edits.

Each kind of source maps to what depends on it: a widget's template or module to that
plugin's fragments (and the pages showing them), a site template to every page (or every
fragment, for the panel chrome), a static file to its hashed copy and every page's reference,
and the database to the hubs whose revision moved. A template or Python error is kept as the
site's error until the next save fixes it.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import logging
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hubs.clock import data_now
from hubs.db import open_engine, session_factory
from hubs.models import Hub, WidgetInstance
from hubs.plugins import GROUP, Registry, load_widgets
from hubs.render import TEMPLATES, WIDGET_PREFIX, Renderer
from hubs.services import Services
from hubs.settings import Settings
from hubsgen.build.run import run_build
from hubsgen.output.files import Output
from hubsgen.output.hubs import HubResult, HubWriter, listable_hubs
from hubsgen.output.static import SOURCE as STATIC
from hubsgen.output.static import publish_static

log = logging.getLogger(__name__)

CHROME = {"panel.html", "error_panel.html"}
"""Site templates every fragment is wrapped in."""

NAMED_HUBS = 3
"""Rebuilds of more hubs than this are summed up as a count, not a list of names."""


@dataclass
class Rewrite:
    """What one save rewrote: the dev server's line after each rebuild."""

    hubs: list[str] = field(default_factory=list)
    files: int = 0

    def add(self, other: Rewrite) -> None:
        self.hubs.extend(other.hubs)
        self.files += other.files

    def summary(self, saved: str, seconds: float) -> str:
        if not self.files:
            return f"Saved {saved}: no output changed ({seconds:.2f} s)"
        hubs = (", ".join(self.hubs) if len(self.hubs) <= NAMED_HUBS
                else f"{len(self.hubs)} hubs")
        files = f"{self.files} file{'' if self.files == 1 else 's'} written"
        return f"Rebuilt {hubs or 'the directory page'} in {seconds:.2f} s: {files} (saved {saved})"


@dataclass(frozen=True)
class SourceError:
    """What broke the last rebuild: shown in the browser instead of the pages."""

    where: str  # "path:line"
    message: str
    detail: str

    @classmethod
    def of(cls, error: BaseException) -> SourceError:
        if isinstance(error, jinja2.TemplateSyntaxError):
            where = f"{error.filename or error.name}:{error.lineno}"
        elif isinstance(error, SyntaxError):
            where = f"{error.filename}:{error.lineno}"
        else:
            frames = traceback.extract_tb(error.__traceback__)
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        message = f"{type(error).__name__}: {error}"
        return cls(where, message, "".join(traceback.format_exception(error)))

    def page(self) -> bytes:
        return (
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Build error · hubsgen serve</title><style>body{font:15px/1.5 system-ui;"
            "margin:2rem;max-width:70rem}pre{background:#f6f6f6;padding:1rem;overflow:auto}"
            "h1{color:#a4000f}</style></head><body><h1>Build error</h1>"
            f"<p><strong>{html.escape(self.where)}</strong></p>"
            f"<p>{html.escape(self.message)}</p><pre>{html.escape(self.detail)}</pre>"
            "<p>Fix the file and save: this page reloads by itself.</p></body></html>"
        ).encode()


class DevSite:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.out = Output(settings.out_dir)
        self.engine = open_engine(settings.db_url)
        self.sessions = session_factory(self.engine)
        self.error: SourceError | None = None
        self.revisions: dict[int, int] = {}
        self.registry: Registry
        self.plugin_dirs = _plugin_dirs()
        """Where the plugins' modules and templates are: read from the file-watching thread,
        so it is a plain set, not a fresh plugin discovery per event."""
        self.renderer: Renderer
        self.writer: HubWriter

    def build(self) -> None:
        """Everything, once, at start."""
        self._attempt(self._build_all)

    @property
    def database_dir(self) -> Path | None:
        """The SQLite database's directory, watched for writes to it (None on PostgreSQL)."""
        database = self.engine.url.database
        if self.engine.url.get_backend_name() == "sqlite" and database:
            return Path(database).resolve().parent
        return None

    def watched_directories(self) -> set[Path]:
        """Where the sources are: site templates, static files, each plugin's directory, and
        the SQLite database's directory."""
        directories = {TEMPLATES.resolve(), STATIC.resolve(), *self.plugin_dirs}
        if self.database_dir is not None:
            directories.add(self.database_dir)
        return directories

    def relevant(self, path: Path) -> bool:
        """A source the site depends on; never a file of the output directory."""
        path = path.resolve()
        if self.settings.out_dir.resolve() in path.parents:
            return False
        if path.parent in {TEMPLATES.resolve(), STATIC.resolve()} or self._is_database(path):
            return True
        return path.suffix in {".py", ".html"} and path.parent in self.plugin_dirs

    def _is_database(self, path: Path) -> bool:
        """The SQLite file, or the journal or write-ahead log a write goes to first."""
        database = self.engine.url.database
        if self.database_dir is None or not database:
            return False
        stem = Path(database).resolve()
        return path in {stem, Path(f"{stem}-wal"), Path(f"{stem}-journal")}

    def changed(self, paths: Iterable[Path]) -> Rewrite:
        """Rewrite what depends on *paths*; what was rewritten, for the log."""
        rewrite = Rewrite()
        self._attempt(lambda: rewrite.add(self._react(set(paths))))
        return rewrite

    def close(self) -> None:
        self.engine.dispose()

    def _attempt(self, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as e:  # noqa: BLE001 - the author's mistake: show it, keep serving
            self.error = SourceError.of(e)
            log.error("%s: %s", self.error.where, self.error.message)
        else:
            if self.error is not None:
                log.info("Fixed: %s", self.error.where)
            self.error = None

    def _build_all(self) -> None:
        self._load()
        report = run_build(self.settings)
        log.info("%s", report.summary())
        with self.sessions() as session:
            self.revisions = self._revisions(session)

    def _load(self) -> None:
        """Plugins, static files and a renderer as the sources are now."""
        self.plugin_dirs = _plugin_dirs()
        self.registry = load_widgets()
        static = publish_static(self.out)
        with self.sessions() as session:
            now = data_now(session)
        self.renderer = Renderer(self.registry, Services(self.settings.services), now,
                                 static.urls, self.settings.live, self.settings.site_url,
                                 reload_templates=True)
        self.writer = HubWriter(self.renderer, self.out)

    def _react(self, paths: set[Path]) -> Rewrite:
        paths = {p.resolve() for p in paths}
        modules = {p for p in paths if p.suffix == ".py"}
        site_templates = {p.name for p in paths if p.parent == TEMPLATES.resolve()}
        statics = {p for p in paths if p.parent == STATIC.resolve()}
        if self.error is not None:  # rebuild everything the failed save left unbuilt
            self._reload()
            return self._rewrite(set(self.registry.widgets), pages=True)
        plugins: set[str] = set()
        if modules:
            self._reload()
            plugins |= self._plugins_defined_in(modules)
        elif statics:
            self._load()
        plugins |= {name for name, t in self.registry.templates.items() if t.resolve() in paths}
        for name in plugins - self._plugins_defined_in(modules):
            # A syntax error shows now, as this file's, not as an error panel.
            self.renderer.env.get_template(WIDGET_PREFIX + name)
        for name in site_templates:
            self.renderer.env.get_template(name)
        if site_templates & CHROME:
            plugins = set(self.registry.widgets)
        rewrite = self._rewrite(plugins, pages=bool(statics or site_templates - CHROME))
        if any(self._is_database(p) for p in paths):
            rewrite.add(self._rewrite_revised_hubs())
        return rewrite

    def _reload(self) -> None:
        """Re-import every module of the plugins' directories, helpers (``_user.py``) first,
        since a widget module holds what it imported from them; then load everything again.
        A module that still does not compile raises again, so its error stays shown."""
        directories = self.plugin_dirs
        files = [(Path(f), m) for m in list(sys.modules.values())
                 if (f := getattr(m, "__file__", None)) and Path(f).parent in directories]
        for _, module in sorted(files, key=lambda item: not item[0].name.startswith("_")):
            importlib.reload(module)
        self._load()

    def _plugins_defined_in(self, modules: set[Path]) -> set[str]:
        """The plugins whose Widget is defined in *modules*; all of them for a helper module,
        since any plugin may import it."""
        if not modules:
            return set()
        files = {str(p) for p in modules}
        defined = {name for name, widget in self.registry.widgets.items()
                   if getattr(sys.modules.get(widget.module), "__file__", "") in files}
        return defined or set(self.registry.widgets)

    def _rewrite(self, plugins: set[str], pages: bool) -> Rewrite:
        """Re-render the instances of *plugins*; with *pages*, rewrite every page too."""
        rewrite = Rewrite()
        with self.sessions() as session:
            hubs = listable_hubs(session)[0] if pages else self._hubs_showing(session, plugins)
            for hub in hubs:
                only = {w.id for w in hub.widgets if w.plugin in plugins}
                if only or pages:
                    self._note(rewrite, hub.name, self.writer.write_hub(session, hub, only))
            if pages:
                rewrite.files += self.writer.write_directory(session).written
        return rewrite

    def _rewrite_revised_hubs(self) -> Rewrite:
        rewrite = Rewrite()
        with self.sessions() as session:
            current = self._revisions(session)
            moved = [i for i, r in current.items() if self.revisions.get(i) != r]
            self.revisions = current
            if not moved:
                return rewrite
            hubs = session.scalars(select(Hub).where(Hub.id.in_(moved))).all()
            for hub in hubs:
                self._note(rewrite, hub.name, self.writer.write_hub(session, hub))
            rewrite.files += self.writer.write_directory(session).written
        return rewrite

    @staticmethod
    def _note(rewrite: Rewrite, hub: str, result: HubResult) -> None:
        if result.written:
            rewrite.hubs.append(hub)
            rewrite.files += result.written

    @staticmethod
    def _revisions(session: Session) -> dict[int, int]:
        return {hub_id: revision for hub_id, revision
                in session.execute(select(Hub.id, Hub.revision))}

    @staticmethod
    def _hubs_showing(session: Session, plugins: set[str]) -> list[Hub]:
        ids = select(WidgetInstance.hub_id).where(WidgetInstance.plugin.in_(sorted(plugins)))
        query = (select(Hub).where(Hub.id.in_(ids)).order_by(Hub.name)
                 .options(selectinload(Hub.widgets)))
        return list(session.scalars(query))


def _plugin_dirs() -> set[Path]:
    """The directory of each installed plugin's module, found without importing it, so a
    plugin that fails to import is still watched and its fix is seen."""
    directories = set()
    for ep in entry_points(group=GROUP):
        try:
            spec = importlib.util.find_spec(ep.module)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin:
            directories.add(Path(spec.origin).resolve().parent)
    return directories
