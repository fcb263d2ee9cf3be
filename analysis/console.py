"""The run summary on a terminal: the same tables as the report, printed with rich."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, JustifyMethod
from rich.table import Table as RichTable

from analysis import tables
from analysis.compute import analyse_dir
from analysis.findings import error_bars, server_models, warnings
from analysis.style import PROTOCOL_COLORS
from analysis.tables import Table
from analysis.tls import tls_ratios, tls_table

_TITLE_COLORS = {"REST": PROTOCOL_COLORS["rest"], "gRPC": PROTOCOL_COLORS["grpc"]}


def _widths(table: Table, available: int) -> list[int]:
    """Natural column widths; when too wide, long headers of number columns fold instead."""
    values = [max((len(row[i]) for row in table.rows), default=0) for i in range(len(table.header))]
    natural = [max(len(h), v) for h, v in zip(table.header, values, strict=True)]
    if sum(natural) + 2 * (len(natural) - 1) <= available:
        return natural
    return [
        n if i < table.text_columns else max(v, 3)
        for i, (n, v) in enumerate(zip(natural, values, strict=True))
    ]


def _rich(table: Table, available: int) -> RichTable:
    colour = next((c for name, c in _TITLE_COLORS.items() if table.title.startswith(name)), None)
    # Columns apart by spaces, as `linkerd viz stat` prints them.
    out = RichTable(
        title=table.title,
        title_style=f"bold {colour}" if colour else "bold",
        title_justify="left",
        header_style="bold underline",
        box=None,
        padding=(0, 1),
        pad_edge=False,
    )
    for i, (name, width) in enumerate(zip(table.header, _widths(table, available), strict=True)):
        justify: JustifyMethod = "left" if i < table.text_columns else "right"
        out.add_column(name, justify=justify, overflow="fold", width=width)
    for row in table.rows:
        out.add_row(*row)
    return out


def print_run_summary(run_dir: Path, console: Console) -> None:
    """Print the linkerd-style tables (REST, gRPC), the client summary with ratios, the
    per-replica tables of multi-replica runs, then warnings. Raises RunDirError like load_run.
    """
    a = analyse_dir(run_dir)
    if not a.breakdown.empty:
        console.print(_rich(tables.breakdown_table(a), console.width))
        console.print()
    for table in [*tables.linkerd_tables(a), *tables.client_tables(a)]:
        console.print(_rich(table, console.width))
        console.print()
    if a.multi_replica:
        console.print(_rich(tables.balancing_table(a), console.width))
        console.print()
        for table in tables.replica_tables(a):
            console.print(_rich(table, console.width))
            console.print()
    ratios = tls_ratios(a.run)
    if not ratios.empty:
        console.print(_rich(tls_table(ratios), console.width))
        console.print()
    found = warnings(a)
    if a.run.partial:
        console.print("[bold yellow]PARTIAL RUN:[/] figures from completed phases only.")
    for line in found:
        console.print(f"[yellow]warning:[/] {line}", highlight=False, markup=True)
    if not found:
        console.print("No warnings.")
    console.print(server_models(a), highlight=False)
    console.print(error_bars(a), highlight=False)
