"""The image and what the pods run in it: the Dockerfile's user and build, the load generator's
script, and the entry points and flags the manifests use, checked against the real code."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from calcbench.core.vocabulary import SERVICES
from tests.k8s.manifests import (
    LOADGEN,
    NAMESPACES,
    REPO,
    Manifest,
    by_kind,
    calculators,
    container,
    env_from_config_maps,
    overlay,
    render,
)

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (word.upper(), rest.strip())
        for line in lines
        if line and not line.startswith("#")
        for word, _, rest in [line.partition(" ")]
    ]


def rendered_containers() -> list[Manifest]:
    docs = render(overlay("linkerd"))
    return [
        container(deployment)
        for namespace in NAMESPACES.values()
        for deployment in by_kind(docs, "Deployment", namespace).values()
    ]


def test_dockerfile_builds_on_python_311_slim_with_the_constraints() -> None:
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert runs.count("-c constraints.txt") == 2, "both pip installs must be pinned"


def test_pods_run_as_the_images_non_root_user() -> None:
    (user,) = [args for word, args in instructions() if word == "USER"]
    uid, _, gid = user.partition(":")
    for box in rendered_containers():
        context = box["securityContext"]
        assert context["runAsNonRoot"] is True
        assert (context["runAsUser"], context["runAsGroup"]) == (int(uid), int(gid))
        assert context["readOnlyRootFilesystem"] is True


def test_every_module_the_pods_run_exists() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for box in rendered_containers():
        command = box["command"]
        if command[:2] == ["python", "-m"]:
            assert (REPO / command[2] / "__main__.py").is_file(), command
        else:
            assert command[0] == "bash"
    assert "calcbench" in scripts


def matches(prefix: str, pattern: str) -> bool:
    """A .dockerignore pattern against a path or one of its parents (the subset of the syntax
    our file uses: `**/name` anywhere, otherwise a glob from the context's root)."""
    if pattern.startswith("**/"):
        return fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], pattern.removeprefix("**/"))
    return prefix.count("/") == pattern.count("/") and fnmatch.fnmatchcase(prefix, pattern)


def ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(matches(prefix, pattern) for prefix in prefixes for pattern in patterns)


def build_context(destination: Path) -> Path:
    """Copy what `docker build .` would send (the tracked and new files, less .dockerignore)."""
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for relative in listed:
        source = REPO / relative
        if source.is_file() and not ignored(relative, patterns):
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    return destination


def test_the_build_context_installs_every_entry_point(tmp_path: Path) -> None:
    """What the image's `pip install .` would install, built from the same context."""
    context = build_context(tmp_path / "context")
    assert not (context / "tests").exists() and not (context / ".venv").exists()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "wheels"),
            str(context),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = (tmp_path / "wheels").glob("calcbench-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in (
        "calculator_rest/__main__.py",
        "calculator_grpc/__main__.py",
        "calcbench/cli/__init__.py",
    ):
        assert module in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "calcbench = calcbench.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def help_text(*command: str) -> str:
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.run(
        [sys.executable, *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("protocol", NAMESPACES)
def test_services_accept_the_flags_the_manifests_pass(protocol: str) -> None:
    docs = render(overlay("unmeshed"))
    deployment = calculators(docs, NAMESPACES[protocol])["percentage"]
    command = container(deployment)["command"]
    usage = help_text(*command[1:])
    for argument in container(deployment)["args"]:
        if argument.startswith("--"):
            assert argument in usage


def loadgen_script() -> str:
    docs = render(overlay("unmeshed"))
    (script,) = {
        cm["data"]["run-load.sh"]
        for cm in by_kind(docs, "ConfigMap", NAMESPACES["rest"]).values()
        if "run-load.sh" in cm.get("data", {})
    }
    return str(script)


def test_loadgen_script_is_valid_bash(tmp_path: Path) -> None:
    path = tmp_path / "run-load.sh"
    path.write_text(loadgen_script())
    subprocess.run(["bash", "-n", str(path)], check=True)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", "--shell=bash", str(path)], check=True)


def test_loadgen_script_has_every_setting_it_reads() -> None:
    docs = render(overlay("unmeshed"))
    loadgen = by_kind(docs, "Deployment", NAMESPACES["rest"])[LOADGEN]
    script = loadgen_script()
    read = set(re.findall(r"\$\{?([A-Z][A-Z_]+)", script))
    for arithmetic in re.findall(r"\(\((.*?)\)\)", script):  # names need no $ in (( ))
        read |= set(re.findall(r"\b[A-Z][A-Z_]+\b", arithmetic))
    assigned = set(re.findall(r"^(?:readonly )?([A-Z][A-Z_]+)=", script, re.MULTILINE))
    (services,) = re.findall(r"^readonly SERVICES=\((.*)\)$", script, re.MULTILINE)
    assert services.split() == list(SERVICES)
    read |= {f"{service.upper()}_ENDPOINT" for service in services.split()}
    assert {"LOAD_PROTOCOL", "LOAD_RATE", "SETTLE_SECONDS"} <= read
    provided = set(env_from_config_maps(docs, loadgen)) | {"BASH_SOURCE"}
    assert read - assigned - provided == set()


def test_calcbench_load_accepts_the_flags_the_script_passes() -> None:
    flags = set(re.findall(r"(--[a-z][a-z-]+) ", loadgen_script()))
    assert {"--protocol", "--balancing", "--rate", "--duration", "--out"} <= flags
    usage = help_text("-c", "from calcbench.cli import main; main()", "load")
    assert flags - set(re.findall(r"--[a-z][a-z-]+", usage)) == set()
