"""A generator pod's results survive the trip through its log, or fail loudly."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from calcbench.orchestration.k8s.archive import ArchiveError, pack, unpack


def folder(root: Path) -> Path:
    (root / "run").mkdir(parents=True)
    (root / "run" / "summary.csv").write_text("protocol,operation\ngrpc,all\n")
    (root / "pod.json").write_text("{}")
    return root


def test_a_folder_round_trips_through_a_log_with_other_lines(tmp_path: Path) -> None:
    text = f"waiting for addition\n{pack(folder(tmp_path / 'a'))}done: 10 requests\n"
    out = unpack(text, tmp_path / "b")
    assert (out / "run" / "summary.csv").read_text() == "protocol,operation\ngrpc,all\n"
    assert (out / "pod.json").is_file()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda log: "no results here\n", "no results in the log"),
        (lambda log: log.rsplit("-----", 2)[0], "cut short"),
        (lambda log: log.replace("A", "B", 1), "checksum"),
    ],
)
def test_missing_cut_or_corrupted_results_are_refused(tmp_path: Path, damage, message: str) -> None:
    log = pack(folder(tmp_path / "a"))
    with pytest.raises(ArchiveError, match=message):
        unpack(damage(log), tmp_path / "b")


def test_a_path_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    """A log is input from the cluster: the archive cannot write outside its destination."""
    import base64
    import hashlib

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../escaped")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    log = (
        f"----- calcbench results begin sha256={hashlib.sha256(raw).hexdigest()} -----\n"
        f"{base64.b64encode(raw).decode()}\n----- calcbench results end -----\n"
    )
    with pytest.raises(ArchiveError, match="cannot be unpacked"):
        unpack(log, tmp_path / "inside")
    assert not (tmp_path / "escaped").exists()
