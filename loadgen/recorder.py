"""A worker's accumulator: per-second statistics, handed on as each second completes.

Requests belong to the second of their intended send time (open loop) or actual send time
(closed loop), counted from the end of the warm-up: warm-up seconds are negative. A second is
complete once its time has passed and none of its requests is still in flight; it is then
emitted (time series) and folded into the phase's `Tally`. Only the open seconds are held, so
memory grows with operations x seconds-in-flight (at most `timeout` + 1), never with time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from loadgen.stats import Histogram, Tally, decode, encode, merged, new_histogram, to_us


@dataclass
class SecondStats:
    """Requests, errors and latency from the intended send time, per operation, in one second."""

    second: int
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    intended: dict[str, Histogram] = field(default_factory=dict)
    pending: int = 0

    def all_histogram(self) -> Histogram:
        return merged(self.intended.values())

    def to_wire(self) -> dict[str, Any]:
        hists = {s: encode(h) for s, h in self.intended.items()}
        return {
            "second": self.second,
            "requests": dict(self.requests),
            "errors": dict(self.errors),
            "intended": hists,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> SecondStats:
        hists = {s: decode(h) for s, h in data["intended"].items()}
        return cls(data["second"], Counter(data["requests"]), Counter(data["errors"]), hists)

    @classmethod
    def merge(cls, second: int, parts: Iterable[SecondStats]) -> SecondStats:
        total = cls(second)
        for part in parts:
            total.requests.update(part.requests)
            total.errors.update(part.errors)
            for service, histogram in part.intended.items():
                if service not in total.intended:
                    total.intended[service] = new_histogram()
                total.intended[service].add(histogram)
        return total


class Recorder:
    """Counts one worker's requests. `begin` when a request leaves, `record` when it ends."""

    def __init__(self, warmup: float, duration: float, emit: Callable[[SecondStats], None]):
        self.warmup_seconds = warmup
        self.first = math.floor(-warmup)
        self.last = math.ceil(duration) - 1
        self.measured = Tally()
        self.warmup = Tally()
        self.lag = new_histogram()
        self._emit = emit
        self._open: dict[int, SecondStats] = {}
        self._next = self.first

    def second_of(self, offset: float) -> int:
        return math.floor(offset - self.warmup_seconds)

    def begin(self, second: int) -> None:
        stats = self._open.get(second)
        if stats is None:
            stats = self._open[second] = SecondStats(second)
        stats.pending += 1

    def record(  # the hot path: one flat call per request, no object built
        self,
        second: int,
        service: str,
        intended: float,
        actual: float,
        outcome: str,
        code: str,
        expected: bool,
        replica: str | None,
    ) -> None:
        """One finished request; `intended`/`actual` are its latencies in seconds."""
        stats = self._open.get(second)
        if stats is None:  # finished after `finish` gave up on it
            return
        stats.pending -= 1
        stats.requests[service] += 1
        if outcome != "ok":
            stats.errors[service] += 1
        histogram = stats.intended.get(service)
        if histogram is None:
            histogram = stats.intended[service] = new_histogram()
        histogram.record_value(to_us(intended))
        tally = self.measured if second >= 0 else self.warmup
        tally.histogram("actual", service).record_value(to_us(actual))
        tally.outcomes[(service, outcome, code, expected)] += 1
        if replica is not None:
            tally.replicas[(service, replica)] += 1

    def flush(self, offset: float) -> None:
        """Emit, in order, every second that has ended by `offset` and has nothing in flight."""
        while self._next <= self.last and offset >= self.warmup_seconds + self._next + 1:
            stats = self._open.get(self._next)
            if stats is not None and stats.pending:
                return
            self._close(self._next)

    def finish(self, stop_offset: float) -> None:
        """Emit every second up to the one `stop_offset` falls in, in flight or not."""
        last = min(self.last, self.second_of(stop_offset))
        while self._next <= last:
            self._close(self._next)

    def _close(self, second: int) -> None:
        stats = self._open.pop(second, None) or SecondStats(second)
        tally = self.measured if second >= 0 else self.warmup
        for service, histogram in stats.intended.items():
            tally.histogram("intended", service).add(histogram)
        self._next = second + 1
        self._emit(stats)
