"""Every `calcbench load` flag, declared once and attachable to any typer command.

`calcbench run` accepts the same flags without repeating them::

    @app.command()
    @load_options(exclude=("protocol", "endpoints_file", "endpoint", "out"))
    def run(rounds: int = 3, **options: Any) -> None:
        settings = settings_from_options(options, protocol="rest")

The defaults repeat `LoadSettings`'s (a test checks that they agree).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Collection, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

import typer

from calcbench.core.vocabulary import Balancing, Protocol
from loadgen.settings import CONNECTION_CAP, LoadSettings, parse_mix
from loadgen.wakeups import realtime_permitted

F = TypeVar("F", bound=Callable[..., Any])
_SETTING_FIELDS: Final = {f.name for f in dataclasses.fields(LoadSettings)}


class ArrivalsChoice(StrEnum):
    uniform = "uniform"
    poisson = "poisson"


def _template(
    *,
    protocol: Annotated[Protocol, typer.Option(help="Stack to load: rest or grpc.")],
    endpoints_file: Annotated[
        Path | None, typer.Option(help="Endpoints JSON written by `calcbench serve`.")
    ] = None,
    endpoint: Annotated[
        list[str] | None,
        typer.Option(
            help="SERVICE=host:port[,host:port...] (repeatable); else ADDITION_ENDPOINT..."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run directory to write (default results/load-<UTC time>).")
    ] = None,
    mix: Annotated[
        str | None,
        typer.Option(
            help="Operation weights, e.g. addition=1,division=2 (default: all five, uniform)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of operations, operands and arrivals.")] = 1,
    div_zero: Annotated[float, typer.Option(help="Fraction of divisions sent with op2 = 0.")] = (
        0.25
    ),
    rate: Annotated[
        float | None, typer.Option(help="Open loop: requests/s in total (default 250).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Closed loop: callers, each sending when its call returns.")
    ] = None,
    arrivals: Annotated[
        ArrivalsChoice, typer.Option(help="Open-loop spacing of the requests.")
    ] = ArrivalsChoice.uniform,
    duration: Annotated[float, typer.Option(help="Measured seconds.")] = 10.0,
    warmup: Annotated[
        float, typer.Option(help="Seconds before measuring, counted apart (0 allowed).")
    ] = 2.0,
    timeout: Annotated[
        float, typer.Option(help="Per-call timeout in seconds (a deadline on gRPC).")
    ] = 1.0,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the load.")] = 1,
    channels: Annotated[
        int, typer.Option(help="gRPC: channels (TCP connections) per service address and worker.")
    ] = 1,
    connections: Annotated[
        int | None,
        typer.Option(
            help="REST: keep-alive pool per service address and worker "
            f"(default: as needed, up to {CONNECTION_CAP})."
        ),
    ] = None,
    no_keepalive: Annotated[
        bool, typer.Option("--no-keepalive", help="REST: a new TCP connection per request.")
    ] = False,
    balancing: Annotated[
        Balancing,
        typer.Option(
            help="shared: each service's address; round-robin: per request over replicas; "
            "ewma: per request, to the replica with the lower peak-EWMA latency x in-flight "
            "of two drawn at random (Linkerd's balancer; 1 s decay)."
        ),
    ] = Balancing.SHARED,
    tls: Annotated[
        bool, typer.Option("--tls", help="Call over TLS, verified against the stack's CA.")
    ] = False,
    mtls: Annotated[
        bool, typer.Option("--mtls", help="TLS, presenting the client certificate (mTLS).")
    ] = False,
    realtime: Annotated[
        bool,
        typer.Option(
            "--realtime",
            help="Run each worker's event loop thread real-time (SCHED_FIFO), so requests leave "
            "on time beside busy services; it takes a core from them whenever it wakes. Needs "
            "root or CAP_SYS_NICE.",
        ),
    ] = False,
    tls_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the stack's CA and client certificate (default: where the "
            "endpoints file's tls.ca is)."
        ),
    ] = None,
) -> None:
    """Only its signature is used: the load options, declared once."""


OPTIONS: Final = tuple(inspect.signature(_template, eval_str=True).parameters.values())
_NAMES: Final = {option.name for option in OPTIONS}


def load_options(exclude: Collection[str] = ()) -> Callable[[F], F]:
    """Add every load option not in `exclude` (parameter names) to a command's signature.

    The command receives them as keyword arguments (`**options`); typer reads `__signature__`.
    """
    unknown = set(exclude) - _NAMES
    if unknown:
        raise ValueError(f"load_options: unknown option(s) {sorted(unknown)}")

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
        taken = {p.name for p in own}
        added = [o for o in OPTIONS if o.name not in exclude and o.name not in taken]
        command.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        return command

    return decorate


def settings_from_options(values: Mapping[str, Any], **overrides: Any) -> LoadSettings:
    """`LoadSettings` from a command's option values; `overrides` (settings field names, e.g.
    `protocol="grpc"`) win. Raises ValueError with a one-line message."""
    data = {**values, **overrides}
    settings: dict[str, Any] = {}
    for name, value in data.items():
        if name in _SETTING_FIELDS and value is not None:
            settings[name] = value.value if isinstance(value, StrEnum) else value
    if isinstance(settings.get("mix"), str):
        settings["mix"] = parse_mix(settings["mix"])
    if data.get("no_keepalive") and "keepalive" not in overrides:
        settings["keepalive"] = False
    if settings.get("realtime") and not realtime_permitted():
        raise ValueError("--realtime needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO above 0")
    return LoadSettings(**settings)
