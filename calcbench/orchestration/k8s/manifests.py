"""Every manifest of a situation, as data, and as YAML (the one source of the k8s manifests).

Generated rather than kept as kustomize files: the situation's knobs (pods per service,
generator pods and their share of the rate, image, requests, mesh) are parameters here, and
`deploy`, `bench` and the tests all read the same objects that `render` prints.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import yaml

from calcbench.core.vocabulary import SERVICES
from calcbench.orchestration.k8s.calculators import calculator_objects
from calcbench.orchestration.k8s.generator_job import generator_job, plan_for
from calcbench.orchestration.k8s.namespace import namespace_objects
from calcbench.orchestration.k8s.pods import Manifest
from calcbench.orchestration.k8s.situation import Situation
from loadgen.settings import LoadSettings


def stack_objects(situation: Situation, protocol: str) -> list[Manifest]:
    """A stack without its generator: what `deploy` applies (namespace first)."""
    objects = namespace_objects(situation, protocol)
    for service in SERVICES:
        objects += calculator_objects(situation, protocol, service)
    return objects


def cluster_objects(situation: Situation) -> list[Manifest]:
    return [doc for protocol in situation.protocols for doc in stack_objects(situation, protocol)]


def render(situation: Situation, load: LoadSettings) -> list[Manifest]:
    """Everything, each stack's generator Job last (it starts the load once applied)."""
    jobs = [generator_job(situation, p, plan_for(situation, p, load)) for p in situation.protocols]
    return [*cluster_objects(situation), *jobs]


class _Dumper(yaml.SafeDumper):
    """Safe YAML that writes the vocabulary's StrEnum members as the strings they are."""


_Dumper.add_multi_representer(StrEnum, lambda dumper, value: dumper.represent_str(str(value)))


def to_yaml(documents: list[Manifest]) -> str:
    """One YAML stream, documents in order, keys in the order they were built."""
    return yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, explicit_start=True, width=4096
    )


def file_name(index: int, document: Manifest) -> str:
    return f"{index:02d}-{document['kind'].lower()}-{document['metadata']['name']}.yaml"


def write_files(documents: list[Manifest], out_dir: Path) -> list[Path]:
    """One file per object under `out_dir/<namespace>/`, numbered in apply order, so that
    `kubectl apply -R -f out_dir` creates each namespace before what lives in it."""
    written = []
    for index, document in enumerate(documents):
        meta = document["metadata"]
        folder = out_dir / str(meta.get("namespace") or meta["name"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / file_name(index, document)
        path.write_text(to_yaml([document]))
        written.append(path)
    return written
