"""A stand-in for `kubectl` against a pretend cluster (no API server runs here): it records its
arguments, keeps what was applied, and answers as a healthy cluster would, or as a broken one
when told to. Installed as `kubectl` on PATH by `install`; the state lives in $FAKE_CLUSTER.

Knobs (environment): FAKE_NO_ACCESS, FAKE_NO_LINKERD, FAKE_NO_INJECTOR, FAKE_JOB_FAILS,
FAKE_NO_POD_PROXY and FAKE_ROLLOUT_FAIL=deployment. A generator pod's log is the file
$FAKE_CLUSTER/logs/<namespace>/<index>.log.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

STATE = Path(os.environ.get("FAKE_CLUSTER", "."))
INJECT = "linkerd.io/inject"
REFUSED = (
    "The connection to the server localhost:8080 was refused - did you specify the right host?"
)
NOT_ALL_PODS = "addition-headless:8080 resolves to 1 address(es), not 2"


def install(bin_dir: Path) -> Path:
    """Put this script on `bin_dir` as `kubectl`, run by this interpreter."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "kubectl"
    # -S: no site import (a call costs a third less); yaml's folder is added by hand instead.
    import yaml

    future = "from __future__ import annotations\n"
    path = f"sys.path.insert(0, {str(Path(yaml.__file__).parents[1])!r})\n"
    source = Path(__file__).read_text().replace(future, f"{future}import sys\n{path}", 1)
    script.write_text(f"#!{sys.executable} -S\n{source}")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def calls(cluster: Path) -> list[list[str]]:
    path = cluster / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _load() -> dict[str, Any]:
    path = STATE / "state.json"
    return (
        json.loads(path.read_text())
        if path.is_file()
        else {"objects": [], "deleted": [], "scrapes": 0}
    )


def _save(state: dict[str, Any]) -> None:
    (STATE / "state.json").write_text(json.dumps(state))


def _fail(message: str, code: int = 1) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(code)


def _out(data: Any) -> None:
    sys.stdout.write(json.dumps(data) if not isinstance(data, str) else data)


def _flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _objects(state: dict[str, Any], kind: str, namespace: str | None) -> list[dict[str, Any]]:
    return [
        o for o in state["objects"]
        if o["kind"] == kind and o["metadata"].get("namespace") == namespace
        and namespace not in state["deleted"]
    ]  # fmt: skip


def _calculator_pods(state: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    pods = []
    for deployment in _objects(state, "Deployment", namespace):
        template = deployment["spec"]["template"]
        name = deployment["metadata"]["name"]
        injected = template["metadata"]["annotations"].get(INJECT) == "enabled"
        injected = injected and not os.environ.get("FAKE_NO_INJECTOR")
        for index in range(deployment["spec"]["replicas"]):
            spec = {"nodeName": f"node-{index % 2}", "containers": [{"name": "calculator"}]}
            if injected:
                spec["initContainers"] = [{"name": "linkerd-init"}, {"name": "linkerd-proxy"}]
            meta = {"name": f"{name}-{index}", "labels": template["metadata"]["labels"]}
            pods.append({"metadata": meta, "spec": spec, "status": {"phase": "Running"}})
    return pods


def _job_pods(state: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    pods = []
    for job in _objects(state, "Job", namespace):
        phase = "Failed" if os.environ.get("FAKE_JOB_FAILS") else "Succeeded"
        for index in range(job["spec"]["parallelism"]):
            annotations = {"batch.kubernetes.io/job-completion-index": str(index)}
            meta = {"name": f"loadgen-{index}-x", "annotations": annotations}
            pods.append({"metadata": meta, "spec": {}, "status": {"phase": phase}})
    return pods


def _slices(state: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    items = []
    for pod_count, service in _ready_counts(state, namespace):
        for name in (service, f"{service}-headless"):
            endpoints = [
                {"addresses": [f"10.0.0.{i}"], "conditions": {"ready": True}}
                for i in range(pod_count)
            ]
            items.append(
                {
                    "metadata": {"labels": {"kubernetes.io/service-name": name}},
                    "endpoints": endpoints,
                }
            )
    return items


def _ready_counts(state: dict[str, Any], namespace: str) -> list[tuple[int, str]]:
    return [
        (d["spec"]["replicas"], d["metadata"]["name"])
        for d in _objects(state, "Deployment", namespace)
    ]


def _metrics(state: dict[str, Any], pod: str) -> str:
    state["scrapes"] += 1
    served = 100 * state["scrapes"] if not pod.startswith(("addition-1", "subtraction-1")) else 0
    return (
        f'calc_requests_total{{service="x",replica="{pod}",outcome="ok"}} {served}\n'
        f'calc_request_duration_seconds_bucket{{service="x",replica="{pod}",le="0.001"}} {served}\n'
        f'calc_request_duration_seconds_bucket{{service="x",replica="{pod}",le="+Inf"}} {served}\n'
        f'calc_request_duration_seconds_count{{service="x",replica="{pod}"}} {served}\n'
        f'calc_request_duration_seconds_sum{{service="x",replica="{pod}"}} {served / 2000}\n'
        f'calc_tcp_open_connections{{service="x",replica="{pod}"}} 1\n'
    )


def _resource_metrics(state: dict[str, Any]) -> str:
    state["scrapes"] += 1
    lines = ["# TYPE container_cpu_usage_seconds_total counter"]
    for namespace in ("rest-calculator", "grpc-calculator"):
        for pod in _calculator_pods(state, namespace):
            name = pod["metadata"]["name"]
            lines.append(
                f'container_cpu_usage_seconds_total{{container="calculator",namespace="{namespace}",'
                f'pod="{name}"}} {state["scrapes"] * 0.5} 1700000000000'
            )
    return "\n".join(lines) + "\n"


def _rolled_out(deployment: dict[str, Any]) -> dict[str, Any]:
    name, wanted = deployment["metadata"]["name"], deployment["spec"]["replicas"]
    status: dict[str, Any] = {"observedGeneration": 1, "replicas": wanted}
    status |= dict.fromkeys(("updatedReplicas", "readyReplicas", "availableReplicas"), wanted)
    if name == os.environ.get("FAKE_ROLLOUT_FAIL"):
        status["conditions"] = [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
        ]
        status["readyReplicas"] = 0
    return {**deployment, "metadata": {**deployment["metadata"], "generation": 1}, "status": status}


def _get(args: list[str], state: dict[str, Any]) -> None:
    namespace = _flag(args, "-n")
    what = args[1]
    if what == "--raw":
        path = args[2]
        if path == "/version":
            return _out({"gitVersion": "v1.30.2"})
        if path.endswith("/proxy/metrics/resource"):
            return _out(_resource_metrics(state))
        pod = path.split("/pods/")[1].split(":")[0]
        if os.environ.get("FAKE_NO_POD_PROXY"):
            return _fail(f'Error from server (Forbidden): pods "{pod}" is forbidden: pods/proxy')
        return _out(_metrics(state, pod))
    if what == "nodes":
        return _out(
            {
                "items": [
                    {"metadata": {"name": f"node-{i}"}, "status": {"capacity": {"cpu": "2"}}}
                    for i in range(2)
                ]
            }
        )
    if what == "deployment" and args[2] == "linkerd-proxy-injector":
        if os.environ.get("FAKE_NO_LINKERD"):
            return _fail('Error from server (NotFound): namespaces "linkerd" not found')
        return _out("deployment.apps/linkerd-proxy-injector\n")
    if what == "namespace":
        applied = {o["metadata"]["name"] for o in state["objects"] if o["kind"] == "Namespace"}
        if args[2] not in applied:
            return _fail(f'Error from server (NotFound): namespaces "{args[2]}" not found')
        return _out(f"namespace/{args[2]}\n")
    if what == "deployments":
        return _out({"items": [_rolled_out(d) for d in _objects(state, "Deployment", namespace)]})
    if what == "endpointslices":
        return _out({"items": _slices(state, str(namespace))})
    if what == "job":
        failed = os.environ.get("FAKE_JOB_FAILS")
        condition = {
            "type": "Failed" if failed else "Complete",
            "status": "True",
            "reason": "BackoffLimitExceeded",
        }
        return _out({"status": {"conditions": [condition]}})
    if what == "pods":
        selector = _flag(args, "-l") or ""
        if selector.startswith("job-name="):
            return _out({"items": _job_pods(state, str(namespace))})
        return _out({"items": _calculator_pods(state, str(namespace))})
    return _fail(f"fake kubectl: unexpected get {args}", 2)


def main(argv: list[str]) -> None:
    with (STATE / "calls.jsonl").open("a") as log:
        log.write(json.dumps(argv) + "\n")
    if os.environ.get("FAKE_NO_ACCESS"):
        _fail(REFUSED)
    state = _load()
    verb = argv[0]
    if verb == "get":
        _get(argv, state)
    elif verb == "apply":
        import yaml

        docs = [d for d in yaml.safe_load_all(sys.stdin.read()) if d]
        for doc in docs:
            if doc["kind"] == "Namespace":
                state["deleted"] = [n for n in state["deleted"] if n != doc["metadata"]["name"]]
        state["objects"] += docs
        _out("".join(f"{d['kind'].lower()}/{d['metadata']['name']} created\n" for d in docs))
    elif verb == "logs":
        namespace = _flag(argv, "-n")
        index = argv[1].split("-")[1]
        log_file = STATE / "logs" / str(namespace) / f"{index}.log"
        if os.environ.get("FAKE_JOB_FAILS"):
            _out(f"error: gave up after 300 s: {NOT_ALL_PODS}\n")
        else:
            _out(log_file.read_text())
    elif verb == "delete":
        if argv[1] == "namespace":
            names = [a for a in argv[2:] if not a.startswith("--")]
            state["deleted"] += names
            state["objects"] = [
                o
                for o in state["objects"]
                if o["metadata"].get("namespace") not in names
                and o["metadata"]["name"] not in names
            ]
        else:
            namespace = _flag(argv, "-n")
            state["objects"] = [
                o
                for o in state["objects"]
                if not (o["kind"] == "Job" and o["metadata"].get("namespace") == namespace)
            ]
        _out("deleted\n")
    else:
        _fail(f"fake kubectl: unexpected {argv}", 2)
    _save(state)


if __name__ == "__main__":
    main(sys.argv[1:])
