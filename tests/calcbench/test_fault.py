"""`--fault slow-replica=SERVICE:INDEX:DELAY`: parsing, the modes it adds, the replica it slows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from calcbench.orchestration.fault import SlowReplica, parse_fault
from calcbench.orchestration.plan import RunSettings, modes_for
from calcbench.orchestration.supervisor import StackSettings
from loadgen import LoadSettings

CALCBENCH = [sys.executable, "-m", "calcbench.cli"]
SLOW = SlowReplica("addition", 1, 0.02)


def test_parse() -> None:
    assert parse_fault("slow-replica=addition:1:0.02") == SLOW
    assert parse_fault(" slow-replica = division : 0 : 1.5 ") == SlowReplica("division", 0, 1.5)
    assert SLOW.replica_id == "addition-1"
    assert SLOW.describe() == "slow-replica=addition:1:0.02"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("addition:1:0.02", "expected slow-replica=SERVICE:INDEX:DELAY"),
        ("dead-replica=addition:1:0.02", "expected slow-replica=SERVICE:INDEX:DELAY"),
        ("slow-replica=addition:1", "expected slow-replica=SERVICE:INDEX:DELAY"),
        ("slow-replica=addition:one:0.02", "expected slow-replica=SERVICE:INDEX:DELAY"),
        ("slow-replica=addition:1:20ms", "expected slow-replica=SERVICE:INDEX:DELAY"),
        ("slow-replica=modulo:1:0.02", "unknown service 'modulo'"),
        ("slow-replica=addition:-1:0.02", "index must be >= 0"),
        ("slow-replica=addition:1:0", r"delay must be seconds in \(0, 10\]"),
        ("slow-replica=addition:1:nan", r"delay must be seconds in \(0, 10\]"),
        ("slow-replica=addition:1:11", r"delay must be seconds in \(0, 10\]"),
    ],
)
def test_bad_faults_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_fault(text)
    assert "\n" not in str(caught.value)


def test_the_modes_a_run_measures() -> None:
    assert modes_for("balancing", "shared", None) == ("shared", "round-robin")
    assert modes_for("balancing", "shared", SLOW) == ("shared", "round-robin", "ewma")
    assert modes_for("default", "ewma", SLOW) == ("ewma",)
    assert modes_for("balancing", "shared", SLOW, "round-robin, ewma") == ("round-robin", "ewma")


def test_the_slow_replica_must_exist() -> None:
    with pytest.raises(ValueError, match="addition-1 does not exist with 1 replica"):
        RunSettings(load=LoadSettings(), out_dir=Path("unused"), fault=SLOW)
    with pytest.raises(ValueError, match="addition-1 does not exist"):
        StackSettings(protocol="rest", slow_replica=SLOW)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--fault", "slow-replica=addition:1"], "expected slow-replica=SERVICE:INDEX:DELAY"),
        (["--fault", "slow-replica=addition:1:0.02"], "addition-1 does not exist"),
        (["--balancing-modes", "shared,fastest"], "balancing modes must be among"),
    ],
)
def test_run_flags_are_checked_before_anything_starts(
    flags: list[str], message: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [*CALCBENCH, "run", "--out", str(tmp_path / "r"), *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert not (tmp_path / "r").exists()
