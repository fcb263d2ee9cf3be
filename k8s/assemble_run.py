"""Turn the two load generators' results, fetched from the cluster, into one calcbench run
directory: the layout `calcbench run` writes (a top-level run.json of kind "run" and one phase
per protocol under phases/), so that `calcbench report` reads a Kubernetes run like a local one.

    python k8s/assemble_run.py OUT_DIR

expects OUT_DIR/incoming/<protocol>/ (a `calcbench load --out` directory each) and
OUT_DIR/incoming/<protocol>.replicas (lines `deployment=replicas`), as fetch-results.sh leaves
them. The phases have no server.json: in a cluster the server side is `linkerd viz stat`'s.
The names and the phase entries are `calcbench.core.rundir`'s, as in `calcbench run`;
fetch-results.sh puts this checkout on PYTHONPATH, so any Python >= 3.11 runs it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from calcbench.core.rundir import PHASES, RUN_JSON, RUN_KIND, phase_entry
from calcbench.core.vocabulary import PROTOCOLS


def read_replicas(path: Path) -> dict[str, int]:
    """`deployment=replicas` lines (kubectl's jsonpath output) as a dict."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name: int(count) for name, count in pairs}


def load_phase(protocol: str, load: dict[str, Any]) -> dict[str, Any]:
    """The run.json entry of one generator's results: round 1 of `protocol`."""
    balancing = str(load.get("balancing") or "shared")
    return phase_entry(1, protocol, balancing, completed=not load.get("interrupted", False))


def run_document(
    loads: dict[str, dict[str, Any]], replicas: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """The top-level run.json for the phases in `loads` (protocol -> its load run.json)."""
    phases = [load_phase(protocol, load) for protocol, load in loads.items()]
    first = next(iter(loads.values()))
    settings = {k: v for k, v in (first.get("settings") or {}).items() if k != "protocol"}
    most = max((n for counts in replicas.values() for n in counts.values()), default=1)
    return {
        "kind": RUN_KIND,
        "calcbench_version": first.get("calcbench_version"),
        "git_commit": None,
        "started_at": min(str(load.get("started_at") or "") for load in loads.values()),
        "ended_at": max(str(load.get("ended_at") or "") for load in loads.values()),
        "partial": not all(phase["completed"] for phase in phases),
        "scenario": "kubernetes",
        "settings": {
            **settings,
            "rounds": 1,
            "replicas": most,
            # Per Deployment: the analysis measures each service against its own pod count.
            "service_replicas": replicas,
            "balancing_modes": sorted({phase["balancing"] for phase in phases}),
        },
        "host": first.get("host") or {},
        "versions": first.get("versions") or {},
        "kubernetes": {"replicas": replicas},
        "phases": phases,
        "warnings": [
            "the two protocols ran in a cluster, each from its own load generator pod; "
            "no server-side metrics were scraped (see linkerd viz stat)"
        ],
    }


def assemble(out: Path) -> dict[str, Any]:
    """Move OUT/incoming/<protocol> to OUT/phases/<phase> and write OUT/run.json."""
    incoming = out / "incoming"
    loads = {p: json.loads((incoming / p / RUN_JSON).read_text()) for p in PROTOCOLS}
    replicas = {p: read_replicas(incoming / f"{p}.replicas") for p in PROTOCOLS}
    document = run_document(loads, replicas)
    (out / PHASES).mkdir(exist_ok=True)
    for phase in document["phases"]:
        (incoming / phase["protocol"]).rename(out / phase["dir"])
    (out / RUN_JSON).write_text(json.dumps(document, indent=2) + "\n")
    return document


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python k8s/assemble_run.py OUT_DIR", file=sys.stderr)
        return 2
    try:
        assemble(Path(argv[0]))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot assemble a run directory in {argv[0]}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
