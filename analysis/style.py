"""Names, orders, colours and number formats shared by tables, charts and reports.

One place, so that REST is the same colour and `29.6rps` the same format everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from calcbench.core.buckets import BUCKETS
from calcbench.core.vocabulary import PROTOCOLS

OPERATIONS: Final = ("addition", "subtraction", "multiplication", "division", "percentage")
PROTOCOL_LABELS: Final = {"rest": "REST (HTTP/1.1)", "grpc": "gRPC (HTTP/2)"}
SHORT_LABELS: Final = {"rest": "REST", "grpc": "gRPC"}
#: Colour-blind safe pair (Okabe-Ito orange and blue), used by every chart.
PROTOCOL_COLORS: Final = {"rest": "#E69F00", "grpc": "#0072B2"}
BALANCING_STYLES: Final = {"shared": "-", "round-robin": "--", "ewma": ":"}


#: The services' first latency bucket, in milliseconds (10 us).
FIRST_BUCKET_MS = BUCKETS[0] * 1000


def ordered(values: Iterable[str], order: Iterable[str]) -> list[str]:
    """`values` deduplicated, known names in `order` first, unknown ones after, sorted."""
    present = set(values)
    known = [v for v in order if v in present]
    return known + sorted(present - set(known))


def label(protocol: str) -> str:
    return SHORT_LABELS.get(protocol, protocol)


def color(protocol: str) -> str:
    return PROTOCOL_COLORS.get(protocol, "#777777")


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def fmt_num(value: float | None, digits: int = 3) -> str:
    """Significant-digit format without exponent for the ranges a benchmark produces."""
    if _missing(value):
        return "-"
    assert value is not None
    if value == 0 or abs(value) >= 10 ** (digits - 1):
        return f"{value:.0f}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{value:.{decimals}f}"


def fmt_ms(value: float | None) -> str:
    return "-" if _missing(value) else f"{fmt_num(value)}ms"


def fmt_server_ms(value: float | None) -> str:
    """A percentile from the services' histogram: inside its first bucket (0 to 10 us) the
    interpolated value is an artifact of the bucket, so it is shown as a bound."""
    if not _missing(value) and (value or 0.0) < FIRST_BUCKET_MS:
        return f"<{FIRST_BUCKET_MS:g}ms"
    return fmt_ms(value)


def fmt_rps(value: float | None) -> str:
    return "-" if _missing(value) else f"{value:.1f}rps"


def fmt_pct(value: float | None) -> str:
    return "-" if _missing(value) else f"{100 * (value or 0.0):.2f}%"


def fmt_share(value: float | None) -> str:
    return "-" if _missing(value) else f"{100 * (value or 0.0):.0f}%"


def fmt_ratio(value: float | None) -> str:
    return "-" if _missing(value) else f"{value:.2f}x"


def fmt_ci(low: float | None, high: float | None) -> str:
    if _missing(low) or _missing(high):
        return "n/a"
    return f"{low:.2f}-{high:.2f}"


def fmt_count(value: float | None) -> str:
    if _missing(value):
        return "-"
    assert value is not None
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


_BALANCING_ORDER: Final = ("shared", "round-robin", "ewma")
_SORT_ORDERS: Final = {
    "protocol": PROTOCOLS,
    "balancing": _BALANCING_ORDER,
    "operation": (*OPERATIONS, "all"),
    "service": (*OPERATIONS, "all"),
}


def sort_key(column: str, values: Iterable[object]) -> list[tuple[int, str]]:
    """Sort key putting known names in their natural order (REST first, `all` last)."""
    order = _SORT_ORDERS.get(column, ())
    keys = []
    for value in values:
        text = str(value)
        rank = order.index(text) if text in order else len(order) + (text == "all")
        keys.append((rank, text.rjust(12) if text.isdigit() else text))
    return keys
