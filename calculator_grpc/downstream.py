"""Percentage's downstream calls: what their failures become for its caller, and their deadline.

Shared by both server models so that sync and aio percentage services fail the same way.
"""

from __future__ import annotations

from typing import Final

import grpc

# time_remaining() of a call without a deadline is huge (gRPC's infinite future); above this
# we call downstream without a timeout rather than with an absurd one.
_NO_DEADLINE: Final = 86_400.0

# The downstream deadline is the caller's remaining time minus this margin, so that our own
# DEADLINE_EXCEEDED, which names the downstream, reaches the caller before its timer fires.
DEADLINE_MARGIN: Final = 0.002


class DownstreamError(Exception):
    """A call to `downstream` failed with `code`; `status`, `outcome` and `message` say what
    percentage answers its caller (and counts in its metrics)."""

    def __init__(self, downstream: str, code: grpc.StatusCode, details: str | None) -> None:
        self.status, self.outcome, self.message = translate(downstream, code, details)
        super().__init__(self.message)


def translate(
    downstream: str, code: grpc.StatusCode, details: str | None
) -> tuple[grpc.StatusCode, str, str]:
    """(status for our caller, metrics outcome, one-line message) for a failed downstream call.

    An invalid argument (e.g. a product that overflows) is the caller's fault and passes through
    unchanged; unavailable and deadline keep their code and name the downstream.
    """
    text = (details or "").splitlines()[0] if details else code.name.lower()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return code, "invalid_argument", text
    if code == grpc.StatusCode.UNAVAILABLE:
        return code, "unavailable", f"{downstream} unavailable: {text}"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return code, "timeout", f"{downstream} deadline exceeded: {text}"
    return grpc.StatusCode.INTERNAL, "server_error", f"{downstream} failed: {code.name}: {text}"


def downstream_timeout(remaining: float | None) -> float | None:
    """The timeout for a downstream call made with `remaining` seconds left to our caller."""
    if remaining is None or remaining > _NO_DEADLINE:
        return None
    return max(remaining - DEADLINE_MARGIN, 0.0)
