"""Load directories as a generator pod leaves them, written by the load generator's own writers
from a made-up tally (for the merge and for the stand-in kubectl's pod logs)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from calcbench.core.rundir import (
    CONNECTION_COLUMNS,
    ERROR_COLUMNS,
    REPLICA_COLUMNS,
    SUMMARY_COLUMNS,
    TIMESERIES_COLUMNS,
)
from calcbench.core.vocabulary import SERVICES
from calcbench.orchestration.k8s.archive import pack
from loadgen.results import (
    error_rows,
    histograms_document,
    replica_rows,
    summary_rows,
    totals,
)
from loadgen.rundir import write_csv, write_json
from loadgen.stats import Tally


def made_up_tally(seed: int, pods: dict[str, list[str]], requests: int = 200) -> Tally:
    """`requests` calls spread over the services; division fails now and then; each call
    answered by one of its service's `pods` (the first only, unless round robin)."""
    rng = random.Random(seed)
    tally = Tally()
    for i in range(requests):
        service = SERVICES[i % len(SERVICES)]
        latency = rng.randint(200, 20_000)
        tally.histogram("intended", service).record_value(latency)
        tally.histogram("actual", service).record_value(latency - 100)
        failed = service == "division" and i % 4 == 3
        key = (
            (service, "invalid_argument", "400", True) if failed else (service, "ok", "200", False)
        )
        tally.outcomes[key] += 1
        names = pods[service]
        tally.replicas[(service, names[i % len(names)])] += 1
    return tally


def write_load_dir(
    out: Path, protocol: str, balancing: str, tally: Tally, started: str, seconds: float = 4.0
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    services = list(SERVICES)
    for name, kind in (("summary.csv", "intended"), ("summary_actual.csv", "actual")):
        write_csv(
            out / name, SUMMARY_COLUMNS, summary_rows(protocol, services, tally, seconds, kind)
        )
    write_csv(out / "errors.csv", ERROR_COLUMNS, error_rows(protocol, tally))
    write_csv(out / "replicas.csv", REPLICA_COLUMNS, replica_rows(protocol, tally))
    write_json(out / "histograms.json", histograms_document(protocol, tally))
    counts = totals(tally)
    series = [[protocol, "addition", s, 10, 1, 1.5, 4.0] for s in range(int(seconds))]
    series += [[protocol, "all", s, 50, 2, 2.0, 9.0] for s in range(int(seconds))]
    write_csv(out / "timeseries.csv", TIMESERIES_COLUMNS, series)
    connections = [[protocol, s, second, 1] for second in range(int(seconds)) for s in services]
    write_csv(out / "connections.csv", CONNECTION_COLUMNS, connections)
    meta = {
        "kind": "load", "calcbench_version": "0.1.0", "protocol": protocol,
        "balancing": balancing, "loop": "open", "settings": {"protocol": protocol},
        "endpoints": {}, "host": {"cpu_count": 2}, "versions": {"python": "3.11"},
        "started_at": started, "ended_at": started, "measured_seconds": seconds,
        "interrupted": False, "totals": counts, "warmup": {"requests": 5, "ok": 5, "errors": 0},
        "generator": {"lag_ms": {"p50": 0.2, "p99": 1.0, "max": 3.0}, "cpu_seconds": 1.5,
                      "cpu_us_per_request": 10.0, "max_worker_cpu_utilisation": 0.2,
                      "bound": False, "warnings": [], "rule": {}},
        "client_connections": dict.fromkeys(services, 1),
    }  # fmt: skip
    write_json(out / "run.json", meta)
    return out


def generator_log(
    work: Path, index: int, protocol: str, balancing: str, pods: dict[str, list[str]]
) -> str:
    """What a generator pod prints: a few lines, then its packed results."""
    folder = work / f"pod-{protocol}-{index}"
    tally = made_up_tally(index, pods)
    write_load_dir(folder / "run", protocol, balancing, tally, f"2025-01-01T00:00:0{index}+00:00")
    (folder / "pod.json").write_text(json.dumps({"index": index, "pod": f"loadgen-{index}"}))
    return f"generator {index + 1}: waiting\naddition: 10.0.0.1:8080\n{pack(folder)}done\n"
