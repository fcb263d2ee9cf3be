"""The situation's flags, declared once for `calcbench k8s render`, `deploy` and `bench`, and the
situations they describe (`--mesh a,b` is several: bench measures each in turn)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, TypeVar

import typer

from calcbench.orchestration.k8s.situation import (
    DEFAULT_IMAGE,
    K8sBalancing,
    Mesh,
    Situation,
    Sizing,
    StackChoice,
)

F = TypeVar("F", bound=Callable[..., Any])


def _template(
    *,
    stack: Annotated[StackChoice, typer.Option(help="Which stacks.")] = StackChoice.BOTH,
    mesh: Annotated[
        str,
        typer.Option(
            help=f"{', '.join(Mesh)}; `bench` takes several, comma-separated, and measures "
            "each in turn."
        ),
    ] = Mesh.NONE.value,
    balancing: Annotated[
        K8sBalancing,
        typer.Option(
            help="shared: through each ClusterIP Service; round-robin: every pod of each "
            "headless Service, a request each in turn."
        ),
    ] = K8sBalancing.SHARED,
    image: Annotated[str, typer.Option(help="The services' image.")] = DEFAULT_IMAGE,
    generator_image: Annotated[
        str | None,
        typer.Option(help="The generator's image (default: IMAGE's repository + -generator)."),
    ] = None,
    replicas: Annotated[
        int,
        typer.Option(
            help="Pods of addition, subtraction and division (multiplication and percentage "
            "run one each, as in the post)."
        ),
    ] = 2,
    generators: Annotated[
        int, typer.Option(help="Generator pods; each sends 1/N of the rate.")
    ] = 1,
    cpu_request: Annotated[str, typer.Option(help="CPU requested per calculator pod.")] = "100m",
    memory_request: Annotated[
        str, typer.Option(help="Memory requested per calculator pod.")
    ] = "128Mi",
    generator_cpu_request: Annotated[
        str, typer.Option(help="CPU requested per generator pod.")
    ] = "250m",
    max_replicas: Annotated[
        int | None,
        typer.Option(help="Each HPA's ceiling (default: the Deployment's own count, fixed)."),
    ] = None,
    context: Annotated[str | None, typer.Option(help="kubectl context (default: current).")] = None,
) -> None:
    """Only its signature is used."""


OPTIONS: Final = tuple(inspect.signature(_template, eval_str=True).parameters.values())


def situation_options(command: F) -> F:
    """Add the situation flags to a command's signature (it receives them as `**options`)."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
    taken = {p.name for p in own}
    added = [o for o in OPTIONS if o.name not in taken]
    command.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    return command


def meshes(text: str) -> list[str]:
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found or len(set(found)) != len(found):
        raise ValueError(f"--mesh {text!r}: give one or more of {', '.join(Mesh)}, once each")
    return found


def situations(options: Mapping[str, Any], *, several: bool = False) -> tuple[Situation, ...]:
    """The situations the flags describe; ValueError (one line) when they are not valid."""
    mesh_values = meshes(str(options["mesh"]))
    if len(mesh_values) > 1 and not several:
        raise ValueError("--mesh takes one value here; `calcbench k8s bench` takes several")
    sizing = Sizing(
        cpu_request=options["cpu_request"],
        memory_request=options["memory_request"],
        generator_cpu_request=options["generator_cpu_request"],
        max_replicas=options["max_replicas"],
    )
    return tuple(
        Situation(
            protocols=StackChoice(options["stack"]).protocols,
            mesh=mesh,
            balancing=str(options["balancing"]),
            image=options["image"],
            generator_image=options["generator_image"] or "",
            replicas=options["replicas"],
            generators=options["generators"],
            sizing=sizing,
        )
        for mesh in mesh_values
    )
