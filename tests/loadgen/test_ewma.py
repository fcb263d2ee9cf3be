"""Peak-EWMA with power-of-two choices, on a clock the tests set (pure)."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from loadgen.ewma import DECAY_SECONDS, PeakEwma, RttEstimate, two_choices
from loadgen.ewma_target import observed_rtt
from loadgen.outcomes import Reply

FAST, SLOW = 0.0005, 0.020


def balancer(count: int = 2, seed: int = 1) -> PeakEwma:
    return PeakEwma(count, random.Random(seed), now=0.0)


def answer(ewma: PeakEwma, index: int, rtt: float, now: float) -> None:
    """One request sent to `index` at `now`, answered after `rtt`."""
    ewma.outstanding[index] += 1
    ewma.done(index, rtt, now + rtt)


def test_a_slower_answer_is_taken_at_once_a_faster_one_gradually() -> None:
    estimate = RttEstimate(now=0.0)
    assert estimate.observe(SLOW, 0.0) == SLOW  # the peak
    # 0.1 s later a fast answer moves it by 1 - exp(-0.1 / tau) of the gap, no more.
    weight = math.exp(-0.1 / DECAY_SECONDS)
    assert estimate.observe(FAST, 0.1) == pytest.approx(SLOW * weight + FAST * (1 - weight))


def test_an_estimate_not_heard_from_decays_toward_zero() -> None:
    estimate = RttEstimate(now=0.0)
    estimate.observe(SLOW, 0.0)
    assert estimate.read(DECAY_SECONDS) == pytest.approx(SLOW / math.e)
    assert estimate.read(10 * DECAY_SECONDS) < SLOW * 1e-4


def test_prefers_the_faster_replica() -> None:
    ewma = balancer()
    answer(ewma, 0, SLOW, 0.0)
    answer(ewma, 1, FAST, 0.0)
    picks: Counter[int] = Counter()
    for step in range(100):  # 100 requests in 0.1 s, each answered before the next
        now = 0.03 + step * 0.001
        index = ewma.pick(now)
        picks[index] += 1
        ewma.done(index, FAST if index else SLOW, now + 0.0005)
    assert picks == {1: 100}


def test_requests_in_flight_count_against_a_replica() -> None:
    ewma = balancer()
    answer(ewma, 0, SLOW, 0.0)
    answer(ewma, 1, FAST, 0.0)
    # Nothing comes back: the fast replica takes requests until (n + 1) x 0.5 ms > ~20 ms.
    picks = [ewma.pick(0.03) for _ in range(60)]
    first_slow = picks.index(0)
    assert 36 <= first_slow <= 42 and picks[:first_slow] == [1] * first_slow
    assert ewma.outstanding == [picks.count(0), picks.count(1)]


def test_a_slow_replica_is_tried_again_once_its_estimate_has_decayed() -> None:
    ewma = balancer()
    answer(ewma, 0, SLOW, 0.0)
    answer(ewma, 1, FAST, 0.0)
    first_retry = None
    for step in range(1, 1000):  # one request each 10 ms, fast answers
        now = step * 0.01
        index = ewma.pick(now)
        ewma.done(index, FAST if index else SLOW, now + 0.0005)
        if index == 0:
            first_retry = now
            break
    # 20 ms decays below 0.5 ms after tau * ln(40) = 3.7 s (give or take one step).
    assert first_retry == pytest.approx(DECAY_SECONDS * math.log(SLOW / FAST), abs=0.05)


def test_two_choices_are_two_different_replicas() -> None:
    rng = random.Random(7)
    assert all(set(two_choices(rng, 2)) == {0, 1} for _ in range(200))
    pairs = [two_choices(rng, 5) for _ in range(2000)]
    assert all(a != b and 0 <= a < 5 and 0 <= b < 5 for a, b in pairs)
    assert len(set(pairs)) == 20  # every ordered pair turns up
    assert two_choices(rng, 1) == (0, 0)


def _picks(seed: int) -> list[int]:
    """Five equal replicas answering at once: only the random draws decide."""
    ewma = balancer(count=5, seed=seed)
    picks = []
    for step in range(50):
        index = ewma.pick(step * 0.01)
        picks.append(index)
        ewma.done(index, FAST, step * 0.01 + FAST)
    return picks


def test_the_same_seed_gives_the_same_choices() -> None:
    assert _picks(3) == _picks(3)
    assert _picks(3) != _picks(4)
    assert set(_picks(3)) == {0, 1, 2, 3, 4}


def test_one_replica_always_gets_the_request() -> None:
    ewma = balancer(count=1)
    assert [ewma.pick(0.0) for _ in range(3)] == [0, 0, 0]
    with pytest.raises(ValueError):
        balancer(count=0)


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [("ok", 0.002), ("invalid_argument", 0.002), ("unavailable", 1.0), ("timeout", 1.0)],
)
def test_a_call_nobody_answered_counts_as_the_whole_timeout(outcome: str, expected: float) -> None:
    assert observed_rtt(Reply(outcome, "x"), 0.002, timeout=1.0) == expected
