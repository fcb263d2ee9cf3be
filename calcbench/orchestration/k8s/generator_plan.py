"""The contract between the generator Job and the program its pods run: environment variables
written by the manifests, read by `calcbench k8s generate` (pure).

Each of the Job's N pods (an Indexed Job: Kubernetes sets JOB_COMPLETION_INDEX) runs its share
of the load: 1/N of the rate (or of the callers, in a closed loop) with its own seed, so that
the N pods together send what one generator would, without sending the same requests twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final, TypeVar

from calcbench.core.vocabulary import SERVICES
from loadgen.settings import LoadSettings

LOAD: Final = "CALCBENCH_LOAD"
GENERATORS: Final = "CALCBENCH_GENERATORS"
START_AT: Final = "CALCBENCH_START_AT"
WAIT_SECONDS: Final = "CALCBENCH_WAIT_SECONDS"
REPLICAS: Final = "CALCBENCH_REPLICAS"
INDEX: Final = "JOB_COMPLETION_INDEX"
NODE: Final = "CALCBENCH_NODE"
#: How long a generator pod waits for every service's pods before it gives up.
DEFAULT_WAIT_SECONDS: Final = 300.0


T = TypeVar("T", int, float)


def endpoint_variable(service: str) -> str:
    return f"{service.upper()}_ENDPOINT"


@dataclass(frozen=True)
class GeneratorPlan:
    """What every pod of the Job is told. `load` is the whole load (its rate is the total);
    `start_at` (Unix time, 0: as soon as ready) lines the pods' schedules up; `replicas` is how
    many pods each service has, which a headless Service must resolve to before the start."""

    load: LoadSettings
    generators: int = 1
    start_at: float = 0.0
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    replicas: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        if self.generators < 1:
            raise ValueError("--generators must be at least 1")
        if self.load.concurrency is not None and self.load.concurrency < self.generators:
            raise ValueError("--concurrency must be at least --generators (a caller per pod)")
        if not (math.isfinite(self.wait_seconds) and self.wait_seconds > 0):
            raise ValueError("the wait for the services must be a number of seconds > 0")

    def share(self, index: int) -> LoadSettings:
        """The load of pod `index`: its part of the rate or callers, and its own seed."""
        if not 0 <= index < self.generators:
            raise ValueError(f"{INDEX}={index}: expected 0 to {self.generators - 1}")
        load = replace(self.load, seed=self.load.seed + index)
        if load.rate is not None:
            return replace(load, rate=load.rate / self.generators)
        assert load.concurrency is not None  # a closed loop
        callers = split(load.concurrency, self.generators)[index]
        return replace(load, concurrency=callers, workers=min(load.workers, callers))

    def to_env(self) -> dict[str, str]:
        env = {
            LOAD: json.dumps(self.load.to_dict(), sort_keys=True),
            GENERATORS: str(self.generators),
            START_AT: f"{self.start_at:.3f}",
            WAIT_SECONDS: f"{self.wait_seconds:g}",
        }
        if self.replicas:
            env[REPLICAS] = ",".join(f"{s}={n}" for s, n in self.replicas.items())
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GeneratorPlan:
        """Raises ValueError naming the variable that is missing or wrong."""
        if LOAD not in environ:
            raise ValueError(f"{LOAD} is not set: this runs in a generator Job")
        try:
            data = json.loads(environ[LOAD])
            if "mix" in data:
                data["mix"] = tuple(data["mix"].items())
            load = LoadSettings(**data)
        except (TypeError, AttributeError, ValueError) as exc:  # JSONDecodeError is one too
            raise ValueError(f"{LOAD} is not a load's settings: {exc}") from exc
        return cls(
            load=load,
            generators=_number(environ, GENERATORS, int, "1"),
            start_at=_number(environ, START_AT, float, "0"),
            wait_seconds=_number(environ, WAIT_SECONDS, float, str(DEFAULT_WAIT_SECONDS)),
            replicas=_parse_replicas(environ.get(REPLICAS, "")) or None,
        )


def _number(environ: Mapping[str, str], name: str, kind: type[T], default: str) -> T:
    try:
        return kind(environ.get(name, default))  # type: ignore[call-arg]
    except ValueError:
        raise ValueError(f"{name}={environ[name]!r} is not a number") from None


def split(total: int, parts: int) -> list[int]:
    """`total` in `parts` whole shares that differ by at most one: split(5, 2) == [3, 2]."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _parse_replicas(text: str) -> dict[str, int]:
    counts = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        service, _, count = part.partition("=")
        if service not in SERVICES or not count.isdigit():
            raise ValueError(f"{REPLICAS}: bad entry {part!r}, expected service=count")
        counts[service] = int(count)
    return counts


def completion_index(environ: Mapping[str, str]) -> int:
    """This pod's index in the Indexed Job (0 outside one)."""
    text = environ.get(INDEX, "0")
    if not text.isdigit():
        raise ValueError(f"{INDEX}={text!r} is not an index")
    return int(text)
