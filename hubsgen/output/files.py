"""The output directory: atomic writes that skip unchanged bytes, and nothing outside it."""

from __future__ import annotations

import ctypes
import errno
import itertools
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hubs.errors import HubsError, OutputError

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"

DIRECTORY_CACHE = 4096
"""Resolved directories an Output remembers: a hub's two, for the hubs a watcher sees most."""


def replace_file(path: Path, payload: bytes, new: bool = False) -> bool:
    """Swap in *payload* atomically: nginx serves build/ while watch rewrites it.

    Returns False, touching nothing, when the file already holds these bytes, so mtimes and
    ETags stay stable. *new* says the file cannot exist (its directory was just made), so
    nothing is read back: on a fresh tree, each failed read was half the opens of a build.

    Nothing is flushed to disk: readers never see a partial file, but after a power loss
    recent files may be empty until `hubsgen build` rewrites them (see _swap_in).
    """
    existed = False
    if not new:
        try:
            if path.read_bytes() == payload:
                return False
            existed = True
        except FileNotFoundError:
            pass
    fd, tmp = _create_temp(path)
    try:
        try:
            os.fchmod(fd, 0o644)  # whatever the umask: nginx runs as another user
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        _swap_in(tmp, path, existed)
    except BaseException:
        os.unlink(tmp)  # never leave a half-written file behind
        raise
    return True


def _swap_in(tmp: Path, path: Path, existed: bool) -> None:
    """Put *tmp* in *path*'s place atomically (they share a directory). A file that *existed*
    is exchanged with it (renameat2's RENAME_EXCHANGE), then unlinked under *tmp*'s name:
    renamed over an existing file, ext4 writes the new one's data out before the rename
    returns (its auto_da_alloc). Writing 5 kB files over their old selves took 493 µs each
    with a rename, 274 µs with the exchange (BENCHMARKS.md). Where there is no exchange, a
    rename."""
    if existed and _exchange is not None:
        if _exchange(_AT_FDCWD, os.fsencode(tmp), _AT_FDCWD, os.fsencode(path),
                     _RENAME_EXCHANGE) == 0:
            os.unlink(tmp)  # the old file now
            return
        error = ctypes.get_errno()
        if error not in _NO_EXCHANGE:
            raise OSError(error, os.strerror(error), str(path))
    os.replace(tmp, path)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.ENOENT, errno.EOPNOTSUPP}
"""Errors of an exchange that a rename can still do: a file system without it (NFS, older
overlayfs), a kernel before 3.15, the file gone meanwhile."""


def _load_exchange() -> Callable[[int, bytes, int, bytes, int], int] | None:
    """libc's renameat2 (in glibc since 2.28), which the os module does not offer."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_exchange = _load_exchange()


@contextmanager
def full_disk_named(root: Path) -> Iterator[None]:
    """Turn a full disk under *root* into a sentence saying where and what to do."""
    try:
        yield
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise OutputError(f"no space left for the output directory {root} ({e.strerror}): "
                          "free some space there, then build again") from e


_temp_numbers = itertools.count()
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new file next to *path*, named by process and counter: cheaper than mkstemp's random
    names, which showed up as a sixth of a full build's time."""
    while True:
        tmp = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{next(_temp_numbers)}")
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o644), tmp
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            pass  # left by a crashed process with the same pid: take the next number


class Output:
    """Paths under the output root, each checked to resolve inside it before use.

    A path's directory is resolved (symlinks followed) once and remembered; its last part must
    be a plain name, which writes replace rather than follow.
    """

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self._directories: dict[tuple[str, ...], Path] = {}

    def path(self, *parts: str) -> Path:
        *directory, name = parts or ("",)
        if name in ("", ".", "..") or "/" in name or "\0" in name:
            raise self._outside(parts)
        return self._directory(tuple(directory)) / name

    def _directory(self, parts: tuple[str, ...]) -> Path:
        resolved = self._directories.get(parts)
        if resolved is None:
            resolved = self.root.joinpath(*parts).resolve()
            if not resolved.is_relative_to(self.root):
                raise self._outside(parts)
            if len(self._directories) >= DIRECTORY_CACHE:
                self._directories.clear()
            self._directories[parts] = resolved
        return resolved

    def _outside(self, parts: tuple[str, ...]) -> HubsError:
        return HubsError(f"refusing to write {'/'.join(parts)}: it resolves outside {self.root}")

    def write(self, payload: bytes, *parts: str, new: bool = False) -> bool:
        """replace_file under the root; *new*: see replace_file."""
        return replace_file(self.path(*parts), payload, new)

    def make_directory(self, *parts: str) -> bool:
        """Create the directory at *parts* (its parent must exist); False if it was there.
        A directory made here holds nothing yet, so what goes in it is *new*."""
        try:
            os.mkdir(self.path(*parts))
        except FileExistsError:
            return False
        return True

    def remove(self, path: Path) -> None:
        """Delete a file or directory we no longer produce."""
        log.info("Removed %s", path.relative_to(self.root))
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
