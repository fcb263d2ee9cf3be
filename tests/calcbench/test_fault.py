"""`--fault slow-replica=SERVICE:INDEX:DELAY`: parsing, the modes it adds, the replica it slows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from calcbench.orchestration.boot import command, launchable
from calcbench.orchestration.fault import (
    ErrorRate,
    Faults,
    KillReplica,
    SlowReplica,
    parse_fault,
    parse_faults,
)
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


def test_parse_every_kind_more_than_once() -> None:
    faults = parse_faults(
        ["kill-replica=addition:0@1.5", "error-rate=division:0.05", "kill-replica=percentage:1@0"]
    )
    assert faults.slow is None
    assert faults.kills == (KillReplica("addition", 0, 1.5), KillReplica("percentage", 1, 0.0))
    assert faults.error_rates == (ErrorRate("division", 0.05),)
    assert [f.describe() for f in faults.all()] == [
        "kill-replica=addition:0@1.5",
        "kill-replica=percentage:1@0",
        "error-rate=division:0.05",
    ]
    assert parse_faults([]) == Faults()


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["kill-replica=addition:0"], "expected kill-replica=SERVICE:INDEX@SECONDS"),
        (["kill-replica=addition@1"], "expected kill-replica=SERVICE:INDEX@SECONDS"),
        (["kill-replica=addition:0@soon"], "expected kill-replica=SERVICE:INDEX@SECONDS"),
        (["kill-replica=addition:0@-1"], "kill time must be seconds >= 0"),
        (["kill-replica=modulo:0@1"], "unknown service 'modulo'"),
        (["error-rate=division"], "expected error-rate=SERVICE:P"),
        (["error-rate=division:0"], r"error rate must be a fraction in \(0, 1\]"),
        (["error-rate=division:1.5"], r"error rate must be a fraction in \(0, 1\]"),
        (["error-rate=division:0.1", "error-rate=division:0.2"], "one error-rate per service"),
        ([SLOW.describe(), "slow-replica=addition:0:0.1"], "one slow-replica per run"),
    ],
)
def test_bad_fault_lists_are_one_line(texts: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_faults(texts)
    assert "\n" not in str(caught.value)


def test_a_kill_must_fall_inside_the_phase_on_an_existing_replica() -> None:
    kill = KillReplica("addition", 0, 3.0)
    with pytest.raises(ValueError, match="inside the 3 s measured phase"):
        RunSettings(load=LoadSettings(duration=3), out_dir=Path("unused"), kills=(kill,))
    with pytest.raises(ValueError, match="addition-1 does not exist"):
        RunSettings(
            load=LoadSettings(), out_dir=Path("unused"), kills=(KillReplica("addition", 1, 1),)
        )


def test_error_rates_go_on_every_replica_of_their_service() -> None:
    settings = StackSettings(protocol="grpc", replicas=2, error_rates=(ErrorRate("addition", 0.5),))
    for launch in launchable(settings, {}, set()):
        argv = command(settings, launch)
        assert ("--error-rate" in argv) == (launch.service == "addition")
        if launch.service == "addition":
            assert argv[argv.index("--error-rate") + 1] == "0.5"
