"""Remove the temp files of dead writers where a build of named hubs writes most: its hubs'
folders, the people pages and the static files. Walking every hub's folder for them costs
seconds at 100,000 hubs, more than the build itself; even listing the root's 100,000 entries
costs a tenth of such a build. A full build sweeps the whole output, root included."""

from __future__ import annotations

from collections.abc import Iterable

from hubs.listing import PEOPLE_DIR
from hubs.names import HUB_NAME_RE
from hubsgen.output.files import Output
from hubsgen.output.leftovers import remove_leftovers


def remove_leftovers_of(out: Output, hub_names: Iterable[str]) -> int:
    """Remove stale temp files under the named hubs', the people pages' and the static
    files' folders; return how many."""
    removed = 0
    folders = {name for name in hub_names if HUB_NAME_RE.fullmatch(name)}  # others are refused
    for name in sorted({*folders, PEOPLE_DIR, "static"}):
        folder = out.path(name)
        if folder.is_dir() and not folder.is_symlink():
            removed += remove_leftovers(Output(folder))
    return removed
