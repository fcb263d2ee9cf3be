"""What percentage tells its caller when a downstream call fails, and the deadline it passes."""

from __future__ import annotations

import grpc
import pytest

from calculator_grpc.downstream import DEADLINE_MARGIN, DownstreamError, downstream_timeout

Code = grpc.StatusCode


@pytest.mark.parametrize(
    ("code", "details", "status", "outcome", "message"),
    [
        (
            Code.INVALID_ARGUMENT,
            "result is not a finite number",
            Code.INVALID_ARGUMENT,
            "invalid_argument",
            "result is not a finite number",
        ),
        (
            Code.UNAVAILABLE,
            "failed to connect",
            Code.UNAVAILABLE,
            "unavailable",
            "multiplication unavailable: failed to connect",
        ),
        (
            Code.DEADLINE_EXCEEDED,
            "Deadline Exceeded",
            Code.DEADLINE_EXCEEDED,
            "timeout",
            "multiplication deadline exceeded: Deadline Exceeded",
        ),
        (
            Code.INTERNAL,
            "boom\nsecond line",
            Code.INTERNAL,
            "server_error",
            "multiplication failed: INTERNAL: boom",
        ),
        (
            Code.UNAVAILABLE,
            None,
            Code.UNAVAILABLE,
            "unavailable",
            "multiplication unavailable: unavailable",
        ),
    ],
)
def test_downstream_failures_map_to_the_callers_status(
    code: grpc.StatusCode,
    details: str | None,
    status: grpc.StatusCode,
    outcome: str,
    message: str,
) -> None:
    error = DownstreamError("multiplication", code, details)
    assert (error.status, error.outcome, error.message) == (status, outcome, message)
    assert "\n" not in error.message


@pytest.mark.parametrize(
    ("remaining", "timeout"),
    [
        (None, None),
        (1e12, None),
        (1.0, 1.0 - DEADLINE_MARGIN),
        (0.0, 0.0),
        (DEADLINE_MARGIN / 2, 0.0),
    ],
)
def test_downstream_timeout_is_what_the_caller_has_left(
    remaining: float | None, timeout: float | None
) -> None:
    assert downstream_timeout(remaining) == timeout
