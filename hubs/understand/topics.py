"""Topics as widgets know them: without the "org.fedoraproject.prod." style prefix, whatever
environment the prefix names."""

from __future__ import annotations

import re

ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "prod": ("prod", "production"),
    "stg": ("stg", "stage", "staging"),
    "dev": ("dev", "test"),
}
"""Each environment a deployment may subscribe to, and the words prefixes name it by: Fedora
says ``stg`` where CentOS says ``stage``."""

_ENVIRONMENT_OF_WORD = {word: name for name, words in ENVIRONMENTS.items() for word in words}

# <reversed domain>.<environment>.: org.fedoraproject.prod., org.centos.stage., io.pagure.stg.,
# org.release-monitoring.prod.
PREFIX = re.compile(r"^(?:org|io|com|net)\.[a-z0-9-]+\.(" + "|".join(_ENVIRONMENT_OF_WORD)
                    + r")\.")
FEDORA = "org.fedoraproject"
DEFAULT_PREFIX = f"{FEDORA}.prod."


def strip_prefix(topic: str) -> str:
    """``bodhi.update.comment`` for ``org.fedoraproject.prod.bodhi.update.comment``."""
    return PREFIX.sub("", topic, count=1)


def with_prefix(topic: str) -> str:
    """The full topic, assuming Fedora production when a message came without a prefix."""
    return topic if PREFIX.match(topic) else DEFAULT_PREFIX + topic


def environment_of(topic: str) -> str | None:
    """``stg`` for ``org.fedoraproject.stg.bodhi.update.comment`` or ``org.centos.stage.ci.x``;
    None for a topic whose prefix names no environment."""
    match = PREFIX.match(topic)
    return _ENVIRONMENT_OF_WORD[match.group(1)] if match else None


def spellings(topic: str) -> list[str]:
    """*topic*, then the same with each other word its environment goes by: fedmsg.meta's
    processors know ``org.centos.stage`` but not ``org.centos.stg``, ``org.fedoraproject.stg``
    but not ``org.fedoraproject.staging``."""
    match = PREFIX.match(topic)
    if match is None:
        return [topic]
    start, end = match.span(1)
    words = ENVIRONMENTS[_ENVIRONMENT_OF_WORD[match.group(1)]]
    return [topic, *(topic[:start] + word + topic[end:] for word in words if word != match[1])]


def fedora_prefix(environment: str) -> str:
    """``org.fedoraproject.stg``: what Fedora's own services publish under in *environment*."""
    return f"{FEDORA}.{environment}"


def belongs_to(topic: str, environment: str) -> bool:
    """Whether a deployment of *environment* should handle *topic*: one naming another
    environment is not its business; one naming none may be anyone's."""
    named = environment_of(topic)
    return named is None or named == environment


def routing_keys(environment: str) -> list[str]:
    """AMQP bindings for every service's topics in *environment* (``*.*.stg.#``...), whatever
    its reversed domain: io.pagure and org.release-monitoring publish on Fedora's bus too."""
    return [f"*.*.{word}.#" for word in ENVIRONMENTS[environment]]
