"""Render the kustomizations under k8s/ with `kubectl kustomize` and look things up in them.

Rendering is the only way to see what `kubectl apply -k` would send: the files alone are a
base plus patches. Each target is rendered once per test session.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from calcbench.core.vocabulary import SERVICES
from tests.tools import required_tool

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
OVERLAYS = ("unmeshed", "linkerd", "linkerd-server-only", "client-round-robin")
NAMESPACES = {"rest": "rest-calculator", "grpc": "grpc-calculator"}
LOADGEN = "loadgen"

Manifest = dict[str, Any]


def overlay(name: str) -> Path:
    return K8S / "overlays" / name


@cache
def render(target: Path) -> tuple[Manifest, ...]:
    """The documents `kubectl kustomize target` prints (skips the test without kubectl,
    except in CI, where it fails)."""
    kubectl = required_tool("kubectl", "the k8s/ manifests cannot be rendered here")
    proc = subprocess.run(
        [kubectl, "kustomize", str(target)], capture_output=True, text=True, timeout=60
    )
    if proc.returncode != 0:
        pytest.fail(f"kubectl kustomize {target} failed:\n{proc.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def by_kind(docs: tuple[Manifest, ...], kind: str, namespace: str) -> dict[str, Manifest]:
    """The `kind` objects of `namespace`, by name."""
    return {
        doc["metadata"]["name"]: doc
        for doc in docs
        if doc["kind"] == kind and doc["metadata"].get("namespace") == namespace
    }


def namespace_object(docs: tuple[Manifest, ...], namespace: str) -> Manifest:
    (found,) = [d for d in docs if d["kind"] == "Namespace" and d["metadata"]["name"] == namespace]
    return found


def calculators(docs: tuple[Manifest, ...], namespace: str) -> dict[str, Manifest]:
    """The five calculator Deployments of a namespace, by service name."""
    deployments = by_kind(docs, "Deployment", namespace)
    return {name: deployments[name] for name in SERVICES if name in deployments}


def container(deployment: Manifest) -> Manifest:
    """The Deployment's only container (every pod here runs one)."""
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def env(deployment: Manifest) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container(deployment).get("env", [])}


def env_from_config_maps(docs: tuple[Manifest, ...], deployment: Manifest) -> dict[str, str]:
    """The variables a container gets from its `envFrom` ConfigMaps, then its own `env`,
    which Kubernetes lets win."""
    namespace = deployment["metadata"]["namespace"]
    config_maps = by_kind(docs, "ConfigMap", namespace)
    merged: dict[str, str] = {}
    for source in container(deployment).get("envFrom", []):
        merged.update(config_maps[source["configMapRef"]["name"]]["data"])
    merged.update(env(deployment))
    return merged


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


def selects(service: Manifest, deployment: Manifest) -> bool:
    """Whether the Service's selector picks the Deployment's pods."""
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"].get("selector") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_annotations(deployment: Manifest) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"].get("annotations") or {})
