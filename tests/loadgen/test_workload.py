"""The seeded workload: identical for both protocols and any number of workers."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest

from calcbench.core.vocabulary import SERVICES
from loadgen.settings import LoadSettings
from loadgen.workload import CHUNK, OPERAND_RANGE, Request, requests


def take(settings: LoadSettings, n: int, worker: int = 0, workers: int = 1) -> list[Request]:
    return list(itertools.islice(requests(settings, worker, workers), n))


def test_same_seed_same_sequence_for_both_protocols() -> None:
    rest = take(LoadSettings(protocol="rest", seed=7), 3000)
    grpc = take(LoadSettings(protocol="grpc", seed=7), 3000)
    assert rest == grpc
    assert take(LoadSettings(seed=8), 3000) != rest


def test_connection_settings_do_not_change_the_workload() -> None:
    base = take(LoadSettings(seed=3), 500)
    other = LoadSettings(seed=3, channels=4, connections=2, balancing="round-robin", timeout=3)
    assert take(other, 500) == base


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_workers_split_the_one_sequence(workers: int) -> None:
    """Worker w takes every request i with i % W == w: together they send exactly the
    single-worker sequence, across chunk boundaries too."""
    n = 2 * CHUNK + 123
    single = take(LoadSettings(seed=5, workers=1), n)
    settings = LoadSettings(seed=5, workers=workers)
    shares = [take(settings, n // workers + 1, w, workers) for w in range(workers)]
    merged = sorted(itertools.chain.from_iterable(shares), key=lambda r: r.number)[:n]
    assert merged == single
    for w, share in enumerate(shares):
        assert all(r.number % workers == w for r in share)


def test_uniform_schedule_is_absolute() -> None:
    sent = take(LoadSettings(rate=250), CHUNK + 10)
    assert [r.offset for r in sent] == [i / 250 for i in range(CHUNK + 10)]


def test_poisson_schedule_has_the_requested_mean_rate() -> None:
    n = 3 * CHUNK
    sent = take(LoadSettings(rate=500, arrivals="poisson", seed=2), n)
    offsets = [r.offset for r in sent]
    assert all(b > a for a, b in itertools.pairwise(offsets))
    # n exponential gaps of mean 1/500: their sum has relative sd 1/sqrt(n) ~ 1%; allow 5 sd.
    assert offsets[-1] == pytest.approx(n / 500, rel=5 / math.sqrt(n))
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    # Exponential gaps: about 63% are shorter than the mean (a uniform schedule: none).
    assert 0.58 < sum(g < 1 / 500 for g in gaps) / len(gaps) < 0.68
    assert offsets == [
        r.offset
        for r in take(LoadSettings(rate=500, arrivals="poisson", seed=2, protocol="grpc"), n)
    ]


def test_mix_weights_and_division_by_zero_share() -> None:
    """20,000 draws: a share p has sd sqrt(p(1-p)/n) < 0.0035; the bounds are > 5 sd wide."""
    settings = LoadSettings(mix=(("addition", 1), ("division", 3)), div_zero=0.25, seed=11)
    sent = take(settings, 20_000)
    counts = Counter(r.service for r in sent)
    assert set(counts) == {"addition", "division"}
    assert counts["division"] / len(sent) == pytest.approx(0.75, abs=0.02)
    divisions = [r for r in sent if r.service == "division"]
    zero = sum(r.op2 == 0 for r in divisions) / len(divisions)
    assert zero == pytest.approx(0.25, abs=0.02)


def test_no_accidental_or_injected_zero_without_div_zero() -> None:
    sent = take(LoadSettings(mix=(("division", 1),), div_zero=0), 10_000)
    assert all(r.op2 != 0 for r in sent)


def test_operands_are_finite_short_and_in_range() -> None:
    sent = take(LoadSettings(seed=9), 5000)
    assert Counter(r.service for r in sent).keys() == set(SERVICES)
    for r in sent:
        for value in (r.op1, r.op2):
            assert math.isfinite(value) and abs(value) <= OPERAND_RANGE
            assert round(value, 2) == value
