"""What a result needs to describe itself: package versions, the machine, the git commit."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "calcbench", "grpcio", "protobuf", "fastapi", "uvicorn", "uvloop", "httptools",
    "aiohttp", "httpx", "orjson", "pydantic", "prometheus-client", "hdrhistogram", "pandas",
)  # fmt: skip


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def host() -> dict[str, object]:
    """The machine: CPU count matters most, since generator and services share it."""
    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "hostname": socket.gethostname(),
    }


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
