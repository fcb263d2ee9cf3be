"""`calcbench k8s`: the same comparison in a Kubernetes cluster, driven through `kubectl`.

render prints the manifests; deploy applies them and waits until the situation is really
there; bench deploys, measures and deletes each situation in turn and builds the reports;
delete removes the stacks. `generate` is what the generator pods run.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from calcbench.cli.k8s_options import situation_options, situations
from calcbench.core.console import console, err_console, fail
from calcbench.orchestration.k8s.archive import ArchiveError
from calcbench.orchestration.k8s.bench import BenchFailed, BenchSettings, bench
from calcbench.orchestration.k8s.cluster import Waits, delete, deploy
from calcbench.orchestration.k8s.generator import GeneratorFailed, generate
from calcbench.orchestration.k8s.kubectl import Kubectl, KubectlError
from calcbench.orchestration.k8s.manifests import render, to_yaml, write_files
from calcbench.orchestration.k8s.situation import StackChoice
from loadgen.options import load_options, settings_from_options

k8s_app = typer.Typer(
    help="Deploy, measure and delete the stacks in a Kubernetes cluster (needs kubectl).",
    no_args_is_help=True,
)

#: The load flags that a situation sets itself, or that mean nothing in a cluster.
_NOT_LOAD = ("protocol", "endpoints_file", "endpoint", "out", "balancing", "realtime")


def _say(message: str) -> None:
    err_console.print(f"[bold]calcbench k8s[/bold] {message}", highlight=False)


def _kubectl(options: dict[str, Any]) -> Kubectl:
    return Kubectl(context=options.get("context"))


@k8s_app.command("render")
@situation_options
@load_options(exclude=_NOT_LOAD)
def render_command(
    out: Annotated[
        Path | None, typer.Option(help="Write one file per object here instead of stdout.")
    ] = None,
    **options: Any,
) -> None:
    """Print the manifests of one situation (one YAML stream), or write them as files."""
    try:
        (situation,) = situations(options)
        documents = render(situation, settings_from_options(options, protocol="rest"))
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    if out is None:
        sys.stdout.write(to_yaml(documents))
        return
    try:
        written = write_files(documents, out)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from exc
    console.print(f"{len(written)} manifests in {out} (kubectl apply -R -f {out})")


@k8s_app.command("deploy")
@situation_options
def deploy_command(**options: Any) -> None:
    """Apply one situation, then wait until every Deployment has its pods ready, every
    headless Service lists them and Linkerd meshes exactly the pods the situation says."""
    try:
        (situation,) = situations(options)
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    try:
        deploy(_kubectl(options), situation, _say)
    except KubectlError as exc:
        raise fail(str(exc)) from exc
    console.print(f"deployed: {situation.name} in {', '.join(situation.namespaces)}")


@k8s_app.command("delete")
def delete_command(
    stack: Annotated[StackChoice, typer.Option(help="Which stacks.")] = StackChoice.BOTH,
    context: Annotated[str | None, typer.Option(help="kubectl context (default: current).")] = None,
) -> None:
    """Delete the stacks' namespaces and wait until they are gone."""
    try:
        delete(Kubectl(context=context), stack.protocols, _say)
    except KubectlError as exc:
        raise fail(str(exc)) from exc
    console.print("deleted")


def _default_out() -> Path:
    return Path("results") / datetime.now(UTC).strftime("k8s-%Y%m%dT%H%M%SZ")


@k8s_app.command("bench")
@situation_options
@load_options(exclude=_NOT_LOAD)
def bench_command(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for one run directory per situation (default results/k8s-<UTC>)."
        ),
    ] = None,
    start_delay: Annotated[
        float, typer.Option(help="Seconds from creating a generator Job to its pods' start.")
    ] = 30.0,
    rollout_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for a situation to be deployed.")
    ] = 600.0,
    **options: Any,
) -> None:
    """For each --mesh in turn: deploy, run the generator Job against each stack, bring every
    pod's results back, delete; then build each situation's report (and compare them)."""
    try:
        found = situations(options, several=True)
        load = settings_from_options(options, protocol="rest")
        settings = BenchSettings(
            found, load, out or _default_out(), start_delay, Waits(rollout=rollout_timeout)
        )
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    try:
        run_dirs = bench(_kubectl(options), settings, _say)
    except KubectlError as exc:
        raise fail(str(exc)) from exc
    except BenchFailed as exc:
        _reports(exc.completed, settings.out_dir)  # what was measured before it failed
        raise fail(str(exc)) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    _reports(run_dirs, settings.out_dir)


def _reports(run_dirs: list[Path], out: Path) -> None:
    from analysis import build_report
    from analysis.console import print_run_summary
    from analysis.report import compare_runs

    for run_dir in run_dirs:
        build_report(run_dir)
        print_run_summary(run_dir, console)
        console.print(f"[bold]report[/bold]: {run_dir / 'report.html'}")
    if len(run_dirs) > 1:
        compare_runs(run_dirs, out / "compare")
        console.print(f"[bold]compare[/bold]: {out / 'compare' / 'compare.csv'}")


def _emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@k8s_app.command("generate", hidden=True)
def generate_command() -> None:
    """What a generator pod runs: its share of the load, results printed to its log."""
    try:
        code = generate(os.environ, _say, _emit)
    except (ValueError, GeneratorFailed, ArchiveError) as exc:
        raise fail(str(exc)) from exc
    raise typer.Exit(code)
