"""What a generator pod runs (`calcbench k8s generate`): wait until every service is whole and
answering, wait for the common start, run this pod's share of the load, print the results.

Reads only its environment (`generator_plan`), so the same program runs in a cluster and, in the
tests, as a local process with 127.0.0.1 addresses in place of the Services' names.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from calcbench.core.endpoints import Endpoints, format_address, parse_address
from calcbench.orchestration.health import is_healthy
from calcbench.orchestration.k8s.archive import pack
from calcbench.orchestration.k8s.generator_plan import (
    NODE,
    GeneratorPlan,
    completion_index,
    endpoint_variable,
)
from loadgen import LoadSettings, Progress, run_load
from loadgen.addressing import endpoint_from_list
from loadgen.progress import progress_line

POD_FILE: Final = "pod.json"
RUN_DIR: Final = "run"
#: A start this far ahead is a clock that disagrees with the bench's, not a plan: start now.
MAX_AHEAD: Final = 600.0

Say = Callable[[str], None]


class GeneratorFailed(RuntimeError):
    """The services never became whole and healthy, or the load could not run."""


def resolve(address: str) -> list[str]:
    """Every address `host:port` resolves to, sorted (a headless Service: one per ready pod)."""
    host, port = parse_address(address)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return sorted({format_address(str(info[4][0]), port) for info in infos})


def targets(
    value: str, balancing: str, expected: int | None, healthy: Callable[[str], bool]
) -> tuple[list[str], str | None]:
    """The addresses to load for one `*_ENDPOINT` value, and why they are not ready yet."""
    if balancing == "shared" or "," in value:
        found = [part.strip() for part in value.split(",") if part.strip()]
    else:
        found = resolve(value)  # the headless Service's pods
    if balancing != "shared" and expected is not None and len(found) != expected:
        return found, f"{value} resolves to {len(found)} address(es), not {expected}"
    unhealthy = [address for address in found if not healthy(address)]
    return found, f"{unhealthy[0]} is not answering" if unhealthy else None


def wait_for_services(
    load: LoadSettings, plan: GeneratorPlan, environ: Mapping[str, str], say: Say
) -> Endpoints:
    """Endpoints once every service of the mix resolves to all its pods and they answer."""

    def healthy(address: str) -> bool:
        return is_healthy(load.protocol, address, timeout=2.0)

    deadline = time.monotonic() + plan.wait_seconds
    found: dict[str, list[str]] = {}
    for service in load.services:
        value = environ.get(endpoint_variable(service), "")
        if not value:
            raise GeneratorFailed(f"{endpoint_variable(service)} is not set")
        expected = (plan.replicas or {}).get(service)
        while True:
            addresses, why = targets(value, load.balancing, expected, healthy)
            if why is None:
                break
            if time.monotonic() >= deadline:
                raise GeneratorFailed(f"gave up after {plan.wait_seconds:g} s: {why}")
            time.sleep(1.0)
        found[service] = addresses
        say(f"{service}: {', '.join(addresses)}")
    services = {s: endpoint_from_list(",".join(a)) for s, a in found.items()}
    return Endpoints(protocol=load.protocol, services=services)


def wait_for_start(start_at: float, say: Say) -> float:
    """Sleep until `start_at` (Unix time); returns how late this pod starts (seconds)."""
    ahead = start_at - time.time()
    if start_at <= 0 or ahead > MAX_AHEAD:
        if start_at > 0:
            say(f"the start is {ahead:.0f} s ahead: a clock disagrees; starting now")
        return 0.0
    if ahead > 0:
        time.sleep(ahead)
    return max(0.0, time.time() - start_at)


def generate(environ: Mapping[str, str], say: Say, emit: Say) -> int:
    """Run this pod's share; `emit` gets the packed results. Raises GeneratorFailed or
    ValueError (bad environment) with a one-line message; returns the exit status."""
    plan = GeneratorPlan.from_env(environ)
    index = completion_index(environ)
    load = plan.share(index)
    say(f"generator {index + 1}/{plan.generators}: {load.protocol}, {load.balancing}")
    endpoints = wait_for_services(load, plan, environ, say)
    late = wait_for_start(plan.start_at, say)
    work = Path(tempfile.mkdtemp(prefix="calcbench-generator-"))
    try:
        result = run_load(load, endpoints, work / RUN_DIR, _progress(say))
        pod = {
            "index": index,
            "generators": plan.generators,
            "pod": environ.get("HOSTNAME") or socket.gethostname(),
            "node": environ.get(NODE),
            "start_at": plan.start_at,
            "late_seconds": round(late, 3),
        }
        (work / POD_FILE).write_text(json.dumps(pod, indent=1) + "\n")
        emit(pack(work))
    except (OSError, RuntimeError) as exc:
        raise GeneratorFailed(f"the load did not run: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"done: {result.requests} requests, {result.errors} errors")
    return 1 if result.interrupted else 0


def _progress(say: Say) -> Callable[[Progress], None]:
    """One progress line every 10 s in the pod's log."""

    def show(progress: Progress) -> None:
        if int(progress.elapsed) % 10 == 0:
            say(progress_line(progress))

    return show
