"""`--fault`: what goes wrong in both local stacks during a run, alike for both (pure).

* `slow-replica=SERVICE:INDEX:DELAY`: the replica runs with `--delay DELAY` (seconds before each
  calculator answer, counted in its own latency metrics), in both stacks and every balancing
  mode of the run, so round robin and latency-aware balancing meet the same slow replica;
* `kill-replica=SERVICE:INDEX@SECONDS`: SECONDS into each measured phase the supervisor kills the
  replica (SIGKILL) and starts it again on the same ports, as Kubernetes would;
* `error-rate=SERVICE:P`: every replica of the service runs with `--error-rate P`.

`--fault` may be given several times (`parse_faults`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from calcbench.core.vocabulary import SERVICES, FaultKind

KIND: Final = FaultKind.SLOW_REPLICA
USAGE: Final = f"{KIND}=SERVICE:INDEX:DELAY (e.g. {KIND}=addition:1:0.02)"
KILL: Final = FaultKind.KILL_REPLICA
KILL_USAGE: Final = f"{KILL}=SERVICE:INDEX@SECONDS (e.g. {KILL}=addition:0@1.5)"
ERRORS: Final = FaultKind.ERROR_RATE
ERRORS_USAGE: Final = f"{ERRORS}=SERVICE:P (e.g. {ERRORS}=division:0.05)"
ANY_USAGE: Final = f"{USAGE}, {KILL_USAGE} or {ERRORS_USAGE}"
#: Beyond this a replica is not slow but dead: every call would hit the default 1 s timeout.
MAX_DELAY: Final = 10.0


@dataclass(frozen=True)
class SlowReplica:
    """Replica `index` of `service` waits `delay` seconds before each answer."""

    service: str
    index: int
    delay: float

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"--fault: unknown service {self.service!r}; expected {USAGE}")
        if self.index < 0:
            raise ValueError(f"--fault: replica index must be >= 0, not {self.index}")
        if not (math.isfinite(self.delay) and 0 < self.delay <= MAX_DELAY):
            raise ValueError(f"--fault: delay must be seconds in (0, {MAX_DELAY:g}]")

    @property
    def replica_id(self) -> str:
        """The replica's id as `calcbench serve` names it (`addition-1`)."""
        return f"{self.service}-{self.index}"

    def describe(self) -> str:
        """The flag's value again (`slow-replica=addition:1:0.02`), for run.json."""
        return f"{KIND}={self.service}:{self.index}:{self.delay:g}"

    def check_replicas(self, replicas: int) -> None:
        """ValueError unless the stack has the replica (`replicas` per service)."""
        if self.index >= replicas:
            raise ValueError(
                f"--fault: {self.replica_id} does not exist with {replicas} replica(s) per "
                f"service (indices 0-{replicas - 1}; see --replicas)"
            )


def _check_service(service: str, usage: str) -> None:
    if service not in SERVICES:
        raise ValueError(f"--fault: unknown service {service!r}; expected {usage}")


def _check_index(index: int) -> None:
    if index < 0:
        raise ValueError(f"--fault: replica index must be >= 0, not {index}")


@dataclass(frozen=True)
class KillReplica:
    """Replica `index` of `service` is killed `seconds` into each measured phase, and restarted."""

    service: str
    index: int
    seconds: float

    def __post_init__(self) -> None:
        _check_service(self.service, KILL_USAGE)
        _check_index(self.index)
        if not (math.isfinite(self.seconds) and self.seconds >= 0):
            raise ValueError("--fault: the kill time must be seconds >= 0 into the phase")

    @property
    def replica_id(self) -> str:
        return f"{self.service}-{self.index}"

    def describe(self) -> str:
        return f"{KILL}={self.service}:{self.index}@{self.seconds:g}"

    def check_replicas(self, replicas: int) -> None:
        SlowReplica(self.service, self.index, 1.0).check_replicas(replicas)


@dataclass(frozen=True)
class ErrorRate:
    """Every replica of `service` answers a fraction `rate` of its calls with a server error."""

    service: str
    rate: float

    def __post_init__(self) -> None:
        _check_service(self.service, ERRORS_USAGE)
        if not (math.isfinite(self.rate) and 0 < self.rate <= 1):
            raise ValueError("--fault: the error rate must be a fraction in (0, 1]")

    def describe(self) -> str:
        return f"{ERRORS}={self.service}:{self.rate:g}"


Fault = SlowReplica | KillReplica | ErrorRate


@dataclass(frozen=True)
class Faults:
    """Every `--fault` of a run: at most one slow replica, one error rate per service."""

    slow: SlowReplica | None = None
    kills: tuple[KillReplica, ...] = ()
    error_rates: tuple[ErrorRate, ...] = ()

    def __post_init__(self) -> None:
        services = [e.service for e in self.error_rates]
        if len(set(services)) != len(services):
            raise ValueError("--fault: one error-rate per service")

    def all(self) -> list[Fault]:
        return [*([self.slow] if self.slow else []), *self.kills, *self.error_rates]


def parse_faults(texts: list[str]) -> Faults:
    """Every `--fault` value, parsed; ValueError (one line) for a bad one or a bad mix."""
    faults = [parse_any_fault(text) for text in texts]
    slow = [f for f in faults if isinstance(f, SlowReplica)]
    if len(slow) > 1:
        raise ValueError("--fault: one slow-replica per run")
    return Faults(
        slow=slow[0] if slow else None,
        kills=tuple(f for f in faults if isinstance(f, KillReplica)),
        error_rates=tuple(f for f in faults if isinstance(f, ErrorRate)),
    )


def parse_any_fault(text: str) -> Fault:
    """One `--fault` value of any kind; ValueError (one line, naming the forms) otherwise."""
    kind = text.strip().partition("=")[0].strip()
    if kind == KILL:
        return _parse_kill(text)
    if kind == ERRORS:
        return _parse_error_rate(text)
    return parse_fault(text)


def _parse_kill(text: str) -> KillReplica:
    spec = text.strip().partition("=")[2]
    where, at, when = spec.partition("@")
    service, colon, index = where.partition(":")
    if not (at and colon):
        raise ValueError(f"bad --fault {text!r}: expected {KILL_USAGE}")
    try:
        number, seconds = int(index), float(when)
    except ValueError as exc:
        raise ValueError(f"bad --fault {text!r}: expected {KILL_USAGE}") from exc
    return KillReplica(service.strip(), number, seconds)


def _parse_error_rate(text: str) -> ErrorRate:
    service, colon, rate = text.strip().partition("=")[2].partition(":")
    if not colon:
        raise ValueError(f"bad --fault {text!r}: expected {ERRORS_USAGE}")
    try:
        fraction = float(rate)
    except ValueError as exc:
        raise ValueError(f"bad --fault {text!r}: expected {ERRORS_USAGE}") from exc
    return ErrorRate(service.strip(), fraction)


def parse_fault(text: str) -> SlowReplica:
    """`slow-replica=addition:1:0.02` -> SlowReplica("addition", 1, 0.02); ValueError (one
    line, naming the expected form) otherwise."""
    kind, sep, spec = text.strip().partition("=")
    if kind.strip() != KIND or not sep:
        raise ValueError(f"bad --fault {text!r}: expected {ANY_USAGE}")
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) != 3:
        raise ValueError(f"bad --fault {text!r}: expected {USAGE}")
    service, index, delay = parts
    try:
        number, seconds = int(index), float(delay)
    except ValueError as exc:
        raise ValueError(f"bad --fault {text!r}: expected {USAGE}") from exc
    return SlowReplica(service, number, seconds)
