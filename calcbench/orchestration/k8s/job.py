"""The generator Job as `bench` sees it: is it done, why did it fail, and each pod's results
read back from its log."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from calcbench.orchestration.k8s.archive import unpack
from calcbench.orchestration.k8s.generator_job import JOB_NAME
from calcbench.orchestration.k8s.kubectl import Kubectl
from calcbench.orchestration.k8s.merge import GeneratorResult
from calcbench.orchestration.k8s.pods import LOADGEN

INDEX_ANNOTATION: Final = "batch.kubernetes.io/job-completion-index"
JOB_SELECTOR: Final = f"job-name={JOB_NAME}"


class JobFailed(RuntimeError):
    """The generator Job failed, ran out of time, or left no complete results."""


def job_state(job: dict[str, Any]) -> str | None:
    """ "complete", "failed: REASON (MESSAGE)", or None while it runs (pure)."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return "complete"
        if condition.get("type") == "Failed":
            return f"failed: {condition.get('reason', '?')} ({condition.get('message', '')})"
    return None


def pod_trouble(pod: dict[str, Any]) -> str | None:
    """Why a generator pod did not succeed, from its status (pure): unschedulable, failed..."""
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return None
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"{condition.get('reason')}: {condition.get('message', '')}"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        waiting = state.get("waiting") or state.get("terminated") or {}
        if waiting.get("reason"):
            return f"{container['name']} {waiting['reason']}"
    return f"phase {phase}"


def explain_failure(kubectl: Kubectl, namespace: str) -> str:
    """The first troubled pod and the last line it logged (its `error:` line, usually)."""
    for pod in kubectl.json("get", "pods", "-n", namespace, "-l", JOB_SELECTOR)["items"]:
        trouble = pod_trouble(pod)
        if trouble is None:
            continue
        name = pod["metadata"]["name"]
        try:
            tail = kubectl.run("logs", name, "-n", namespace, "-c", LOADGEN, "--tail=3")
        except RuntimeError:
            tail = ""
        last = tail.strip().splitlines()[-1] if tail.strip() else "no log"
        return f"pod {name}: {trouble}; last log line: {last}"
    return "no generator pod says why"


def wait_for_job(
    kubectl: Kubectl,
    namespace: str,
    seconds: float,
    poll: float,
    on_tick: Callable[[], None] = lambda: None,
) -> None:
    """Until the Job completes; JobFailed when it fails or `seconds` pass. `on_tick` runs at
    every look (the midpoint scrape hangs on it)."""
    deadline = time.monotonic() + seconds
    while True:
        state = job_state(kubectl.json("get", "job", JOB_NAME, "-n", namespace))
        if state == "complete":
            return
        if state is not None:
            why = explain_failure(kubectl, namespace)
            raise JobFailed(f"the generator Job in {namespace} {state}; {why}")
        if time.monotonic() >= deadline:
            why = explain_failure(kubectl, namespace)
            raise JobFailed(f"the generator Job in {namespace} ran past {seconds:.0f} s; {why}")
        on_tick()
        time.sleep(poll)


def fetch_results(
    kubectl: Kubectl, namespace: str, generators: int, into: Path
) -> list[GeneratorResult]:
    """Every generator pod's results, unpacked from its log into `into/<index>/`."""
    names: dict[int, str] = {}
    for pod in kubectl.json("get", "pods", "-n", namespace, "-l", JOB_SELECTOR)["items"]:
        if (pod.get("status") or {}).get("phase") == "Succeeded":
            annotations = pod["metadata"].get("annotations") or {}
            names[int(annotations[INDEX_ANNOTATION])] = pod["metadata"]["name"]
    missing = sorted(set(range(generators)) - names.keys())
    if missing:
        raise JobFailed(f"no succeeded generator pod for index(es) {missing} in {namespace}")
    results = []
    for index in range(generators):
        log = kubectl.run("logs", names[index], "-n", namespace, "-c", LOADGEN)
        results.append(GeneratorResult.read(unpack(log, into / str(index))))
    return results
