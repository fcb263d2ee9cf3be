"""The consoles every command prints to, and the one way commands fail."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

# Not a terminal: rich would wrap tables at 80 columns; logs and pipes are read whole.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` on stderr as one line and return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
