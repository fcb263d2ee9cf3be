"""The rows of the run directory's tables, built from merged tallies (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from calcbench.core.rundir import LATENCY_COLUMNS
from loadgen.percentiles import latency_ms
from loadgen.rundir import Row
from loadgen.stats import Tally, encode, merged


def summary_rows(
    protocol: str, services: Sequence[str], tally: Tally, seconds: float, kind: str
) -> list[Row]:
    """One row per operation of the mix, then `all`; latency from the `kind` send time
    (`intended`: coordinated-omission corrected, or `actual`)."""
    table = tally.intended if kind == "intended" else tally.actual
    rows = [
        _summary_row(protocol, s, tally, seconds, [table[s]] if s in table else [], s)
        for s in services
    ]
    rows.append(_summary_row(protocol, "all", tally, seconds, list(table.values()), None))
    return rows


def _summary_row(
    protocol: str,
    operation: str,
    tally: Tally,
    seconds: float,
    hists: list[Any],
    service: str | None,
) -> Row:
    requests, ok = tally.requests(service), tally.ok(service)
    latency = latency_ms(merged(hists))
    return [
        protocol,
        operation,
        requests,
        ok,
        requests - ok,
        ok / requests if requests else None,
        requests / seconds if seconds > 0 else None,
        *(latency[column] for column in LATENCY_COLUMNS),
    ]


def error_rows(protocol: str, tally: Tally) -> list[Row]:
    """Every non-ok (operation, outcome, code, expected) with its count."""
    return [
        [protocol, service, outcome, code, count, expected]
        for (service, outcome, code, expected), count in sorted(tally.outcomes.items())
        if outcome != "ok"
    ]


def replica_rows(protocol: str, tally: Tally) -> list[Row]:
    return [
        [protocol, service, replica, count]
        for (service, replica), count in sorted(tally.replicas.items())
    ]


def histograms_document(protocol: str, tally: Tally) -> dict[str, Any]:
    """`histograms.json`: base64 HdrHistogram encodings per operation and `all`, in us."""
    document: dict[str, Any] = {"protocol": protocol, "unit": "us"}
    for kind, table in (("intended", tally.intended), ("actual", tally.actual)):
        encoded = {service: encode(h) for service, h in sorted(table.items())}
        encoded["all"] = encode(merged(table.values()))
        document[kind] = encoded
    return document


def totals(tally: Tally) -> dict[str, int]:
    requests, ok = tally.requests(), tally.ok()
    return {"requests": requests, "ok": ok, "errors": requests - ok}
