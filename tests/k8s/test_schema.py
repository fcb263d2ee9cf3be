"""Every rendered document is a valid Kubernetes object: strict schemas (an unknown or
misspelt field fails), for a fixed Kubernetes version, offline (kubernetes-validate bundles
the schemas)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest

from tests.k8s.manifests import K8S, OVERLAYS, Manifest, overlay, render

# Native gRPC probes are GA since 1.27; 1.30 is a version every managed offering (AKS
# included) has supported, and the oldest one these manifests promise to fit.
KUBERNETES_VERSION = "1.30"

TARGETS = [overlay(name) for name in OVERLAYS] + [K8S / "rest", K8S / "grpc"]


@cache
def _problem(document: str) -> str | None:
    """Why a document (as sorted JSON) is invalid, or None. Cached: the overlays share most of
    their documents, and one validation costs tens of milliseconds."""
    try:
        kubernetes_validate.validate(json.loads(document), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{'.'.join(str(part) for part in exc.path)}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        return str(exc.message)
    return None


def problem(doc: Manifest) -> str | None:
    return _problem(json.dumps(doc, sort_keys=True))


@pytest.mark.parametrize("target", TARGETS, ids=lambda p: str(p.relative_to(K8S)))
def test_every_document_passes_the_strict_schema(target: Path) -> None:
    errors = [
        f"{doc['kind']} {doc['metadata'].get('namespace', '')}/{doc['metadata']['name']}: {why}"
        for doc in render(target)
        if (why := problem(doc))
    ]
    assert not errors, "\n".join(errors)


def test_strict_validation_rejects_an_unknown_field() -> None:
    """The check above can fail: a misspelt field is an error, not silently dropped."""
    deployment = next(d for d in render(overlay("unmeshed")) if d["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    assert problem(broken) is not None
    assert "replica" in str(problem(broken))
