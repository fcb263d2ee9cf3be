"""A generator pod's results, carried in its log: a folder packed as base64 lines between two
marker lines, and unpacked on the other side with its checksum verified.

The log is the one thing `kubectl` can still read from a completed Job's pod (`kubectl cp` and
`exec` need a running container), so the pod prints its results there as its last words.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import textwrap
from pathlib import Path
from typing import Final

BEGIN: Final = "----- calcbench results begin sha256="
END: Final = "----- calcbench results end -----"
LINE: Final = 76


class ArchiveError(ValueError):
    """A log without complete, intact results; the message says which."""


def pack(folder: Path) -> str:
    """`folder`'s files as marked base64 lines (a gzipped tar, names relative to it)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(folder)))
    data = buffer.getvalue()
    body = textwrap.wrap(base64.b64encode(data).decode("ascii"), LINE)
    return "\n".join([f"{BEGIN}{hashlib.sha256(data).hexdigest()} -----", *body, END]) + "\n"


def _block(log: str) -> tuple[str, list[str]]:
    """The last complete block of `log`: its checksum and its base64 lines."""
    lines = [line.strip() for line in log.splitlines()]
    starts = [i for i, line in enumerate(lines) if line.startswith(BEGIN)]
    if not starts:
        raise ArchiveError("no results in the log (the generator did not finish)")
    start = starts[-1]
    try:
        end = lines.index(END, start)
    except ValueError:
        raise ArchiveError("the results in the log are cut short") from None
    digest = lines[start].removeprefix(BEGIN).removesuffix(" -----")
    return digest, lines[start + 1 : end]


def unpack(log: str, destination: Path) -> Path:
    """Extract the results printed in `log` into `destination` (created); ArchiveError when
    they are missing, cut short or corrupted."""
    digest, body = _block(log)
    try:
        data = base64.b64decode("".join(body), validate=True)
    except ValueError as exc:
        raise ArchiveError(f"the results in the log are not base64: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise ArchiveError("the results in the log do not match their checksum")
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            # The "data" filter refuses absolute paths, links out of the folder and devices.
            tar.extractall(destination, filter="data")
    except tarfile.TarError as exc:
        raise ArchiveError(f"the results in the log cannot be unpacked: {exc}") from exc
    return destination
