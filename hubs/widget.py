"""What a widget plugin declares: arguments, data, template, chrome and invalidation hints."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from hubs.bodies import BodyReader
from hubs.errors import ConfigError
from hubs.events import Event
from hubs.validators import Validator

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from hubs.models import Hub, WidgetInstance
    from hubs.services import Services

REQUIRED = object()
"""Default of an argument that every instance must set."""


@dataclass(frozen=True)
class Argument:
    name: str
    default: Any
    validator: Validator
    help: str


@dataclass(frozen=True)
class Panel:
    """Chrome: the widget is drawn in a titled panel (a ``title`` argument overrides it)."""

    title: str


@dataclass(frozen=True)
class Hint:
    """A cheap pre-filter: only messages matching one of these reach ``should_invalidate``."""

    topics: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    usernames: Callable[[WidgetInstance], Iterable[str]] | None = None
    groups: Callable[[WidgetInstance], Iterable[str]] | None = None


@dataclass(frozen=True)
class DataContext:
    """Everything a data function may use; nothing is read at import time."""

    session: Session
    instance: WidgetInstance
    config: Mapping[str, Any]
    now: datetime
    services: Services

    @property
    def hub(self) -> Hub:
        return self.instance.hub


@dataclass(frozen=True)
class ConfiguredInstance:
    """One instance in a batch, with its validated configuration."""

    instance: WidgetInstance
    config: Mapping[str, Any]

    @property
    def id(self) -> int:
        return self.instance.id

    @property
    def hub(self) -> Hub:
        return self.instance.hub


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class BulkContext:
    """What a batch loader may use for a whole chunk of instances (a build chunk, a watch
    batch); rows looked up through it are shared by every loader of that chunk."""

    session: Session
    now: datetime
    services: Services
    _found: dict[tuple[str, Hashable], Any] = field(default_factory=dict, repr=False)

    @property
    def connection(self) -> Connection:
        """For Core statements: the ORM's execute path costs more than a small query."""
        return self.session.connection()

    def lookup(self, kind: str, keys: Iterable[K],
               load: Callable[[Connection, list[K]], Mapping[K, V]]) -> dict[K, V]:
        """The rows of *keys* that exist, *load* asked once for those no loader of this chunk
        asked for yet: the about and avatar widgets of one hub read the same user."""
        wanted = list(dict.fromkeys(keys))
        missing = [key for key in wanted if (kind, key) not in self._found]
        if missing:
            loaded = load(self.connection, missing)
            for key in missing:
                self._found[kind, key] = loaded.get(key)
        return {key: self._found[kind, key] for key in wanted
                if self._found[kind, key] is not None}


DataFunction = Callable[[DataContext], dict[str, Any]]
BatchLoader = Callable[[BulkContext, Sequence[ConfiguredInstance]], Mapping[int, dict[str, Any]]]
"""Each instance's data by instance id, for many instances in a constant number of queries."""
Check = Callable[[Event, "WidgetInstance"], bool]


@dataclass(frozen=True, kw_only=True)
class Widget:
    name: str
    template: str
    should_invalidate: Check
    hint: Hint
    data: DataFunction | None = None
    """The simple form: one instance's data."""
    load: BatchLoader | None = None
    """The batch form, for widgets on every hub, used instead of *data*: the data of many
    instances at once. The renderer calls it once per chunk, and again with each instance
    alone if it fails, so one bad instance fails alone."""
    arguments: tuple[Argument, ...] = ()
    chrome: Panel | None = None
    description: str = ""
    daily: bool = False
    """The data function reads the data clock (its day, through ``hubs.clock.today``): the
    watcher re-renders every instance when the day turns, not only those a message touches."""
    reads: Mapping[str, BodyReader] = field(default_factory=dict)
    """Per topic, the reader of the bodies this widget uses (see ``hubs.bodies``): a message
    on that topic that it refuses is quarantined at the door instead of stored."""
    argument_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "argument_names", frozenset(a.name for a in self.arguments))

    @property
    def module(self) -> str:
        """The module that loads the widget's data, where its code lives."""
        loader = self.load or self.data
        return str(getattr(loader, "__module__", ""))

    def validate_config(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Apply defaults and validators; refuse unknown or invalid arguments, naming them."""
        culprit = f"widget {where} ({self.name})" if where else f"widget {self.name}"
        unknown = sorted(set(raw) - self.argument_names)
        if unknown:
            valid = ", ".join(sorted(self.argument_names)) or "none"
            raise ConfigError(
                f"{culprit}: unknown argument(s) {', '.join(unknown)}; valid arguments: {valid}"
            )
        config: dict[str, Any] = {}
        for argument in self.arguments:
            if argument.name not in raw:
                if argument.default is REQUIRED:
                    raise ConfigError(
                        f"{culprit}: argument {argument.name} is required ({argument.help})"
                    )
                config[argument.name] = argument.default
                continue
            try:
                config[argument.name] = argument.validator(raw[argument.name])
            except ValueError as e:
                raise ConfigError(f"{culprit}: argument {argument.name} {e}") from e
        return config

    def title(self, config: Mapping[str, Any]) -> str:
        if self.chrome is None:
            return ""
        return str(config.get("title") or self.chrome.title)


CONFIG_TOPICS = frozenset({"hubs.hub.update", "hubs.widget.update"})
"""Published when a hub or one of its widgets is reconfigured; body names the hub."""

GROUP_JOINED = frozenset({"fas.group.member.sponsor", "fas.group.member.add"})
"""Published by Noggin when someone joins a group; `hubs.memberships` applies them."""

GROUP_LEFT = frozenset({"fas.group.member.remove"})
"""Published by Noggin when someone leaves a group; `hubs.memberships` applies them."""

MEMBERSHIP_TOPICS = GROUP_JOINED | GROUP_LEFT | {"hubs.membership.update"}
"""Published when someone joins or leaves a group (Noggin) or follows a hub (hubs)."""


def hub_reconfigured(event: Event, instance: WidgetInstance) -> bool:
    """The check of widgets that show only their own configuration."""
    return event.topic in CONFIG_TOPICS and event.body.get("hub") == instance.hub.name


def membership_changed(event: Event, instance: WidgetInstance) -> bool:
    """The check of widgets that show who belongs to or follows a hub."""
    if hub_reconfigured(event, instance):
        return True
    return event.topic in MEMBERSHIP_TOPICS and (
        instance.hub.name in event.groups or event.body.get("hub") == instance.hub.name
        or (instance.hub.user_hub and instance.hub.name in event.usernames))
