"""The images and what the pods run in them: the Dockerfile's two targets, its parameters and
user, what each target installs, and the entry points and flags the manifests use, checked
against the real code. (No container runtime here: the Dockerfile is read, not built.)"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.k8s.manifests import (
    NAMESPACES,
    Manifest,
    calculators,
    container,
    generator,
    rendered,
)

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


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


def stages() -> dict[str, list[tuple[str, str]]]:
    """Each stage's name -> its instructions, FROM first."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, args in instructions():
        if word == "FROM":
            current = []
            found[args.split(" AS ")[-1].strip()] = current
        current.append((word, args))
    return found


def ancestry(name: str) -> list[str]:
    """A stage, the stage it starts FROM, and so on, plus the stages it COPYs --from."""
    steps = stages()[name]
    parent = steps[0][1].split(" AS ")[0].strip()
    copied = [m for _, a in steps for m in re.findall(r"--from=(\S+)", a)]
    found = [name]
    for other in [parent, *copied]:
        if other in stages():
            found += ancestry(other)
    return found


def installs(name: str) -> str:
    return " ".join(a for stage in ancestry(name) for w, a in stages()[stage] if w == "RUN")


def rendered_containers() -> list[Manifest]:
    docs = rendered(mesh="linkerd")
    return [
        container(workload)
        for namespace in NAMESPACES.values()
        for workload in [*calculators(docs, namespace).values(), generator(docs, namespace)]
    ]


def test_two_targets_and_the_slim_one_is_the_default() -> None:
    assert {"service", "generator"} <= set(stages())
    assert list(stages())[-1] == "service"


def test_the_base_image_is_a_parameter_and_no_tag_is_fixed() -> None:
    steps = instructions()
    arguments = dict(a.partition("=")[::2] for w, a in steps if w == "ARG")
    assert arguments["BASE_IMAGE"] == "python:${PYTHON_VERSION}-slim"
    assert arguments["PYTHON_VERSION"] == "3.11"
    assert next(a for w, a in steps if w == "FROM") == "${BASE_IMAGE} AS base"
    # Every other stage builds on one of this file's own stages.
    for name, own in stages().items():
        parent = own[0][1].split(" AS ")[0].strip()
        assert parent == "${BASE_IMAGE}" or parent in stages(), name
    assert not re.search(r"calcbench:[0-9]", DOCKERFILE.read_text())


def test_pandas_and_matplotlib_only_in_the_generator() -> None:
    dependencies = " ".join(PYPROJECT["project"]["dependencies"])
    analysis = " ".join(PYPROJECT["project"]["optional-dependencies"]["analysis"])
    for package in ("pandas", "matplotlib"):
        assert package not in dependencies and package in analysis
    assert "optional-dependencies']['analysis']" in installs("generator")
    assert "optional-dependencies" not in installs("service")
    for target in ("service", "generator"):
        assert installs(target).count("pip install") == installs(target).count("-c constraints.txt")


def test_the_services_never_import_pandas_or_matplotlib() -> None:
    """Every module a calculator pod can load, imported in a fresh interpreter."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        "for package in ('calcbench.core', 'calculator_rest', 'calculator_grpc'):\n"
        "    root = importlib.import_module(package)\n"
        "    for info in pkgutil.walk_packages(root.__path__, package + '.'):\n"
        "        if info.name != 'calculator_grpc.codegen':\n"
        "            importlib.import_module(info.name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    assert {"calculator_rest", "calculator_grpc"} <= loaded
    assert not loaded & {"pandas", "matplotlib", "analysis"}


def test_pods_run_as_the_images_non_root_user() -> None:
    for target in ("service", "generator"):
        (user,) = [args for word, args in stages()[target] if word == "USER"]
        uid, _, gid = user.partition(":")
        for box in rendered_containers():
            context = box["securityContext"]
            assert context["runAsNonRoot"] is True
            assert (context["runAsUser"], context["runAsGroup"]) == (int(uid), int(gid))
            assert context["readOnlyRootFilesystem"] is True
        assert ("WORKDIR", "/tmp") in stages()[target]  # the only writable place in a pod


def test_every_module_the_pods_run_exists() -> None:
    scripts = PYPROJECT["project"]["scripts"]
    for box in rendered_containers():
        command = box["command"]
        if command[:2] == ["python", "-m"]:
            assert (REPO / command[2] / "__main__.py").is_file(), command
        else:
            assert command[0] in scripts, command


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
    docs = rendered()
    deployment = calculators(docs, NAMESPACES[protocol])["percentage"]
    command = container(deployment)["command"]
    usage = help_text(*command[1:])
    for argument in container(deployment)["args"]:
        if argument.startswith("--"):
            assert argument in usage


def test_the_generator_command_exists() -> None:
    command = container(generator(rendered(), NAMESPACES["grpc"]))["command"]
    assert command == ["calcbench", "k8s", "generate"]
    usage = help_text("-c", "from calcbench.cli import main; main()", *command[1:])
    assert "generator pod" in usage
