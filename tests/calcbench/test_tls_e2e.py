"""`calcbench run --tls both --mtls` and `calcbench serve --mtls` through the real CLI: every
phase answers, the report has its TLS/plaintext ratios, and no key material is left anywhere."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from calcbench.core.rundir import TLS_COLUMNS
from calcbench.core.tls import Pki
from calcbench.orchestration.health import is_healthy
from calcbench.orchestration.supervisor import Stack, StackSettings

pytestmark = pytest.mark.xdist_group("stacks")

CALCBENCH = [sys.executable, "-m", "calcbench.cli"]


@pytest.fixture(scope="module")
def tls_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tls-run") / "r"
    command = [*CALCBENCH, "run", "--tls", "both", "--mtls", "--rounds", "2", "--duration", "1"]
    command += ["--warmup", "0.2", "--rate", "60", "--timeout", "5", "--out", str(out)]
    command += ["--no-calibrate"]  # test_run_e2e covers the calibration
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr + done.stdout
    return out


def test_every_phase_ran_and_answered(tls_run: Path) -> None:
    phases = json.loads((tls_run / "run.json").read_text())["phases"]
    assert sum(1 for p in phases if p.get("tls")) == 4 and len(phases) == 8
    for phase in phases:
        with (tls_run / phase["dir"] / "summary.csv").open() as file:
            every = next(r for r in csv.DictReader(file) if r["operation"] == "all")
        assert int(every["ok"]) > 0.5 * int(every["requests"]), phase["name"]
        tls = json.loads((tls_run / phase["dir"] / "run.json").read_text())["endpoints"]
        assert (tls.get("tls") or {}).get("mtls", False) is bool(phase.get("tls"))


def test_the_report_gives_tls_over_plaintext_per_protocol(tls_run: Path) -> None:
    with (tls_run / "tls.csv").open() as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == TLS_COLUMNS
    assert {(r["protocol"], r["metric"]) for r in rows} >= {
        (p, m) for p in ("rest", "grpc") for m in ("p50_ms", "server_cpu_us_per_request")
    }
    assert all(float(r["ratio"]) > 0 for r in rows)
    # TLS records add their header and tag to every message: more bytes each way, always.
    on_wire = [r for r in rows if r["metric"].endswith("bytes_per_request")]
    assert len(on_wire) == 4 and all(float(r["ratio"]) > 1 for r in on_wire)
    assert "TLS against plaintext" in (tls_run / "report.md").read_text()


def test_no_key_material_is_left_in_the_run_directory(tls_run: Path) -> None:
    for path in tls_run.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data and b"key.pem" not in data, path
    # The throwaway CA's folder went with the run.
    ca = json.loads((tls_run / "phases/r1-rest-shared-tls/run.json").read_text())["endpoints"]
    assert not Path(ca["tls"]["ca"]).parent.exists()


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_a_mtls_stack_is_healthy_and_its_endpoints_name_the_ca_only(
    protocol: str, pki: Pki, tmp_path: Path
) -> None:
    settings = StackSettings(protocol, pki=pki, mtls=True, base_port=None, log_dir=tmp_path)
    with Stack(settings) as stack:  # healthy: the health checks spoke mTLS to every replica
        assert stack.endpoints is not None
        stack.endpoints.dump(tmp_path / "endpoints.json")
        # Plaintext health checks get nowhere.
        replica = stack.endpoints.services["percentage"].replicas[0]
        assert not is_healthy(protocol, replica.address, timeout=2)
        assert is_healthy(protocol, replica.address, 2, pki.client(True))
        # A restart (`--fault kill-replica`) waits for the new process over mTLS too.
        assert stack.kill_and_restart("addition-0").seconds > 0
    written = json.loads((tmp_path / "endpoints.json").read_text())
    assert written["tls"] == {"ca": str(pki.ca), "mtls": True}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
