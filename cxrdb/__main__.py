"""``cxrdb`` / ``python -m cxrdb``: install the Ctrl-C handler first, then load the CLI (a Ctrl-C while the
heavy imports load is an interruption like any other, not a traceback)."""

from __future__ import annotations

import sys

from .errors import Interrupted, interrupt_on_sigint


def main() -> None:
    """The console entry point."""
    interrupt_on_sigint()
    try:
        from .cli import main as cli_main
    except Interrupted:
        sys.stderr.write("error: interrupted\n")
        raise SystemExit(130) from None
    cli_main()


if __name__ == "__main__":
    main()
