"""The rendered manifests of every situation, and lookups into them.

`render` is the one source of the manifests: the tests read exactly what `calcbench k8s render`
prints and what `deploy` and `bench` apply. Each situation is rendered once per session.
"""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

from calcbench.core.vocabulary import SERVICES
from calcbench.orchestration.k8s.manifests import render
from calcbench.orchestration.k8s.situation import K8sBalancing, Mesh, Situation, StackChoice
from loadgen.settings import LoadSettings

NAMESPACES = {"rest": "rest-calculator", "grpc": "grpc-calculator"}
LOADGEN = "loadgen"
MESHES = tuple(m.value for m in Mesh)
BALANCINGS = tuple(b.value for b in K8sBalancing)
STACKS = tuple(s.value for s in StackChoice)
#: Every combination `calcbench k8s render` accepts (with the default knobs).
COMBINATIONS = list(itertools.product(STACKS, MESHES, BALANCINGS))
#: The post's situations plus the mesh-free fix, both stacks side by side.
SITUATIONS = [
    ("both", mesh, balancing) for mesh, balancing in itertools.product(MESHES, BALANCINGS)
]

Manifest = dict[str, Any]
Docs = tuple[Manifest, ...]


def situation(
    stack: str = "both", mesh: str = "none", balancing: str = "shared", **knobs: Any
) -> Situation:
    return Situation(
        protocols=StackChoice(stack).protocols, mesh=mesh, balancing=balancing, **knobs
    )


@cache
def rendered(
    stack: str = "both", mesh: str = "none", balancing: str = "shared", generators: int = 1
) -> Docs:
    chosen = situation(stack, mesh, balancing, generators=generators)
    return tuple(render(chosen, LoadSettings(rate=250.0, duration=60.0, warmup=10.0)))


def by_kind(docs: Docs, kind: str, namespace: str) -> dict[str, Manifest]:
    """The `kind` objects of `namespace`, by name."""
    return {
        doc["metadata"]["name"]: doc
        for doc in docs
        if doc["kind"] == kind and doc["metadata"].get("namespace") == namespace
    }


def namespace_object(docs: Docs, namespace: str) -> Manifest:
    (found,) = [d for d in docs if d["kind"] == "Namespace" and d["metadata"]["name"] == namespace]
    return found


def calculators(docs: Docs, namespace: str) -> dict[str, Manifest]:
    """The five calculator Deployments of a namespace, by service name."""
    deployments = by_kind(docs, "Deployment", namespace)
    return {name: deployments[name] for name in SERVICES if name in deployments}


def generator(docs: Docs, namespace: str) -> Manifest:
    return by_kind(docs, "Job", namespace)[LOADGEN]


def pod_spec(workload: Manifest) -> Manifest:
    return dict(workload["spec"]["template"]["spec"])


def container(workload: Manifest) -> Manifest:
    """The workload's only container (every pod here runs one)."""
    (only,) = pod_spec(workload)["containers"]
    return dict(only)


def env(workload: Manifest) -> dict[str, str]:
    """The container's literal variables (not those the downward API fills in)."""
    return {
        item["name"]: item["value"]
        for item in container(workload).get("env", [])
        if "value" in item
    }


def flag(args: list[str], name: str) -> str:
    """The value after `name` in an argument list."""
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


def port_number(deployment: Manifest, port: int | str) -> int:
    """A container port given by number or by name, as a number."""
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container(deployment).get("ports", [])}
    assert port in named, f"no container port named {port!r} in {deployment['metadata']['name']}"
    return int(named[port])


def selects(selector: dict[str, str], workload: Manifest) -> bool:
    """Whether a label selector picks the workload's pods."""
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_annotations(workload: Manifest) -> dict[str, str]:
    return dict(workload["spec"]["template"]["metadata"].get("annotations") or {})
