"""Compiled templates kept in the user's cache directory, so that a command rendering one hub
does not compile the dozen templates it uses again (75 ms of a `build --hub`)."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

log = logging.getLogger(__name__)


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja2's bytecode files, in a directory of the environment's own. A cache the disk
    refuses is no cache: the template is compiled, as without one. Jinja2 stores each
    template's source checksum with its code and compiles again when they differ, so an
    edited template is never served from here."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError as e:
            log.debug("Compiling templates anew: cannot read %s (%s)", self.directory, e)

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError as e:
            log.debug("Compiled templates not kept: cannot write %s (%s)", self.directory, e)


def template_cache(env: jinja2.Environment) -> TemplateCache | None:
    """A cache for *env*'s templates under $XDG_CACHE_HOME (or ~/.cache), or None if this
    user has no home to keep one in."""
    root = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):  # the XDG spec says to ignore a relative path
        try:
            root = str(Path.home() / ".cache")
        except RuntimeError as e:
            log.debug("Compiling templates anew: %s", e)
            return None
    return TemplateCache(os.path.join(root, "hubsgen", "templates", _compiled_by(env)))


def _compiled_by(env: jinja2.Environment) -> str:
    """A name for what the compiled code depends on besides the template's source: Jinja2 and
    Python, the environment's syntax and options, and how each filter and test is called
    (Jinja2 decides at compile time whether one is passed the context)."""
    calls = sorted((kind, name, repr(getattr(function, "jinja_pass_arg", None)))
                   for kind, functions in (("filter", env.filters), ("test", env.tests))
                   for name, function in functions.items())
    options = (env.block_start_string, env.block_end_string, env.variable_start_string,
               env.variable_end_string, env.comment_start_string, env.comment_end_string,
               env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks,
               env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
               env.optimized, env.is_async, repr(env.autoescape), repr(env.finalize),
               sorted(env.extensions))
    digest = hashlib.sha256(repr((options, calls)).encode()).hexdigest()[:16]
    return f"jinja2-{jinja2.__version__}-{sys.implementation.cache_tag}-{digest}"
