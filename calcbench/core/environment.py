"""What a result needs to describe itself: package versions, the machine, the git commit, the time.

The one source of these for both run.json files, the run directory's (`calcbench run`) and each
phase's (`calcbench load`), so the two always agree.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

#: The packages that shape the numbers: the services' stacks, the generator's, the analysis'.
PACKAGES = (
    "calcbench", "grpcio", "protobuf", "fastapi", "uvicorn", "uvloop", "httptools",
    "httpx", "orjson", "pydantic", "prometheus-client", "hdrhistogram", "numpy",
    "pandas", "psutil",
)  # fmt: skip


def utc_now() -> str:
    """The time as every run.json records it: ISO 8601 UTC to the millisecond,
    `2024-05-01T12:00:00.123Z` (phases seconds apart still order, and sort as text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def versions() -> dict[str, str | None]:
    """Python's version and each of `PACKAGES`', by name; None (JSON null) for a package that
    is not installed, so a reader tells "absent" from a version without parsing text."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def host() -> dict[str, object]:
    """The machine: CPU count matters most, since generator and services share it."""
    return {
        "cpu_count": os.cpu_count(),
        "affinity": _affinity(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "hostname": socket.gethostname(),
    }


def _affinity() -> int | None:
    """CPUs this process may run on; None where the OS cannot say (macOS)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return len(os.sched_getaffinity(0))


def git_commit(repo: Path | None = None) -> str | None:
    """The commit the code came from, `+dirty` when the tree has changes; None outside git."""
    where = repo or Path(__file__).resolve().parents[2]
    try:
        commit = _git(where, "rev-parse", "HEAD")
        dirty = _git(where, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _git(where: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(where), *args], capture_output=True, text=True, check=True, timeout=10
    )
    return done.stdout.strip()
