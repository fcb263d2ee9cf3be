"""The generator Job's contract: N pods share one load exactly, and the pod reads back what
the manifest wrote."""

from __future__ import annotations

import pytest

from calcbench.orchestration.k8s.generator_plan import GeneratorPlan, completion_index, split
from loadgen.settings import LoadSettings


@pytest.mark.parametrize(("total", "parts"), [(5, 2), (4, 4), (7, 3), (1, 1)])
def test_split_shares_add_up_and_differ_by_one_at_most(total: int, parts: int) -> None:
    shares = split(total, parts)
    assert sum(shares) == total and len(shares) == parts and max(shares) - min(shares) <= 1


def test_open_loop_pods_send_their_share_of_the_rate_with_their_own_seed() -> None:
    plan = GeneratorPlan(LoadSettings(rate=250.0, seed=7), generators=4)
    shares = [plan.share(i) for i in range(4)]
    assert sum(s.rate or 0 for s in shares) == pytest.approx(250.0)
    assert [s.seed for s in shares] == [7, 8, 9, 10]  # never the same requests twice


def test_closed_loop_pods_share_the_callers() -> None:
    plan = GeneratorPlan(LoadSettings(concurrency=5, workers=3), generators=2)
    assert [(s.concurrency, s.workers) for s in map(plan.share, range(2))] == [(3, 3), (2, 2)]
    with pytest.raises(ValueError, match="at least --generators"):
        GeneratorPlan(LoadSettings(concurrency=1), generators=2)


def test_the_environment_round_trips() -> None:
    load = LoadSettings(
        protocol="grpc", balancing="round-robin", rate=90.0, mix=(("addition", 2.0),)
    )
    plan = GeneratorPlan(load, 3, 1700000000.5, replicas={"addition": 2})
    environ = {**plan.to_env(), "JOB_COMPLETION_INDEX": "2"}
    assert GeneratorPlan.from_env(environ) == plan
    assert completion_index(environ) == 2


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "CALCBENCH_LOAD is not set"),
        ({"CALCBENCH_LOAD": "[1]"}, "not a load's settings"),
        ({"CALCBENCH_LOAD": "{}", "CALCBENCH_REPLICAS": "adition=2"}, "bad entry"),
    ],
)
def test_a_wrong_environment_is_one_line(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GeneratorPlan.from_env(environ)


def test_an_index_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 0 to 1"):
        GeneratorPlan(LoadSettings(), generators=2).share(2)
