"""The generator pod's program before its load: whole services only, one line when they never
come, and a start it lines up on (its load itself runs in test_local_e2e)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calcbench.orchestration.k8s.generator import resolve, targets, wait_for_start
from calcbench.orchestration.k8s.generator_plan import GeneratorPlan
from loadgen.settings import LoadSettings

REPO = Path(__file__).resolve().parents[2]


def test_a_headless_name_resolves_to_every_address() -> None:
    assert "127.0.0.1:8080" in resolve("localhost:8080")
    assert resolve("no-such-service.invalid:8080") == []


@pytest.mark.parametrize(
    ("value", "balancing", "expected", "why"),
    [
        ("addition:8080", "shared", 2, None),  # a ClusterIP: one address, whatever the pods
        ("10.0.0.1:8080,10.0.0.2:8080", "round-robin", 2, None),
        ("10.0.0.1:8080", "round-robin", 2, "10.0.0.1:8080 resolves to 1 address(es), not 2"),
        ("10.0.0.1:8080,10.0.0.9:8080", "round-robin", 2, "10.0.0.9:8080 is not answering"),
    ],
)
def test_a_service_is_ready_when_all_its_pods_are_listed_and_answer(
    value: str, balancing: str, expected: int, why: str | None
) -> None:
    found, reason = targets(value, balancing, expected, lambda address: "10.0.0.9" not in address)
    assert reason == why and found == value.split(",")


def test_the_start_waits_for_the_common_time_or_says_how_late() -> None:
    began = time.time()
    assert wait_for_start(began + 0.3, print) < 0.05 and time.time() - began >= 0.29
    assert wait_for_start(time.time() - 2.0, print) == pytest.approx(2.0, abs=0.2)
    assert wait_for_start(time.time() + 10_000, print) == 0.0  # a clock that disagrees


def generate(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from calcbench.cli import main; main()", "k8s", "generate"],
        capture_output=True, text=True, timeout=60, cwd=REPO, env={**os.environ, **environ},
    )  # fmt: skip


def test_services_that_never_answer_fail_the_pod_with_one_line() -> None:
    plan = GeneratorPlan(LoadSettings(protocol="grpc", mix=(("addition", 1.0),)), wait_seconds=1)
    proc = generate({**plan.to_env(), "ADDITION_ENDPOINT": "127.0.0.1:9"})
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert line == "error: gave up after 1 s: 127.0.0.1:9 is not answering"


def test_outside_a_job_it_says_what_is_missing() -> None:
    proc = generate({"CALCBENCH_LOAD": json.dumps({"rate": -1})})
    assert proc.returncode == 1 and "error: CALCBENCH_LOAD is not a load's settings" in proc.stderr
