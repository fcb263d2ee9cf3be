"""Latency histograms and counters: pure, mergeable, no clock reads and no I/O.

Histograms are `hdrh` HdrHistograms of microseconds (1 us to 1 h, 3 significant digits, so a
value is off by at most 0.1%). Each worker owns its own; they merge exactly (`add` sums bucket
counts), whatever the number of workers, as in wrk2 and fortio.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from hdrh.histogram import HdrHistogram

HIGHEST_US: Final = 3_600_000_000
SIGNIFICANT_DIGITS: Final = 3

#: hdrh ships no type information; the alias names what is meant.
Histogram = Any
#: (service, outcome, code, expected) -> count
OutcomeKey = tuple[str, str, str, bool]


def new_histogram() -> Histogram:
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT_DIGITS)


def to_us(seconds: float) -> int:
    """Seconds -> whole microseconds inside the histogram's range (negative clock skew -> 0)."""
    return min(max(int(seconds * 1e6), 0), HIGHEST_US)


def encode(histogram: Histogram) -> str:
    """The standard compressed, base64 HdrHistogram encoding (readable by any HDR library)."""
    return str(histogram.encode().decode("ascii"))


def decode(text: str | bytes) -> Histogram:
    return HdrHistogram.decode(text)


def merged(histograms: Iterable[Histogram]) -> Histogram:
    total = new_histogram()
    for histogram in histograms:
        if histogram.get_total_count():
            total.add(histogram)
    return total


@dataclass
class Tally:
    """Everything counted for one phase (warm-up or measured) of one or more workers.

    `intended` holds latency from the intended send time (coordinated-omission corrected),
    `actual` from the actual send time; both over every request, whatever its outcome.
    """

    intended: dict[str, Histogram] = field(default_factory=dict)
    actual: dict[str, Histogram] = field(default_factory=dict)
    outcomes: Counter[OutcomeKey] = field(default_factory=Counter)
    replicas: Counter[tuple[str, str]] = field(default_factory=Counter)

    def histogram(self, kind: str, service: str) -> Histogram:
        table = self.intended if kind == "intended" else self.actual
        if service not in table:
            table[service] = new_histogram()
        return table[service]

    def add(self, other: Tally) -> None:
        for kind, table in (("intended", other.intended), ("actual", other.actual)):
            for service, histogram in table.items():
                self.histogram(kind, service).add(histogram)
        self.outcomes.update(other.outcomes)
        self.replicas.update(other.replicas)

    def requests(self, service: str | None = None) -> int:
        return sum(n for key, n in self.outcomes.items() if service in (None, key[0]))

    def ok(self, service: str | None = None) -> int:
        return sum(
            n for key, n in self.outcomes.items() if key[1] == "ok" and service in (None, key[0])
        )

    def to_wire(self) -> dict[str, Any]:
        """Plain picklable data for the trip from a worker process to the parent."""
        return {
            "intended": _encode_all(self.intended),
            "actual": _encode_all(self.actual),
            "outcomes": list(self.outcomes.items()),
            "replicas": list(self.replicas.items()),
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Tally:
        return cls(
            intended={s: decode(h) for s, h in data["intended"].items()},
            actual={s: decode(h) for s, h in data["actual"].items()},
            outcomes=Counter({tuple(k): n for k, n in data["outcomes"]}),
            replicas=Counter({tuple(k): n for k, n in data["replicas"]}),
        )


def _encode_all(table: Mapping[str, Histogram]) -> dict[str, str]:
    return {service: encode(histogram) for service, histogram in table.items()}
