"""Every rendered document is a valid Kubernetes object: strict schemas (an unknown or
misspelt field fails), offline (kubernetes-validate bundles the schemas), for the oldest
version the manifests promise to fit and the newest the validator knows."""

from __future__ import annotations

import json
from functools import cache

import kubernetes_validate
import pytest

from tests.k8s.manifests import COMBINATIONS, Manifest, rendered

# Native gRPC probes are GA since 1.27; 1.30 is a version every managed offering (AKS
# included) has supported, and the oldest one these manifests promise to fit.
OLDEST = "1.30"
NEWEST = ".".join(kubernetes_validate.latest_version().split(".")[:2])


@cache
def _problem(document: str, version: str) -> str | None:
    """Why a document (as sorted JSON) is invalid, or None. Cached: the situations share
    most of their documents, and one validation costs milliseconds."""
    try:
        kubernetes_validate.validate(json.loads(document), version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{'.'.join(str(part) for part in exc.path)}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        return str(exc.message)
    return None


def problem(doc: Manifest, version: str) -> str | None:
    return _problem(json.dumps(doc, sort_keys=True), version)


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
@pytest.mark.parametrize(("stack", "mesh", "balancing"), COMBINATIONS)
def test_every_document_passes_the_strict_schema(
    stack: str, mesh: str, balancing: str, version: str
) -> None:
    docs = rendered(stack, mesh, balancing, generators=3)
    errors = [
        f"{doc['kind']} {doc['metadata'].get('namespace', '')}/{doc['metadata']['name']}: {why}"
        for doc in docs
        if (why := problem(doc, version))
    ]
    assert not errors, "\n".join(errors)


def test_strict_validation_rejects_an_unknown_field() -> None:
    """The check above can fail: a misspelt field is an error, not silently dropped."""
    deployment = next(d for d in rendered() if d["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    assert "replica" in str(problem(broken, OLDEST))
