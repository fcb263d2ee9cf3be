"""What one load-generator run is asked to do: a frozen, validated value built by the CLI.

`LoadSettings` holds no endpoints and no output folder (those are arguments of `run_load`), so
`calcbench run` can reuse one settings value for every phase and change only the protocol.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from calcbench.core.vocabulary import BALANCING_MODES, PROTOCOLS, SERVICES

ARRIVALS: Final = ("uniform", "poisson")
DEFAULT_RATE: Final = 250.0
#: With `--connections` unset, the REST client opens a connection whenever no idle one is free
#: (one per in-flight request), up to this many per target address and worker.
CONNECTION_CAP: Final = 100

Mix = tuple[tuple[str, float], ...]


def uniform_mix() -> Mix:
    return tuple((service, 1.0) for service in SERVICES)


def parse_mix(text: str) -> Mix:
    """`"addition=1,division=2"` -> `(("addition", 1.0), ("division", 2.0))`."""
    pairs: list[tuple[str, float]] = []
    for part in (p.strip() for p in text.split(",")):
        name, sep, weight = part.partition("=")
        try:
            value = float(weight) if sep else math.nan
        except ValueError:
            value = math.nan
        if not name or math.isnan(value):
            raise ValueError(f"bad --mix entry {part!r}: expected service=weight")
        pairs.append((name.strip(), value))
    return tuple(pairs)


@dataclass(frozen=True)
class LoadSettings:
    """One load run. Open loop at `rate` requests/s unless `concurrency` is set (closed loop).

    `connections` (REST) and `channels` (gRPC) are per service, per target address and per
    worker process: each worker owns its connections. `tls`: every call over TLS, verified
    against the stack's CA (the endpoints say where it is); `mtls` (implies `tls`): the client
    presents its certificate too. `realtime`: each worker's loop thread runs SCHED_FIFO
    (`loadgen.wakeups`), for requests that leave on time on a machine the services fill.
    """

    protocol: str = "rest"
    mix: Mix = field(default_factory=uniform_mix)
    seed: int = 1
    div_zero: float = 0.25
    rate: float | None = None
    concurrency: int | None = None
    arrivals: str = "uniform"
    duration: float = 10.0
    warmup: float = 2.0
    timeout: float = 1.0
    workers: int = 1
    channels: int = 1
    connections: int | None = None
    keepalive: bool = True
    balancing: str = "shared"
    tls: bool = False
    mtls: bool = False
    realtime: bool = False

    def __post_init__(self) -> None:
        if self.mtls:
            object.__setattr__(self, "tls", True)
        if self.rate is None and self.concurrency is None:
            object.__setattr__(self, "rate", DEFAULT_RATE)
        object.__setattr__(self, "mix", tuple((s, float(w)) for s, w in self.mix))
        for check in (_check_choices, _check_mix, _check_numbers, _check_loop):
            check(self)

    @property
    def open_loop(self) -> bool:
        return self.concurrency is None

    @property
    def services(self) -> tuple[str, ...]:
        """The services the mix calls (weight > 0): only these need an endpoint."""
        return tuple(service for service, weight in self.mix if weight > 0)

    @property
    def weights(self) -> tuple[float, ...]:
        """Weights of `services`, normalised to sum 1."""
        total = sum(weight for _, weight in self.mix)
        return tuple(weight / total for _, weight in self.mix if weight > 0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["mix"] = dict(self.mix)
        return data


def _check_choices(s: LoadSettings) -> None:
    for name, value, choices in (
        ("protocol", s.protocol, PROTOCOLS),
        ("arrivals", s.arrivals, ARRIVALS),
        ("balancing", s.balancing, BALANCING_MODES),
    ):
        if value not in choices:
            raise ValueError(f"--{name} must be one of {', '.join(choices)}, not {value!r}")


def _check_mix(s: LoadSettings) -> None:
    for service, weight in s.mix:
        if service not in SERVICES:
            raise ValueError(f"--mix: unknown service {service!r}; expected {', '.join(SERVICES)}")
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"--mix: weight of {service} must be a number >= 0")
    if len({service for service, _ in s.mix}) != len(s.mix):
        raise ValueError("--mix: a service is listed twice")
    if not s.services:
        raise ValueError("--mix: at least one service needs a weight > 0")


def _check_numbers(s: LoadSettings) -> None:
    positive = {"duration": s.duration, "timeout": s.timeout}
    if s.rate is not None:
        positive["rate"] = s.rate
    for name, value in positive.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"--{name} must be a number > 0")
    if not (math.isfinite(s.warmup) and s.warmup >= 0):
        raise ValueError("--warmup must be a number >= 0")
    if not 0 <= s.div_zero <= 1:
        raise ValueError("--div-zero must be a fraction between 0 and 1")
    counts: dict[str, int | None] = {"workers": s.workers, "channels": s.channels}
    counts |= {"concurrency": s.concurrency, "connections": s.connections}
    for name, count in counts.items():
        if count is not None and count < 1:
            raise ValueError(f"--{name} must be at least 1")


def _check_loop(s: LoadSettings) -> None:
    if s.rate is not None and s.concurrency is not None:
        raise ValueError("give --rate (open loop) or --concurrency (closed loop), not both")
    if s.concurrency is not None and s.workers > s.concurrency:
        raise ValueError("--workers must not exceed --concurrency (each worker needs a caller)")
