"""Read a message with the processors Fedora used in the fedmsg era (``fedmsg.meta``).

``fedmsg_meta_fedora_infrastructure`` knows the fedmsg-era bodies of ~50 services. It is set up
once, on first use, with a configuration that keeps it off the network: IRC nicks and e-mail
addresses are resolved by the caller's ``Directory`` instead of the FAS user list (see
``aliases``), and Bodhi is unreachable (its taskotron processor would otherwise ask Bodhi for an
update's builds). Each processor matches the environments its service's prefix knows
(``org.centos.stage``, ``org.fedoraproject.stg``); a topic is offered in each spelling of its
environment, so every environment reads alike.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from importlib.metadata import entry_points
from typing import Any

from hubs.directory import NO_ALIASES, Directory
from hubs.events import RawMessage
from hubs.understand import aliases
from hubs.understand.reading import Reading, names, one_line, web_url
from hubs.understand.topics import spellings, with_prefix

log = logging.getLogger(__name__)

CONFIG: Mapping[str, Any] = {
    "topic_prefix": "org.fedoraproject",
    "topic_prefix_re": r"^org\.fedoraproject\.(dev|stg|prod)",
    "fasjson": False,  # and no "fas_credentials": no user-list download, no Kerberos
    "bodhi_url": "offline://bodhi",  # requests refuses the scheme before opening a socket
}


@cache
def processors() -> tuple[Any, ...]:
    """Fedora's fedmsg.meta processors, loaded once; none when they are not installed.

    Loaded through importlib, not ``fedmsg.meta.make_processors``: that goes through
    pkg_resources, which refuses them because fasjson-client (Kerberos) is deliberately absent.
    """
    try:
        import fedmsg.config
        from fedmsg_meta_fedora_infrastructure import fasshim
    except ImportError as e:
        log.warning("fedmsg.meta processors unavailable, fedmsg-era topics fall back (pip install "
                    "--no-deps 'fedmsg_meta_fedora_infrastructure==0.31.0'): %s", e)
        return ()
    aliases.install(fasshim)
    # The mailman3 processor calls fedmsg.config.load_config() at import, which would run
    # fedmsg-config.py files from /etc, ~ and the working directory; a filled cache is
    # returned instead.
    getattr(fedmsg.config, "__cache").update(CONFIG)
    loaded = []
    for entry_point in entry_points(group="fedmsg.meta"):
        try:
            with warnings.catch_warnings():  # fedmsg-era code: load_config, pkg_resources
                warnings.simplefilter("ignore", DeprecationWarning)
                loaded.append(entry_point.load()(_untranslated, **CONFIG))
        except Exception:  # noqa: BLE001 - one broken plugin must not hide the others
            log.exception("Could not load fedmsg.meta processor %s", entry_point.name)
    return tuple(loaded)


def _untranslated(text: str) -> str:
    return text


@lru_cache(maxsize=4096)
def _handled(topic: str) -> tuple[Any, str] | None:
    """The processor for *topic*, and *topic* as that processor spells its environment; None
    if none handles it in any spelling. fedmsg.meta's ``handle_msg`` matches only the topic,
    with each processor's regular expression in turn, so the answer is kept per topic."""
    for spelt in spellings(topic):
        for processor in processors():
            if processor.handle_msg({"topic": spelt}, **CONFIG) is not None:
                return processor, spelt
    return None


def read(raw: RawMessage, directory: Directory = NO_ALIASES) -> Reading | None:
    """What Fedora's fedmsg-era processor for this topic says, or None if none handles it.

    Nicks and addresses it looks up in FAS are looked up in *directory*; an error reading
    the directory propagates.
    """
    handled = _handled(with_prefix(raw.topic))
    if handled is None:
        return None
    processor, topic = handled
    msg = _fedmsg_dict(raw, topic)
    with aliases.answering(directory):
        usernames = _ask(processor.usernames, msg, raw)
        packages = _ask(processor.packages, msg, raw)
        if usernames is None and packages is None:
            return None
        return Reading(
            source="fedmsg.meta", usernames=names(usernames), packages=names(packages),
            summary=one_line(_ask(processor.subtitle, msg, raw)),
            link=web_url(_ask(processor.link, msg, raw)),
            icon=web_url(_ask(processor.icon, msg, raw)))


def _fedmsg_dict(raw: RawMessage, topic: str) -> dict[str, Any]:
    """The message as fedmsg.meta expects it, on *topic*; a copy, as some processors edit
    what they get."""
    msg = {"topic": topic, "msg": _copied(raw.body),
           "msg_id": raw.msg_id, "timestamp": raw.timestamp.timestamp()}
    for key in ("i", "username"):
        if key in raw.headers:
            msg[key] = raw.headers[key]
    return msg


def _copied(value: Any) -> Any:
    """A deep copy of decoded JSON, several times faster than ``copy.deepcopy``: its text,
    numbers, booleans and null are immutable and shared; anything else is deep-copied."""
    if isinstance(value, Mapping):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


def _ask(method: Callable[..., Any], msg: dict[str, Any], raw: RawMessage) -> Any:
    """One processor method; None when it fails on a body shape it did not expect."""
    try:
        return method(msg, **CONFIG)
    except Exception as e:  # noqa: BLE001 - third-party code on arbitrary bodies
        log.debug("fedmsg.meta %s failed on %s (%s): %r", method.__name__, raw.msg_id,
                  raw.topic, e)
        return None
