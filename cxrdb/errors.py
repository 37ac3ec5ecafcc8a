"""The one error type cxrdb raises for expected failures; the CLI turns it into one red line."""


class CxrdbError(Exception):
    """An expected, user-facing failure (bad arguments, unreadable catalog, locked file...)."""


class CatalogLocked(CxrdbError):
    """Another process holds the catalog open for writing."""


class MissingDependency(CxrdbError):
    """An optional package needed for the requested operation is not installed."""


class Interrupted(BaseException):
    """Ctrl-C, raised by the CLI's SIGINT handler (typer would turn a KeyboardInterrupt into a silent exit 130)."""
