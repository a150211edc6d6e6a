"""replace_file: atomic for readers, quiet when nothing changed, and never a temp file left."""

from __future__ import annotations

import ctypes
import errno
import os

import pytest

from hubsgen.output import files
from hubsgen.output.files import replace_file


def test_a_file_is_written_once_and_left_alone_while_its_bytes_hold(tmp_path):
    path = tmp_path / "hub" / "versions.json"
    assert replace_file(path, b"one") is True
    inode = path.stat().st_ino
    assert replace_file(path, b"one") is False
    assert path.stat().st_ino == inode
    assert oct(path.stat().st_mode & 0o777) == "0o644"


@pytest.mark.parametrize("exchange", ["renameat2", "none", "refused"])
def test_a_replaced_file_is_whole_to_a_reader_that_opened_the_old_one(tmp_path, monkeypatch,
                                                                        exchange):
    """Whether the file system exchanges the two files or only renames (no renameat2, or one
    that says EINVAL, as NFS does): a reader keeps the old bytes, the path has the new."""
    results = []
    if exchange == "renameat2":
        if files._exchange is None:
            pytest.skip("this libc has no renameat2")
        real = files._exchange

        def spy(*args):
            results.append(real(*args))
            return results[-1]
        monkeypatch.setattr(files, "_exchange", spy)
    if exchange == "none":
        monkeypatch.setattr(files, "_exchange", None)
    if exchange == "refused":
        def refuse(*_args):
            ctypes.set_errno(errno.EINVAL)
            return -1
        monkeypatch.setattr(files, "_exchange", refuse)
    path = tmp_path / "feed.atom"
    replace_file(path, b"old" * 1000)
    with path.open("rb") as reader:
        assert replace_file(path, b"new") is True
        assert reader.read() == b"old" * 1000
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["feed.atom"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert results == ([0] if exchange == "renameat2" else []), "exchanged, not renamed"


def test_a_symlink_in_a_files_place_is_replaced_not_followed(tmp_path):
    target = tmp_path / "elsewhere.html"
    target.write_bytes(b"kept")
    page = tmp_path / "index.html"
    page.symlink_to(target)
    assert replace_file(page, b"page") is True
    assert not page.is_symlink() and page.read_bytes() == b"page"
    assert target.read_bytes() == b"kept"


def test_an_exchange_that_fails_otherwise_is_raised_and_changes_nothing(tmp_path, monkeypatch):
    def fail(*_args):
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(files, "_exchange", fail)
    path = tmp_path / "index.html"
    replace_file(path, b"one")
    with pytest.raises(OSError, match="Input/output error"):
        replace_file(path, b"two")
    assert path.read_bytes() == b"one"
    assert os.listdir(tmp_path) == ["index.html"]


@pytest.mark.parametrize("failing", ["write", "replace"])
def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch,
                                                                          failing):
    path = tmp_path / "hub" / "versions.json"
    replace_file(path, b"one")

    def disk_full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    monkeypatch.setattr(files, "_exchange", None)  # so the rename is os.replace
    with pytest.raises(OSError, match="No space left"):
        replace_file(path, b"two")
    assert path.read_bytes() == b"one"
    assert os.listdir(path.parent) == ["versions.json"]
