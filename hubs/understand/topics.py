"""Topics as widgets know them: without the "org.fedoraproject.prod." style prefix."""

from __future__ import annotations

import re

# <reversed domain>.<environment>.: org.fedoraproject.prod., org.centos.stage., io.pagure.stg.,
# org.release-monitoring.prod.
PREFIX = re.compile(r"^(?:org|io|com|net)\.[a-z0-9-]+\.(?:prod|production|stg|stage|staging|"
                    r"dev|test)\.")
DEFAULT_PREFIX = "org.fedoraproject.prod."


def strip_prefix(topic: str) -> str:
    """``bodhi.update.comment`` for ``org.fedoraproject.prod.bodhi.update.comment``."""
    return PREFIX.sub("", topic, count=1)


def with_prefix(topic: str) -> str:
    """The full topic, assuming Fedora production when a message came without a prefix."""
    return topic if PREFIX.match(topic) else DEFAULT_PREFIX + topic
