"""The seeded workload and its send schedule: pure functions, no clock, no I/O.

Request `i` of a run is the same (operation, operands, intended send time) for REST and gRPC and
whatever the number of workers: the sequence is drawn in fixed-size chunks, chunk `c` from its
own generator seeded with `(seed, c)`, and worker `w` of `W` takes the requests with
`i % W == w`. Vectorised draws keep the cost per request far below a microsecond, so every
worker can draw the whole sequence and keep its share.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

import numpy as np

from loadgen.settings import LoadSettings

CHUNK: Final = 4096
#: Operands are uniform in [-OPERAND_RANGE, OPERAND_RANGE] with two decimals: short JSON bodies,
#: exact enough for every answer to be checked, and never an overflow.
OPERAND_RANGE: Final = 1000.0
_OPERANDS_STREAM: Final = 0
_ARRIVALS_STREAM: Final = 1


class Request(NamedTuple):
    number: int  # position in the whole run's sequence
    offset: float  # intended send time, seconds after the run's start (warm-up included)
    service: str
    op1: float
    op2: float


def _operations(settings: LoadSettings, chunk: int) -> tuple[list[int], list[float], list[float]]:
    """Service indexes (into `settings.services`) and operands of chunk `chunk`."""
    rng = np.random.default_rng([settings.seed, _OPERANDS_STREAM, chunk])
    picks = rng.choice(len(settings.services), size=CHUNK, p=settings.weights)
    op1 = np.round(rng.uniform(-OPERAND_RANGE, OPERAND_RANGE, CHUNK), 2)
    op2 = np.round(rng.uniform(-OPERAND_RANGE, OPERAND_RANGE, CHUNK), 2)
    zero = rng.random(CHUNK) < settings.div_zero
    if "division" in settings.services:
        division = picks == settings.services.index("division")
        # A division not chosen to fail must not fail by accident (op2 rounded to 0.00).
        op2 = np.where(division & (op2 == 0), 1.0, op2)
        op2 = np.where(division & zero, 0.0, op2)
    return picks.tolist(), op1.tolist(), op2.tolist()


def _offsets(settings: LoadSettings, chunk: int, start: float) -> tuple[list[float], float]:
    """Intended send offsets of chunk `chunk` and where the next chunk starts (poisson)."""
    rate = settings.rate or 1.0
    if settings.arrivals == "uniform":
        first = chunk * CHUNK
        return [(first + k) / rate for k in range(CHUNK)], 0.0
    rng = np.random.default_rng([settings.seed, _ARRIVALS_STREAM, chunk])
    times = start + np.cumsum(rng.exponential(1.0 / rate, CHUNK))
    return times.tolist(), float(times[-1])


def requests(settings: LoadSettings, worker: int = 0, workers: int = 1) -> Iterator[Request]:
    """The endless request sequence of `worker` (of `workers`), in send order.

    Offsets follow `settings.arrivals` at `settings.rate`; a closed loop ignores them.
    """
    services = settings.services
    start = 0.0
    for chunk in range(2**62):
        picks, op1, op2 = _operations(settings, chunk)
        offsets, start = _offsets(settings, chunk, start)
        base = chunk * CHUNK
        for k in range((worker - base) % workers, CHUNK, workers):
            yield Request(base + k, offsets[k], services[picks[k]], op1[k], op2[k])
