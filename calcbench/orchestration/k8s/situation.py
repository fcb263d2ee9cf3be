"""What one Kubernetes measurement is of: the situation (pure, validated on construction).

A situation is the post's independent variable: which stacks, whether and how Linkerd meshes
them, how the generator balances, how many pods of each service and of the generator, and
which image. It names the namespaces, the phases and the run directory, and is recorded in
`run.json`, so that a run says what it measured and `calcbench compare` can label it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Final

from calcbench.core.vocabulary import PROTOCOLS, SERVICES, Balancing, Service

#: The image the manifests name unless told otherwise: build it with this tag (k8s/README.md).
DEFAULT_IMAGE: Final = "calcbench:dev"
#: Services the post ran two pods of, so that pinning shows; the others run one.
MULTI_POD_SERVICES: Final = (Service.ADDITION, Service.SUBTRACTION, Service.DIVISION)
#: Generator pods per Job, at most (each is a process with its own share of the rate).
MAX_GENERATORS: Final = 32
MAX_POD_REPLICAS: Final = 20

_CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_MEMORY = re.compile(r"^\d+(Ki|Mi|Gi)$")


class Mesh(StrEnum):
    """The post's three situations. `linkerd-unmeshed-client`: the services are meshed, the
    load generator is not, so its connections reach the pods through kube-proxy (L4)."""

    NONE = "none"
    LINKERD = "linkerd"
    LINKERD_UNMESHED_CLIENT = "linkerd-unmeshed-client"


class StackChoice(StrEnum):
    REST = "rest"
    GRPC = "grpc"
    BOTH = "both"

    @property
    def protocols(self) -> tuple[str, ...]:
        return PROTOCOLS if self is StackChoice.BOTH else (self.value,)


class K8sBalancing(StrEnum):
    """How the generator reaches a service: its ClusterIP (`shared`), or every pod's address
    from the headless Service (`round-robin`)."""

    SHARED = Balancing.SHARED.value
    ROUND_ROBIN = Balancing.ROUND_ROBIN.value


@dataclass(frozen=True)
class Sizing:
    """Requests and limits. The defaults fit both stacks and a generator on a 4-CPU kind
    cluster; raise them on a real one. `max_replicas` is each HorizontalPodAutoscaler's ceiling:
    by default a Deployment's own count, so no pod appears in the middle of a measurement."""

    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str = "1"
    memory_limit: str = "512Mi"
    generator_cpu_request: str = "250m"
    generator_memory_request: str = "256Mi"
    generator_cpu_limit: str = "2"
    generator_memory_limit: str = "1Gi"
    max_replicas: int | None = None

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if name.endswith("cpu_request") or name.endswith("cpu_limit"):
                if not _CPU.match(str(value)):
                    raise ValueError(f"--{_flag(name)} {value!r}: expected CPUs, e.g. 250m or 1")
            elif name != "max_replicas" and not _MEMORY.match(str(value)):
                raise ValueError(f"--{_flag(name)} {value!r}: expected memory, e.g. 128Mi or 1Gi")
        if self.max_replicas is not None and not 1 <= self.max_replicas <= MAX_POD_REPLICAS:
            raise ValueError(f"--max-replicas must be between 1 and {MAX_POD_REPLICAS}")


def _flag(name: str) -> str:
    return name.replace("_", "-")


@dataclass(frozen=True)
class Situation:
    """One deployment of one or both stacks. `replicas` is the pod count of the post's
    multi-pod services (addition, subtraction, division); multiplication and percentage run
    one pod each, as in the post. `generators` is the load generator Job's pod count."""

    protocols: tuple[str, ...] = PROTOCOLS
    mesh: str = Mesh.NONE.value
    balancing: str = K8sBalancing.SHARED.value
    image: str = DEFAULT_IMAGE
    generator_image: str = ""
    replicas: int = 2
    generators: int = 1
    sizing: Sizing = field(default_factory=Sizing)

    def __post_init__(self) -> None:
        object.__setattr__(self, "protocols", tuple(str(p) for p in self.protocols))
        if not self.protocols or set(self.protocols) - set(PROTOCOLS):
            raise ValueError(f"--stack must be one of {', '.join(StackChoice)}")
        if self.mesh not in tuple(Mesh):
            raise ValueError(f"--mesh must be among {', '.join(Mesh)}, not {self.mesh!r}")
        if self.balancing not in tuple(K8sBalancing):
            raise ValueError(f"--balancing must be one of {', '.join(K8sBalancing)}")
        if not 1 <= self.replicas <= MAX_POD_REPLICAS:
            raise ValueError(f"--replicas must be between 1 and {MAX_POD_REPLICAS}")
        if not 1 <= self.generators <= MAX_GENERATORS:
            raise ValueError(f"--generators must be between 1 and {MAX_GENERATORS}")
        if not self.image.strip() or any(c.isspace() for c in self.image):
            raise ValueError(f"--image {self.image!r} is not an image reference")
        if not self.generator_image:
            object.__setattr__(self, "generator_image", generator_image_for(self.image))

    @property
    def name(self) -> str:
        """`unmeshed-shared`, `linkerd-shared`, `linkerd-unmeshed-client-shared`, ..."""
        return f"{self.mesh_name}-{self.balancing}"

    @property
    def mesh_name(self) -> str:
        return "unmeshed" if self.mesh == Mesh.NONE else self.mesh

    def phase_name(self, protocol: str, round_number: int = 1) -> str:
        """The phase's name carries the situation: `r1-grpc-shared-linkerd`."""
        return f"r{round_number}-{protocol}-{self.balancing}-{self.mesh_name}"

    def replicas_of(self, service: str) -> int:
        return self.replicas if service in MULTI_POD_SERVICES else 1

    @property
    def service_replicas(self) -> dict[str, int]:
        return {service: self.replicas_of(service) for service in SERVICES}

    def meshed(self, component: str) -> bool:
        """Whether Linkerd injects its proxy into `component` ("calculator" or "loadgen")."""
        if self.mesh == Mesh.NONE:
            return False
        return not (self.mesh == Mesh.LINKERD_UNMESHED_CLIENT and component == "loadgen")

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(namespace_of(protocol) for protocol in self.protocols)

    def to_dict(self) -> dict[str, Any]:
        """What run.json records (replicas per Deployment, not the `replicas` knob)."""
        return {
            "name": self.name,
            "stacks": list(self.protocols),
            "mesh": self.mesh,
            "balancing": self.balancing,
            "replicas": self.service_replicas,
            "generators": self.generators,
            "image": self.image,
            "generator_image": self.generator_image,
            "sizing": asdict(self.sizing),
        }


def namespace_of(protocol: str) -> str:
    return f"{protocol}-calculator"


def generator_image_for(image: str) -> str:
    """The generator image beside a service image: `registry/calcbench:tag` ->
    `registry/calcbench-generator:tag` (the Dockerfile's two targets, k8s/README.md)."""
    if "@" in image:
        raise ValueError("--image is pinned by digest: give --generator-image as well")
    if ":" in image.rsplit("/", 1)[-1]:  # a tag, not a registry's port
        repository, tag = image.rsplit(":", 1)
        return f"{repository}-generator:{tag}"
    return f"{image}-generator"
