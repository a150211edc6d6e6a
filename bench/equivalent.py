"""Give Hugo and a plain Jinja2 loop the same pages to build as a finished hubsgen build.

    .venv/bin/python bench/equivalent.py BUILD_DIR WORK_DIR

Each hub's per-page data is read back from the build: its header and widget order from
`<hub>/index.html`, each widget's data from its fragment. That data becomes one front-matter-only
content file per hub in a Hugo site (`WORK_DIR/hugo`) and one line of `WORK_DIR/pages.jsonl` for
the floor. Both render it with templates that mirror ours (`bench/equivalent/`): the Go
templates re-implement each widget template; the floor reuses the widget templates themselves.

Those two write the hub pages only. A second Hugo site (`WORK_DIR/hugo-full`) writes every file
hubsgen writes per hub, as Hugo custom output formats: the page, `versions.json` and `feed.atom`
(the feed's entries read back from hubsgen's) of each hub's content file, and a JSON fragment
per widget, each a content file of its own with the `fragment` output format at
`<hub>/widgets/<id>.json`. One render of each widget's panel (partialCached) serves its page,
its fragment and the hub's versions, whose hashes Hugo computes as hubsgen does.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from hubs.avatars import avatar_url  # noqa: E402 - the project, run from a checkout

TEMPLATES = HERE / "equivalent"
ATOM = {"atom": "http://www.w3.org/2005/Atom"}
PER_HUB = {"pages": "*/index.html", "fragments": "*/widgets/*.json",
           "versions.json": "*/versions.json", "feeds": "*/feed.atom"}
"""The files written for each hub, by kind."""

MAIN = re.compile(r'<main class="hub"[^>]* data-hub="(?P<name>[^"]*)" data-seq="(?P<seq>\d+)" '
                  r'data-events="(?P<events>[^"]*)" data-poll-seconds="(?P<poll>[^"]*)"')
HEADER = re.compile(r'<section class="hub-header(?P<archived> is-archived)?"')
AVATAR = re.compile(r'<img class="hub-avatar" src="([^"]*)"')
KIND = re.compile(r'<span class="tag tag-kind">(Contributor|Team)</span>')
SUMMARY = re.compile(r'<p class="hub-summary">(.*?)</p>', re.S)
STATIC = re.compile(r'<link rel="stylesheet" href="\.\./(?P<css>[^"]*)">\s*'
                    r'<link rel="icon" href="\.\./(?P<icon>[^"]*)"[^>]*>\s*'
                    r'<link rel="alternate" type="application/atom\+xml"[^>]*>\s*'
                    r'<script src="\.\./(?P<js>[^"]*)"')
LAYOUT = re.compile(r'class="hub-column hub-column-(?P<column>[\w-]+)"'
                    r'|data-widget-id="(?P<id>\d+)"')
TITLE = re.compile(r'<h2 class="panel-title" id="panel-\d+">(.*?)</h2>', re.S)

HUGO_CONFIG = """\
# The Hugo side of the hubsgen comparison: one page per hub, nothing else.
baseURL = "http://localhost/"
disableKinds = ["home", "section", "taxonomy", "term", "rss", "sitemap", "robotstxt", "404"]
disablePathToLower = true
uglyURLs = false

[params]
now = {now}

[params.static]
css = {css}
icon = {icon}
js = {js}

[params.live]
events_url = {events_url}
poll_seconds = {poll_seconds}
"""


HUGO_FULL_CONFIG = """
# Every file hubsgen writes per hub: a page's other outputs, and the fragments' own format.
[mediaTypes."application/atom+xml"]
suffixes = ["atom"]

[outputFormats.versions]
mediaType = "application/json"
baseName = "versions"
isPlainText = true
notAlternative = true

[outputFormats.feed]
mediaType = "application/atom+xml"
baseName = "feed"
isPlainText = true
notAlternative = true

[outputFormats.fragment]
mediaType = "application/json"
isPlainText = true
notAlternative = true

[outputs]
page = ["html", "versions", "feed"]
"""


@dataclass(frozen=True)
class Equivalents:
    """Where the other generators' inputs were written."""

    hugo_site: Path
    pages_file: Path
    jinja_templates: Path
    hugo_full_site: Path


def read_page(hub_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """One hub's per-page data, and the site settings its page was rendered with."""
    page = (hub_dir / "index.html").read_text(encoding="utf-8")
    main = MAIN.search(page)
    if main is None:
        raise SystemExit(f"{hub_dir / 'index.html'} is not a hubsgen hub page")
    name = html.unescape(main["name"])
    avatar = html.unescape(AVATAR.search(page)[1])
    summary = SUMMARY.search(page)
    hub = {
        "name": name,
        "summary": html.unescape(summary[1]) if summary else "",
        "avatar": "" if avatar == avatar_url(name, 128) else avatar,  # computed unless set
        "user_hub": KIND.search(page)[1] == "Contributor",
        "archived": bool(HEADER.search(page)["archived"]),
        "seq": int(main["seq"]),
    }
    columns: list[dict[str, Any]] = []
    for match in LAYOUT.finditer(page):
        if match["column"]:
            columns.append({"name": match["column"], "widgets": []})
        else:
            columns[-1]["widgets"].append(read_widget(hub_dir / "widgets" / f"{match['id']}.json"))
    static = STATIC.search(page)
    site = {"static": {k: html.unescape(v) for k, v in static.groupdict().items()},
            "live": {"events_url": html.unescape(main["events"]), "poll_seconds": main["poll"]}}
    return {"title": name, "hub": hub, "columns": columns}, site


def read_widget(fragment_path: Path) -> dict[str, Any]:
    """What the widget rendered from: its data, plus the panel title its page shows."""
    fragment = json.loads(fragment_path.read_text(encoding="utf-8"))
    title = TITLE.search(fragment["html"])
    return {"id": fragment["id"], "plugin": fragment["plugin"],
            "title": html.unescape(title[1]) if title else "",
            "version": fragment["version"], "error": fragment["error"], "data": fragment["data"]}


def read_feed(feed_path: Path) -> tuple[dict[str, Any], str]:
    """A hub's feed entries as hubs/atom.py made them, and the site URL the feed names."""
    feed = ET.parse(feed_path).getroot()
    self_link = feed.find("atom:link[@rel='self']", ATOM)
    if self_link is None:
        raise SystemExit(f"{feed_path} has no self link: not a hubsgen feed")
    hub_id = feed.findtext("atom:id", "", ATOM)  # tag:HOST,CREATED:hub/NAME
    entries = []
    for entry in feed.findall("atom:entry", ATOM):
        link = entry.find("atom:link", ATOM)
        category = entry.find("atom:category", ATOM)
        entries.append({
            "msg_id": unquote(entry.findtext("atom:id", "", ATOM).split(":msg/", 1)[1]),
            "title": entry.findtext("atom:title", "", ATOM),
            "updated": entry.findtext("atom:updated", "", ATOM),
            "people": [name.text for name in entry.findall("*/atom:name", ATOM)],
            "category": "" if category is None else category.get("term", ""),
            "link": "" if link is None else link.get("href", "")})
    site_url = self_link.get("href", "").rsplit("/", 2)[0] + "/"
    return ({"created": hub_id.split(",", 1)[1].split(":", 1)[0],
             "updated": feed.findtext("atom:updated", "", ATOM), "entries": entries}, site_url)


def write_full_content(content: Path, hub_dir: Path, page: dict[str, Any]) -> str:
    """The hub's content file with its feed, and one content file per fragment; the site URL."""
    feed, site_url = read_feed(hub_dir / "feed.atom")
    name = page["hub"]["name"]
    (content / f"{name}.md").write_text(json.dumps(page | {"feed": feed}, ensure_ascii=False)
                                        + "\n", encoding="utf-8")
    for column in page["columns"]:
        for widget in column["widgets"]:
            fragment = {"title": f"{name}/{widget['id']}",
                        "url": f"/{name}/widgets/{widget['id']}.json",
                        "outputs": ["fragment"], "hub": name, "widget": widget["id"]}
            (content / "widgets" / f"{name}-{widget['id']}.md").write_text(
                json.dumps(fragment) + "\n", encoding="utf-8")
    return site_url


def newest_message(page: dict[str, Any]) -> str:
    """The newest feed message on *page*: the data clock is the newest stored message, which
    some feed shows, so the newest over all pages recovers the `now` hubsgen rendered with."""
    stamps = [m["timestamp"] for column in page["columns"] for w in column["widgets"]
              if w["plugin"] == "feed" for m in w["data"].get("messages", [])]
    return max(stamps, default="")


def make_equivalents(build_dir: Path, work_dir: Path) -> Equivalents:
    """Write a Hugo site and the floor's inputs under *work_dir* (replacing earlier ones)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    hugo_site, jinja_templates = work_dir / "hugo", work_dir / "jinja"
    hugo_full_site = work_dir / "hugo-full"
    pages_file = work_dir / "pages.jsonl"
    for stale in (hugo_site, jinja_templates, hugo_full_site):
        shutil.rmtree(stale, ignore_errors=True)
    shutil.copytree(TEMPLATES / "hugo", hugo_site)
    shutil.copytree(TEMPLATES / "hugo", hugo_full_site)
    shutil.copytree(TEMPLATES / "hugo-full", hugo_full_site, dirs_exist_ok=True)
    shutil.copytree(TEMPLATES / "jinja", jinja_templates)
    shutil.copy(ROOT / "hubs" / "templates" / "base.html", jinja_templates)  # the page frame
    (jinja_templates / "widgets").mkdir()
    for template in (ROOT / "widgets").glob("*.html"):
        shutil.copy(template, jinja_templates / "widgets" / template.name)
    content, full_content = hugo_site / "content", hugo_full_site / "content"
    content.mkdir()
    (full_content / "widgets").mkdir(parents=True)
    now, site, site_url = "", None, ""
    with pages_file.open("w", encoding="utf-8") as lines:
        for hub_page in sorted(build_dir.glob("*/index.html")):
            page, site = read_page(hub_page.parent)
            now = max(now, newest_message(page))
            document = json.dumps(page, ensure_ascii=False)
            (content / f"{page['hub']['name']}.md").write_text(document + "\n", encoding="utf-8")
            lines.write(document + "\n")
            site_url = write_full_content(full_content, hub_page.parent, page)
    if site is None:
        raise SystemExit(f"{build_dir} holds no hub pages: run hubsgen build first")
    if not now:
        raise SystemExit(f"no feed in {build_dir} shows a message, so its data clock is unknown")
    site["now"] = now
    (work_dir / "site.json").write_text(json.dumps(site), encoding="utf-8")
    values = {"now": now, **site["static"], **site["live"]}
    config = HUGO_CONFIG.format(**{k: json.dumps(v) for k, v in values.items()})
    (hugo_site / "hugo.toml").write_text(config, encoding="utf-8")
    full_config = (config.replace("one page per hub, nothing else.",
                                  "every file hubsgen writes per hub.")
                   .replace("[params]\n", f"[params]\nsite_url = {json.dumps(site_url)}\n"))
    (hugo_full_site / "hugo.toml").write_text(full_config + HUGO_FULL_CONFIG, encoding="utf-8")
    return Equivalents(hugo_site, pages_file, jinja_templates, hugo_full_site)


def mean_page_bytes(out_dir: Path) -> float:
    """Mean size of the hub pages (`<hub>/index.html`) under *out_dir*."""
    sizes = [p.stat().st_size for p in out_dir.glob("*/index.html")]
    if not sizes:
        raise SystemExit(f"no hub pages under {out_dir}")
    return sum(sizes) / len(sizes)


def page_sizes(outputs: dict[str, Path]) -> dict[str, float]:
    """Mean page bytes per generator, e.g. {"hubsgen": build, "Hugo": site/public, ...}: the
    comparison is fair only while these stay close."""
    return {name: mean_page_bytes(out) for name, out in outputs.items()}


def tree_totals(out_dir: Path) -> dict[str, tuple[int, int]]:
    """Files and bytes per kind of per-hub file under *out_dir*, and in all."""
    totals = {}
    for kind, pattern in PER_HUB.items():
        sizes = [p.stat().st_size for p in out_dir.glob(pattern)]
        totals[kind] = (len(sizes), sum(sizes))
    totals["all files"] = (sum(1 for p in out_dir.rglob("*") if p.is_file()),
                           sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file()))
    return totals


@click.command()
@click.argument("build_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("work_dir", type=click.Path(file_okay=False, path_type=Path))
def main(build_dir: Path, work_dir: Path) -> None:
    """Write the Hugo site and the floor's pages for BUILD_DIR's hubs into WORK_DIR."""
    made = make_equivalents(build_dir, work_dir)
    click.echo(f"Hugo site: {made.hugo_site}\nFloor pages: {made.pages_file}, templates: "
               f"{made.jinja_templates}")


if __name__ == "__main__":
    main()
