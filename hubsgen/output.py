"""The output directory: atomic writes that skip unchanged bytes, and nothing outside it."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from hubs.errors import HubsError

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"


def replace_file(path: Path, payload: bytes) -> bool:
    """Swap in *payload* atomically: nginx serves build/ while watch rewrites it.

    Returns False, touching nothing, when the file already holds these bytes, so mtimes and
    ETags stay stable.
    """
    try:
        if path.read_bytes() == payload:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)  # mkstemp files are 0600; nginx runs as another user
        os.replace(tmp, path)  # same directory, so the rename is atomic
    except BaseException:
        os.unlink(tmp)  # never leave a half-written file behind
        raise
    return True


class Output:
    """Paths under the output root, each checked to resolve inside it before use."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def path(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise HubsError(f"refusing to write {'/'.join(parts)}: it resolves outside {self.root}")
        return path

    def write(self, payload: bytes, *parts: str) -> bool:
        return replace_file(self.path(*parts), payload)

    def remove(self, path: Path) -> None:
        """Delete a file or directory we no longer produce."""
        log.info("Removed %s", path.relative_to(self.root))
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
