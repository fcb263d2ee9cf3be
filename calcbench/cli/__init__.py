"""The `calcbench` command line: parses, calls the library, prints.

Expected failures (a bad flag, a port in use, an unwritable folder) print one line and exit
non-zero; they never show a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

try:  # typer >= 0.20 vendors click; older releases use click itself
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, NoArgsIsHelpError  # type: ignore

from analysis.cli import compare, report
from calcbench.cli.k8s import k8s_app
from calcbench.cli.run_command import run
from calcbench.core.console import console, fail
from calcbench.core.vocabulary import MAX_REPLICAS, Balancing, Protocol
from calcbench.orchestration.ports import DEFAULT_BASE_PORTS
from calcbench.orchestration.serve import serve_until_stopped
from calcbench.orchestration.supervisor import PortTaken, StackError, StackSettings
from loadgen.cli import load

#: What `calcbench[analysis]` adds; without it, every command but the reports works.
ANALYSIS_MODULES = ("pandas", "matplotlib")

app = typer.Typer(
    help="REST over HTTP/1.1 against gRPC over HTTP/2 on twin calculator microservices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """REST over HTTP/1.1 against gRPC over HTTP/2 on twin calculator microservices."""


def _base_port(protocol: str, given: int | None) -> int | None:
    """The documented block by default; `--base-port 0` asks for free ports (None)."""
    if given is None:
        return DEFAULT_BASE_PORTS[protocol]
    return given or None


@app.command()
def serve(
    protocol: Annotated[Protocol, typer.Argument(help="Which stack to start.")],
    replicas: Annotated[
        int, typer.Option(min=1, max=MAX_REPLICAS, help="Replicas per service.")
    ] = 1,
    host: Annotated[str, typer.Option(help="Address every replica binds.")] = "127.0.0.1",
    base_port: Annotated[
        int | None,
        typer.Option(help="First port of the block (default 8000 REST, 9000 gRPC; 0: any free)."),
    ] = None,
    balancing: Annotated[
        Balancing, typer.Option(help="How percentage reaches its downstreams (not ewma).")
    ] = Balancing.SHARED,
    endpoints_file: Annotated[
        Path | None, typer.Option(help="Write the endpoints JSON here once healthy.")
    ] = None,
    tls: Annotated[
        bool, typer.Option("--tls", help="Serve TLS on every hop, with a throwaway CA.")
    ] = False,
    mtls: Annotated[
        bool, typer.Option("--mtls", help="TLS, and every hop requires client certificates.")
    ] = False,
) -> None:
    """Start the five services of one stack and run until Ctrl-C or SIGTERM."""
    if balancing is Balancing.EWMA:
        raise fail(
            "--balancing ewma is the load generator's (calcbench load); percentage "
            "balances shared or round-robin",
            code=2,
        )
    try:
        settings = StackSettings(
            protocol=protocol.value,
            replicas=replicas,
            host=host,
            base_port=_base_port(protocol.value, base_port),
            downstream_balancing=balancing,
        )
        serve_until_stopped(settings, endpoints_file, console.print, tls=tls or mtls, mtls=mtls)
    except PortTaken as exc:
        raise fail(str(exc), code=2) from exc
    except (ValueError, StackError, OSError) as exc:
        raise fail(str(exc)) from exc
    console.print("stopped: every replica has exited")


app.command("run")(run)
app.command("load")(load)
app.command("report")(report)
app.command("compare")(compare)
app.add_typer(k8s_app, name="k8s")


def main() -> None:
    """Console-script entry point: one-line usage errors instead of click's boxes."""
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        console.print(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except ClickException as exc:
        sys.exit(fail(exc.format_message(), exc.exit_code).exit_code)
    except typer.Abort:
        sys.exit(130)
    except ModuleNotFoundError as exc:
        if exc.name not in ANALYSIS_MODULES:
            raise
        # The service image installs calcbench without its analysis extra.
        sys.exit(fail(f"{exc.name} is not installed: pip install 'calcbench[analysis]'").exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
