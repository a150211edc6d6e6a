"""What a widget plugin declares: arguments, data, template, chrome and invalidation hints."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hubs.bodies import BodyReader
from hubs.errors import ConfigError
from hubs.events import Event
from hubs.validators import Validator

if TYPE_CHECKING:
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


DataFunction = Callable[[DataContext], dict[str, Any]]
Check = Callable[[Event, "WidgetInstance"], bool]


@dataclass(frozen=True)
class Widget:
    name: str
    template: str
    data: DataFunction
    should_invalidate: Check
    hint: Hint
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

MEMBERSHIP_TOPICS = frozenset({
    "fas.group.member.sponsor", "fas.group.member.remove", "hubs.membership.update",
})
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
