"""The consoles every command prints to, and the one way commands fail."""

from __future__ import annotations

import typer
from rich.console import Console

#: Columns when the output is not a terminal: rich would wrap tables at 80, and logs and pipes
#: are read whole.
PIPE_WIDTH = 160


def make_console(*, stderr: bool = False) -> Console:
    """A console as wide as the terminal, or `PIPE_WIDTH` when writing to a file or a pipe."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=PIPE_WIDTH)


console = make_console()
err_console = make_console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` on stderr as one line and return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
