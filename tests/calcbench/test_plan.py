from __future__ import annotations

from pathlib import Path

import pytest

from calcbench.orchestration.plan import Phase, RunSettings, plan_phases
from loadgen import LoadSettings


def _settings(**changes: object) -> RunSettings:
    return RunSettings(load=LoadSettings(), out_dir=Path("unused"), **changes)  # type: ignore[arg-type]


def test_protocols_alternate_which_goes_first() -> None:
    names = [p.name for p in plan_phases(_settings(rounds=3))]
    assert names == [
        "r1-rest-shared",
        "r1-grpc-shared",
        "r2-grpc-shared",
        "r2-rest-shared",
        "r3-rest-shared",
        "r3-grpc-shared",
    ]


def test_balancing_groups_phases_by_mode() -> None:
    phases = plan_phases(_settings(rounds=2, balancing_modes=("shared", "round-robin")))
    assert [p.balancing for p in phases] == ["shared"] * 4 + ["round-robin"] * 4
    # Each mode has every protocol in every round, once.
    for mode in ("shared", "round-robin"):
        pairs = sorted((p.round, p.protocol) for p in phases if p.balancing == mode)
        assert pairs == [(1, "grpc"), (1, "rest"), (2, "grpc"), (2, "rest")]
    assert Phase(1, "grpc", "round-robin").name == "r1-grpc-round-robin"


def test_ewma_is_a_mode_of_its_own() -> None:
    phases = plan_phases(_settings(rounds=1, balancing_modes=("round-robin", "ewma")))
    assert [p.name for p in phases] == [
        "r1-rest-round-robin",
        "r1-grpc-round-robin",
        "r1-rest-ewma",
        "r1-grpc-ewma",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rounds": 0}, "--rounds"),
        ({"replicas": 10}, "--replicas"),
        ({"scenario": "chaos"}, "--scenario"),
        ({"balancing_modes": ("random",)}, "balancing modes"),
        ({"balancing_modes": ()}, "balancing modes"),
        ({"balancing_modes": ("ewma", "ewma")}, "listed twice"),
    ],
)
def test_bad_settings(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(**changes)


def test_tls_both_interleaves_plaintext_and_tls_in_every_round(tmp_path) -> None:
    from calcbench.orchestration.plan import RunSettings, plan_phases
    from loadgen.settings import LoadSettings

    settings = RunSettings(LoadSettings(), tmp_path, rounds=2, tls_modes=(False, True))
    names = [phase.name for phase in plan_phases(settings)]
    assert names == [
        "r1-rest-shared",
        "r1-grpc-shared",
        "r1-rest-shared-tls",
        "r1-grpc-shared-tls",
        "r2-grpc-shared-tls",
        "r2-rest-shared-tls",
        "r2-grpc-shared",
        "r2-rest-shared",
    ]
