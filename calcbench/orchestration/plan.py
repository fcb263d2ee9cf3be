"""What `calcbench run` does, as data: settings and the ordered list of phases (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from calcbench.core.rundir import phase_name
from calcbench.core.vocabulary import (
    BALANCING_MODES,
    DEFAULT_SERVER_MODELS,
    MAX_REPLICAS,
    PROTOCOLS,
    SERVER_MODELS,
)
from calcbench.orchestration.fault import ErrorRate, KillReplica, SlowReplica
from loadgen.settings import LoadSettings

SCENARIOS: Final = ("default", "balancing")
MODES: Final = BALANCING_MODES


@dataclass(frozen=True)
class RunSettings:
    """One comparison run. `load` is the workload; its protocol and balancing are set per phase.

    `fault`, when set, slows one replica of both stacks for the whole run; `kills` kill and
    restart replicas during each measured phase; `error_rates` make services answer errors.
    `tls_modes` are plaintext (False) and/or TLS (True), measured in the same rounds; TLS
    phases use mTLS when `load.mtls`.
    """

    load: LoadSettings
    out_dir: Path
    rounds: int = 3
    replicas: int = 1
    scenario: str = "default"
    balancing_modes: tuple[str, ...] = ("shared",)
    host: str = "127.0.0.1"
    #: Each stack's server model (`calcbench.core.vocabulary.SERVER_MODELS`).
    server_models: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SERVER_MODELS))
    fault: SlowReplica | None = None
    #: Measure the floor before the rounds (`--no-calibrate` skips it).
    calibrate: bool = True
    tls_modes: tuple[bool, ...] = (False,)
    kills: tuple[KillReplica, ...] = ()
    error_rates: tuple[ErrorRate, ...] = ()

    def __post_init__(self) -> None:
        if not self.tls_modes or len(set(self.tls_modes)) != len(self.tls_modes):
            raise ValueError("tls modes: plaintext and/or TLS, each once")
        for protocol, model in self.server_models.items():
            if model not in SERVER_MODELS.get(protocol, ()):
                raise ValueError(f"unknown {protocol} server model {model!r}")
        if self.rounds < 1:
            raise ValueError("--rounds must be at least 1")
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise ValueError(f"--replicas must be between 1 and {MAX_REPLICAS}")
        if self.scenario not in SCENARIOS:
            raise ValueError(f"--scenario must be one of {', '.join(SCENARIOS)}")
        unknown = set(self.balancing_modes) - set(MODES)
        if unknown or not self.balancing_modes:
            raise ValueError(f"balancing modes must be among {', '.join(MODES)}")
        if len(set(self.balancing_modes)) != len(self.balancing_modes):
            raise ValueError("a balancing mode is listed twice")
        if self.fault is not None:
            self.fault.check_replicas(self.replicas)
        for kill in self.kills:
            kill.check_replicas(self.replicas)
            if kill.seconds >= self.load.duration:
                raise ValueError(
                    f"--fault {kill.describe()}: the kill must fall inside the "
                    f"{self.load.duration:g} s measured phase (see --duration)"
                )


def modes_for(
    scenario: str, balancing: str, fault: SlowReplica | None, given: str | None = None
) -> tuple[str, ...]:
    """The modes a run measures, in order: `given` (comma-separated) when set; else, for the
    balancing scenario, shared and round-robin, plus ewma when a replica is slowed; else the
    load's own `balancing`."""
    if given is not None:
        return tuple(mode.strip() for mode in given.split(","))
    if scenario == "balancing":
        return ("shared", "round-robin", "ewma") if fault else ("shared", "round-robin")
    return (balancing,)


@dataclass(frozen=True)
class Phase:
    """One measured stretch: one protocol, one balancing mode, plaintext or TLS, in one round."""

    round: int
    protocol: str
    balancing: str
    tls: bool = False

    @property
    def name(self) -> str:
        return phase_name(self.round, self.protocol, self.balancing, self.tls)


def plan_phases(settings: RunSettings) -> list[Phase]:
    """Every phase in run order, grouped by balancing mode (the stacks restart between modes).

    Within a mode the protocols alternate which goes first from round to round, so a drift of
    the machine over time (heat, a noisy neighbour) hits both sides alike; with plaintext and
    TLS both measured, each round runs all four, the order reversed every other round.
    """
    phases = []
    for mode in settings.balancing_modes:
        for number in range(1, settings.rounds + 1):
            order = PROTOCOLS if number % 2 else PROTOCOLS[::-1]
            tls_order = settings.tls_modes if number % 2 else settings.tls_modes[::-1]
            phases += [Phase(number, p, mode, tls) for tls in tls_order for p in order]
    return phases
