"""The run directory's format, defined once: file names, CSV columns, phase names, percentiles.

Two directories share it. A *phase directory* is what one load generator writes (`calcbench
load --out`, or one phase of `calcbench run`, which adds `server.json`). A *run directory* holds
`run.json`, its phase directories under `phases/`, and what `calcbench report` writes from them.
The load generator, the orchestration and the Kubernetes bench write these files, `analysis`
reads them; none of them spells a name or a column of its own.

Standard library only, so that any tool can read the format without the harness's packages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from calcbench.core.vocabulary import PROTOCOLS

# A phase directory.
RUN_JSON: Final = "run.json"
SUMMARY: Final = "summary.csv"
SUMMARY_ACTUAL: Final = "summary_actual.csv"
ERRORS: Final = "errors.csv"
TIMESERIES: Final = "timeseries.csv"
REPLICAS: Final = "replicas.csv"
CONNECTIONS: Final = "connections.csv"
HISTOGRAMS: Final = "histograms.json"
#: Written beside the generator's files by `calcbench run` only (the services' own metrics).
SERVER: Final = "server.json"
#: Everything `calcbench load` writes.
LOAD_FILES: Final = (
    RUN_JSON,
    SUMMARY,
    SUMMARY_ACTUAL,
    ERRORS,
    TIMESERIES,
    REPLICAS,
    CONNECTIONS,
    HISTOGRAMS,
)

# A run directory: run.json (kind `run`), the phases, the services' logs and the report.
PHASES: Final = "phases"
LOGS: Final = "logs"
CHARTS: Final = "charts"
REPORT_MD: Final = "report.md"
REPORT_HTML: Final = "report.html"
#: run.json's `kind`: a run directory, or a single load generator's phase directory.
RUN_KIND: Final = "run"
LOAD_KIND: Final = "load"

#: The latency percentiles every summary reports, by column (milliseconds), in column order.
PERCENTILES: Final[Mapping[str, float]] = {
    "p50_ms": 50.0,
    "p90_ms": 90.0,
    "p95_ms": 95.0,
    "p99_ms": 99.0,
    "p999_ms": 99.9,
}
LATENCY_COLUMNS: Final = (*PERCENTILES, "max_ms", "mean_ms")
#: The percentiles of each second in the time series.
TIMESERIES_PERCENTILES: Final[Mapping[str, float]] = {"p50_ms": 50.0, "p99_ms": 99.0}

# The columns of a phase directory's CSVs.
SUMMARY_COLUMNS: Final = (
    "protocol",
    "operation",
    "requests",
    "ok",
    "errors",
    "success_rate",
    "rps",
    *LATENCY_COLUMNS,
)
ERROR_COLUMNS: Final = ("protocol", "operation", "outcome", "code", "count", "expected")
TIMESERIES_COLUMNS: Final = (
    "protocol",
    "operation",
    "second",
    "requests",
    "errors",
    *TIMESERIES_PERCENTILES,
)
REPLICA_COLUMNS: Final = ("protocol", "service", "replica", "requests")
CONNECTION_COLUMNS: Final = ("protocol", "service", "second", "connections")

# The report's tables of the same name: every phase's rows, with the phase they came from.
RUN_SUMMARY_COLUMNS: Final = (*SUMMARY_COLUMNS, "balancing")
RUN_ERROR_COLUMNS: Final = (*ERROR_COLUMNS, "balancing")
RUN_TIMESERIES_COLUMNS: Final = (*TIMESERIES_COLUMNS, "round", "balancing")
#: TLS against plaintext, per protocol (`calcbench run --tls both`): one row per metric,
#: protocol and balancing mode; `ratio` is tls / plaintext with its bootstrap interval over rounds.
TLS_CSV: Final = "tls.csv"
#: Bytes per request through a counting relay, for each stack of a `--tls both` run (ciphertext
#: for TLS): written by `calcbench run` beside run.json, read into tls.csv. Its load
#: directories are under TLS_WIRE_DIR.
TLS_WIRE: Final = "tls_wire.csv"
TLS_WIRE_DIR: Final = "tls_wire"
TLS_WIRE_COLUMNS: Final = (
    "protocol",
    "balancing",
    "tls",
    "requests",
    "sent_bytes_per_request",
    "received_bytes_per_request",
)
TLS_COLUMNS: Final = (
    "metric",
    "protocol",
    "balancing",
    "plaintext",
    "tls",
    "ratio",
    "ci_low",
    "ci_high",
    "verdict",
    "rounds",
)

# The calibration of a run (closed loop, one call in flight, against addition) and the time
# breakdown analysis builds from it.
CALIBRATION_DIR: Final = "calibration"
CALIBRATION: Final = "calibration.csv"
CALIBRATION_COLUMNS: Final = (
    "protocol",
    "client",
    "in_flight",
    "requests",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "client_cpu_us_per_request",
)
#: `client` of calibration rows made with calcbench's own load generator.
CALCBENCH_CLIENT: Final = "calcbench"
WIRE: Final = "wire.csv"
WIRE_COLUMNS: Final = (
    "protocol",
    "requests",
    "sent_bytes_per_request",
    "received_bytes_per_request",
)
BREAKDOWN: Final = "breakdown.csv"
BREAKDOWN_COLUMNS: Final = ("protocol", "component", "value", "unit")

#: A CSV boolean. Readers also take `True` (what `calcbench report` wrote before) and `1`/`yes`.
TRUE: Final = "true"
FALSE: Final = "false"
TRUE_WORDS: Final = frozenset({TRUE, "1", "yes"})


def cell(value: object) -> object:
    """A CSV cell: empty for None, `true`/`false` for booleans, floats to 6 decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, float):
        return round(value, 6)
    return value


class PhaseName(NamedTuple):
    """What a phase's name says: `r2-grpc-round-robin` is round 2, grpc, round-robin, plaintext;
    `r1-rest-shared-tls` is round 1, rest, shared, over TLS."""

    round: int
    protocol: str
    balancing: str
    tls: bool = False


#: Ends the name of a phase measured over TLS; plaintext phases keep the names they always had.
TLS_SUFFIX: Final = "-tls"
_PHASE_NAME = re.compile(rf"r([1-9][0-9]*)-({'|'.join(PROTOCOLS)})-(.+?)({TLS_SUFFIX})?")


def phase_name(round_: int, protocol: str, balancing: str, tls: bool = False) -> str:
    return f"r{round_}-{protocol}-{balancing}{TLS_SUFFIX if tls else ''}"


def parse_phase_name(name: str) -> PhaseName:
    """The inverse of `phase_name`; ValueError for a name it did not make."""
    match = _PHASE_NAME.fullmatch(name)
    if match is None:
        raise ValueError(
            f"not a phase name: {name!r} (expected r<round>-<protocol>-<balancing>[-tls])"
        )
    return PhaseName(int(match[1]), match[2], match[3], match[4] is not None)


def phase_dir(name: str) -> str:
    """A phase's directory, relative to the run directory (run.json's `dir`)."""
    return f"{PHASES}/{name}"


def phase_entry(
    round_: int, protocol: str, balancing: str, *, completed: bool, tls: bool = False
) -> dict[str, Any]:
    """A phase as the run directory's run.json lists it (`"tls": true` only for TLS phases)."""
    name = phase_name(round_, protocol, balancing, tls)
    entry: dict[str, Any] = {"round": round_, "protocol": protocol, "balancing": balancing}
    if tls:
        entry["tls"] = True
    return entry | {"name": name, "dir": phase_dir(name), "completed": completed}
