"""The one error type cxrdb raises for expected failures; the CLI turns it into one red line."""


class CxrdbError(Exception):
    """An expected, user-facing failure (bad arguments, unreadable catalog, locked file...)."""


class CatalogLocked(CxrdbError):
    """Another process holds the catalog open for writing."""


class MissingDependency(CxrdbError):
    """An optional package needed for the requested operation is not installed."""


class Interrupted(BaseException):
    """Ctrl-C, raised by the CLI's SIGINT handler (typer would turn a KeyboardInterrupt into a silent exit 130)."""


def one_line(text: object, limit: int = 300) -> str:
    """A message as one line: whitespace and newlines collapsed, cut to ``limit`` characters."""
    return " ".join(str(text).split())[:limit]


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted


def interrupt_on_sigint() -> None:
    """Make Ctrl-C raise :class:`Interrupted` in this process (the CLI's entry point calls it first thing)."""
    import signal

    signal.signal(signal.SIGINT, _raise_interrupted)
