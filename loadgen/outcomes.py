"""One outcome scheme for both protocols, and the check of every answer (pure).

A target turns what its protocol said into a `Reply` (outcome + raw code); `judge` then checks
the answer against the locally computed value, so a wrong answer is counted, never trusted.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

from calcbench.core.arithmetic import InvalidArgument, compute

_HTTP: Final = {
    200: "ok",
    400: "invalid_argument",
    502: "unavailable",
    503: "unavailable",
    504: "timeout",
}
_GRPC: Final = {
    "OK": "ok",
    "INVALID_ARGUMENT": "invalid_argument",
    "UNAVAILABLE": "unavailable",
    "DEADLINE_EXCEEDED": "timeout",
}


class Reply(NamedTuple):
    """What one call returned: outcome, the protocol's raw code, the answer, the replica id."""

    outcome: str
    code: str
    value: float | None = None
    replica: str | None = None


def http_outcome(status: int) -> str:
    """400 -> invalid_argument, 502/503 -> unavailable, 504 -> timeout; any other status
    but 200 (other 5xx, or a 4xx the generator should never cause) -> server_error."""
    return _HTTP.get(status, "server_error")


def grpc_outcome(code_name: str) -> str:
    """A `grpc.StatusCode` name -> outcome; INTERNAL, UNKNOWN and the rest -> server_error."""
    return _GRPC.get(code_name, "server_error")


def judge(reply: Reply, service: str, op1: float, op2: float) -> tuple[str, bool]:
    """The final outcome of `reply` and whether it was an error the workload injected.

    `ok` stays `ok` only if the answer equals the local `compute` (to 1e-9 relative, though
    IEEE arithmetic on both sides should agree exactly); `invalid_argument` is expected when the
    local computation raises `InvalidArgument` too (a division by zero).
    """
    if reply.outcome == "ok":
        try:
            expected = compute(service, op1, op2)
        except InvalidArgument:
            return "wrong_result", False
        value = reply.value
        good = value is not None and (value == expected or math.isclose(value, expected))
        return ("ok" if good else "wrong_result"), False
    if reply.outcome == "invalid_argument":
        try:
            compute(service, op1, op2)
        except InvalidArgument:
            return "invalid_argument", True
    return reply.outcome, False
