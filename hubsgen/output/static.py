"""Publish CSS, JS and images under content-hashed names, cacheable forever."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import hubs
from hubsgen.output.files import Output

SOURCE = Path(hubs.__file__).resolve().parent / "static"


@dataclass
class StaticResult:
    urls: dict[str, str] = field(default_factory=dict)
    written: int = 0
    unchanged: int = 0
    removed: int = 0


def hashed_name(name: str, payload: bytes) -> str:
    stem, dot, suffix = name.rpartition(".")
    digest = hashlib.sha256(payload).hexdigest()[:10]
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"


def publish_static(out: Output, source: Path = SOURCE) -> StaticResult:
    """Copy each static file to build/static/<stem>.<hash>.<ext>; drop names no longer used."""
    result = StaticResult()
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        payload = path.read_bytes()
        name = hashed_name(path.name, payload)
        result.urls[path.name] = f"static/{name}"
        if out.write(payload, "static", name):
            result.written += 1
        else:
            result.unchanged += 1
    current = {url.removeprefix("static/") for url in result.urls.values()}
    for stale in sorted(out.path("static").iterdir()):
        if stale.name not in current:
            out.remove(stale)
            result.removed += 1
    return result
