"""What a run directory records about where and with what it ran."""

from __future__ import annotations

import os
import platform
import socket
import sys
from datetime import UTC, datetime
from importlib import metadata

_PACKAGES = (
    "calcbench",
    "grpcio",
    "aiohttp",
    "httptools",
    "protobuf",
    "hdrhistogram",
    "numpy",
    "psutil",
    "uvloop",
    "orjson",
)


def utc_now() -> str:
    """ISO 8601 UTC with milliseconds, e.g. `2024-05-01T12:00:00.123Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def host_info() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "hostname": socket.gethostname(),
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": sys.version.split()[0]}
    for package in _PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found
