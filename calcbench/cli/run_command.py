"""`calcbench run`: the whole comparison in one command (the README's first command)."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from calcbench.cli.display import ConsoleDisplay
from calcbench.core.console import console, fail
from calcbench.core.vocabulary import (
    DEFAULT_SERVER_MODELS,
    MAX_REPLICAS,
    GrpcServerModel,
    Protocol,
    RestServerModel,
)
from calcbench.orchestration.fault import parse_faults
from calcbench.orchestration.interrupt import latch
from calcbench.orchestration.plan import RunSettings, modes_for
from calcbench.orchestration.run import RunOutcome, run_comparison
from calcbench.orchestration.supervisor import PortTaken, StackError
from loadgen.options import load_options, settings_from_options

#: The defaults of --rest-server-model and --grpc-server-model.
_REST_MODEL: Final = RestServerModel(DEFAULT_SERVER_MODELS[Protocol.REST])
_GRPC_MODEL: Final = GrpcServerModel(DEFAULT_SERVER_MODELS[Protocol.GRPC])


class Scenario(StrEnum):
    default = "default"
    balancing = "balancing"


class TlsChoice(StrEnum):
    off = "off"
    on = "on"
    both = "both"


#: Which phases are over TLS: plaintext (False) and/or TLS (True), in run order.
TLS_MODES = {TlsChoice.off: (False,), TlsChoice.on: (True,), TlsChoice.both: (False, True)}


def _default_out() -> Path:
    return Path("results") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


@load_options(exclude=("protocol", "endpoints_file", "endpoint", "out", "tls_dir"))
def run(
    rounds: Annotated[
        int, typer.Option(min=1, help="Rounds; each is one REST and one gRPC phase.")
    ] = 3,
    replicas: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_REPLICAS,
            help="Replicas per service (default 1; 2 with --scenario balancing).",
        ),
    ] = None,
    scenario: Annotated[
        Scenario,
        typer.Option(
            help="balancing: shared vs round-robin (and ewma with --fault), all in one run "
            "(the post's L4 test)."
        ),
    ] = Scenario.default,
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default results/<UTC timestamp>).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address the services bind.")] = "127.0.0.1",
    rest_server_model: Annotated[
        RestServerModel,
        typer.Option(help="REST server model: lean (a bare ASGI endpoint) or fastapi."),
    ] = _REST_MODEL,
    grpc_server_model: Annotated[
        GrpcServerModel,
        typer.Option(help="gRPC server model: sync (a thread pool) or aio (grpc.aio)."),
    ] = _GRPC_MODEL,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="slow-replica=SERVICE:INDEX:DELAY: that replica (e.g. addition:1) of both "
            "stacks waits DELAY seconds before each answer, for the whole run. "
            "kill-replica=SERVICE:INDEX@SECONDS: SECONDS into each measured phase the replica "
            "is killed (SIGKILL) and restarted on its ports. error-rate=SERVICE:P: the service "
            "answers a fraction P of its calls with a server error. Repeatable."
        ),
    ] = None,
    balancing_modes: Annotated[
        str | None,
        typer.Option(
            help="Modes to measure in turn, e.g. round-robin,ewma (default: --balancing; "
            "with --scenario balancing shared,round-robin, plus ewma with --fault). "
            "In ewma mode only the client balances by latency: percentage's own "
            "downstream calls go round robin."
        ),
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate/--no-calibrate",
            help="Before the rounds, measure the floor per protocol: one call in flight "
            "against addition with calcbench's client and with wrk / h2load when installed.",
        ),
    ] = True,
    tls: Annotated[
        TlsChoice,
        typer.Option(
            help="off: plaintext; on: TLS on every hop (throwaway CA); both: plaintext and TLS "
            "in the same interleaved rounds, with TLS/plaintext ratios in the report. "
            "--mtls makes the TLS phases mTLS."
        ),
    ] = TlsChoice.off,
    **options: Any,
) -> None:
    """Start both stacks, run the same seeded workload against each in alternating rounds,
    and write CSVs, charts and a report into one run directory."""
    try:
        # The post's shape: one connection per service per protocol, unless asked otherwise.
        pooled = {} if options.get("connections") is not None else {"connections": 1}
        load = settings_from_options(options, protocol="rest", **pooled)
        faults = parse_faults(fault or [])
        modes = modes_for(scenario.value, load.balancing, faults.slow, balancing_modes)
        settings = RunSettings(
            load=load,
            out_dir=out or _default_out(),
            rounds=rounds,
            replicas=replicas or (2 if scenario is Scenario.balancing else 1),
            scenario=scenario.value,
            balancing_modes=modes,
            host=host,
            server_models={"rest": rest_server_model.value, "grpc": grpc_server_model.value},
            fault=faults.slow,
            calibrate=calibrate,
            tls_modes=_tls_modes(tls, load.mtls),
            kills=faults.kills,
            error_rates=faults.error_rates,
        )
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    # One interrupt path: SIGTERM is handled like Ctrl-C (keep what was measured), and the
    # exception names the signal so that the exit status does (143, not 130).
    previous = {s: signal.signal(s, latch) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        outcome = run_comparison(settings, ConsoleDisplay(console))
        _report_unless_interrupted(outcome)
    except PortTaken as exc:
        raise fail(str(exc), code=2) from exc
    except (StackError, OSError) as exc:
        raise fail(str(exc)) from exc
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if outcome.partial:
        raise typer.Exit(128 + (outcome.signum or signal.SIGINT))


def _report_unless_interrupted(outcome: RunOutcome) -> None:
    """`_report`; a Ctrl-C or SIGTERM meanwhile leaves the measurements and what was written."""
    try:
        _report(outcome)
    except KeyboardInterrupt as exc:
        outcome.partial = True
        outcome.signum = outcome.signum or getattr(exc, "signum", signal.SIGINT)
        console.print(f"interrupted while reporting; measurements kept in {outcome.out_dir}")


def _tls_modes(choice: TlsChoice, mtls: bool) -> tuple[bool, ...]:
    """`--mtls` alone means every phase over mTLS, as `--tls on --mtls`."""
    return TLS_MODES[TlsChoice.on] if mtls and choice is TlsChoice.off else TLS_MODES[choice]


def _report(outcome: RunOutcome) -> None:
    """Build the reports from what completed and print the tables."""
    from analysis import build_report
    from analysis.console import print_run_summary

    if not outcome.completed:
        console.print(f"no phase completed; raw measurements kept in {outcome.out_dir}")
        return
    build_report(outcome.out_dir)
    print_run_summary(outcome.out_dir, console)
    state = "partial run (interrupted)" if outcome.partial else "run complete"
    console.print(f"[bold]{state}[/bold]: report in {outcome.out_dir / 'report.html'}")
