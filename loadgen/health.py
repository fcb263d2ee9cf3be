"""Was the generator, not the system under test, the bottleneck? (pure)

The rule, applied to every run and written to run.json as `generator.bound`:

* open loop: the schedule lag p99 (how late requests left against `t0 + i/R`) is above
  `LAG_P99_BOUND_MS`. A healthy generator shows a lag p50 under 0.1 ms and a p99 under 1 ms
  (`loadgen.eventloop`; benchmarks/pacing_lag.py), more when its loop is busy with a costly
  client or its cores with the services; beyond 5 ms the CO-corrected latencies mostly
  measure the generator's own queue.
* any loop: a worker process used more than `CPU_BOUND_FRACTION` of one core over the measured
  window. A Python event loop is single-threaded: at ~90% it is saturated, and a closed loop's
  RPS is then the generator's ceiling, not the server's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from loadgen.percentiles import percentile_ms
from loadgen.stats import Histogram

LAG_P99_BOUND_MS: Final = 5.0
CPU_BOUND_FRACTION: Final = 0.9


@dataclass(frozen=True)
class WorkerUsage:
    """CPU and wall-clock seconds of one worker over the measured window."""

    cpu_seconds: float
    wall_seconds: float

    @property
    def utilisation(self) -> float:
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


@dataclass(frozen=True)
class GeneratorHealth:
    lag_ms: dict[str, float | None]
    cpu_seconds: float
    cpu_us_per_request: float | None
    max_utilisation: float
    bound: bool
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "lag_ms": self.lag_ms,
            "cpu_seconds": round(self.cpu_seconds, 4),
            "cpu_us_per_request": self.cpu_us_per_request,
            "max_worker_cpu_utilisation": round(self.max_utilisation, 3),
            "bound": self.bound,
            "warnings": self.warnings,
            "rule": {"lag_p99_ms_above": LAG_P99_BOUND_MS, "worker_cpu_above": CPU_BOUND_FRACTION},
        }


def lag_summary(lag: Histogram) -> dict[str, float | None]:
    maximum = lag.get_max_value() / 1000 if lag.get_total_count() else None
    return {"p50": percentile_ms(lag, 50), "p99": percentile_ms(lag, 99), "max": maximum}


def assess(
    open_loop: bool, lag: Histogram, usage: Sequence[WorkerUsage], requests: int
) -> GeneratorHealth:
    """Generator health of a run whose measured window saw `requests` requests."""
    lag_ms: dict[str, float | None] = (
        lag_summary(lag) if open_loop else {"p50": None, "p99": None, "max": None}
    )
    cpu = sum(u.cpu_seconds for u in usage)
    busiest = max((u.utilisation for u in usage), default=0.0)
    warnings: list[str] = []
    p99 = lag_ms["p99"]
    if p99 is not None and p99 > LAG_P99_BOUND_MS:
        warnings.append(
            f"generator-bound: requests left {p99:.1f} ms late at p99 (bound "
            f"{LAG_P99_BOUND_MS:g} ms); latencies include the generator's own delay"
        )
    if busiest > CPU_BOUND_FRACTION:
        warnings.append(
            f"generator-bound: a worker used {busiest:.0%} of a CPU core (bound "
            f"{CPU_BOUND_FRACTION:.0%}); add --workers or lower the load"
        )
    per_request = round(cpu * 1e6 / requests, 2) if requests else None
    return GeneratorHealth(lag_ms, cpu, per_request, busiest, bool(warnings), warnings)
