"""Errors a user can fix; the CLI prints them as one sentence, without a traceback."""


class HubsError(Exception):
    """Base of every error that names its culprit and how to fix it."""


class ConfigError(HubsError):
    """A setting, a hub name or a widget configuration is not acceptable."""


class PluginError(HubsError):
    """A widget plugin is missing a piece or cannot be loaded."""


class WidgetError(HubsError):
    """A widget instance failed to produce its data or its HTML."""


class ServiceError(HubsError):
    """A Fedora web service could not be reached or answered nonsense."""


class DatabaseError(HubsError):
    """The database does not exist, does not answer, or holds no hubs."""


class OutputError(HubsError):
    """The output directory cannot take the files a build writes."""
