"""The floor a Python generator starts from: a plain loop rendering one Jinja2 template per page.

    .venv/bin/python bench/jinja_floor.py PAGES_FILE TEMPLATES_DIR OUT_DIR

No database, no framework: read a page's data (a line of PAGES_FILE, written by
bench/equivalent.py with the site settings in site.json beside it), render it, write
OUT_DIR/<hub>/index.html. Escaping, whitespace and filters are those of hubsgen's renderer.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import jinja2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from measure import Run, measure  # noqa: E402 - a sibling script

from hubs import filters  # noqa: E402 - the project, run from a checkout


def floor_build(pages_file: Path, templates_dir: Path, out_dir: Path) -> Run:
    """Build every page from scratch in a process of its own, so its peak RSS is its alone."""
    shutil.rmtree(out_dir, ignore_errors=True)
    return measure([sys.executable, str(Path(__file__).resolve()), str(pages_file),
                    str(templates_dir), str(out_dir)], out_dir.parent)


def render_pages(pages_file: Path, templates_dir: Path, out_dir: Path) -> int:
    """Render each line of *pages_file* to its page; returns how many were written."""
    site = json.loads(pages_file.with_name("site.json").read_text(encoding="utf-8"))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             auto_reload=False)  # one pass: no template changes to notice
    filters.install(env)
    # The project's base.html names its static files as the renderer publishes them.
    published = {"hubs.css": site["static"]["css"], "hubs-logo.svg": site["static"]["icon"],
                 "live.js": site["static"]["js"]}
    env.globals["static"] = published.__getitem__
    template = env.get_template("page.html")
    written = 0
    with pages_file.open(encoding="utf-8") as lines:
        for line in lines:
            page = json.loads(line)
            target = out_dir / page["hub"]["name"] / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(template.render(site=site, root="../", **page),
                              encoding="utf-8")
            written += 1
    return written


if __name__ == "__main__":
    pages, templates, out = (Path(arg) for arg in sys.argv[1:4])
    print(f"{render_pages(pages, templates, out)} pages")  # measure() reports the last line
