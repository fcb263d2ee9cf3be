"""One outcome scheme for both protocols, and the check of every answer."""

from __future__ import annotations

import pytest

from calcbench.core.vocabulary import CLIENT_OUTCOMES
from loadgen.outcomes import Reply, grpc_outcome, http_outcome, judge


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "ok"),
        (400, "invalid_argument"),
        (502, "unavailable"),
        (503, "unavailable"),
        (504, "timeout"),
        (500, "server_error"),
        (501, "server_error"),
        (422, "server_error"),
        (413, "server_error"),
        (404, "server_error"),
    ],
)
def test_http_status(status: int, outcome: str) -> None:
    assert http_outcome(status) == outcome


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("OK", "ok"),
        ("INVALID_ARGUMENT", "invalid_argument"),
        ("UNAVAILABLE", "unavailable"),
        ("DEADLINE_EXCEEDED", "timeout"),
        ("INTERNAL", "server_error"),
        ("UNKNOWN", "server_error"),
        ("RESOURCE_EXHAUSTED", "server_error"),
        ("UNIMPLEMENTED", "server_error"),
    ],
)
def test_grpc_status(code: str, outcome: str) -> None:
    assert grpc_outcome(code) == outcome


def test_every_mapped_outcome_is_in_the_scheme() -> None:
    mapped = {http_outcome(s) for s in range(100, 600)} | {
        grpc_outcome(c) for c in ("OK", "INVALID_ARGUMENT", "UNAVAILABLE", "DEADLINE_EXCEEDED")
    }
    assert mapped <= set(CLIENT_OUTCOMES)


@pytest.mark.parametrize(
    ("reply", "service", "op1", "op2", "judged"),
    [
        (Reply("ok", "200", 5.0), "addition", 2, 3, ("ok", False)),
        (Reply("ok", "OK", 0.1 + 0.2), "addition", 0.1, 0.2, ("ok", False)),
        (Reply("ok", "200", 6.0), "percentage", 20, 30, ("ok", False)),
        (Reply("ok", "200", 5.5), "addition", 2, 3, ("wrong_result", False)),
        (Reply("ok", "200", None), "addition", 2, 3, ("wrong_result", False)),
        (Reply("ok", "OK", 0.0), "division", 1, 0, ("wrong_result", False)),
        (Reply("invalid_argument", "400"), "division", 1, 0, ("invalid_argument", True)),
        (
            Reply("invalid_argument", "INVALID_ARGUMENT"),
            "division",
            1,
            2,
            ("invalid_argument", False),
        ),
        (Reply("unavailable", "ConnectionRefusedError"), "division", 1, 0, ("unavailable", False)),
        (Reply("timeout", "DEADLINE_EXCEEDED"), "addition", 1, 2, ("timeout", False)),
    ],
)
def test_judge(reply: Reply, service: str, op1: float, op2: float, judged: tuple[str, bool]):
    assert judge(reply, service, op1, op2) == judged
