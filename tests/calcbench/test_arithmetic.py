from __future__ import annotations

import math

import pytest

from calcbench.core.arithmetic import InvalidArgument, compute
from calcbench.core.vocabulary import SERVICES


@pytest.mark.parametrize(
    ("service", "op1", "op2", "expected"),
    [
        ("addition", 2, 3.5, 5.5),
        ("subtraction", 2, 3.5, -1.5),
        ("multiplication", -4, 2.5, -10.0),
        ("division", 7, 2, 3.5),
        ("percentage", 200, 15, 30.0),
        ("percentage", -50, 10, -5.0),
    ],
)
def test_operations(service: str, op1: float, op2: float, expected: float) -> None:
    assert compute(service, op1, op2) == expected


@pytest.mark.parametrize(
    ("service", "op1", "op2", "message"),
    [
        ("division", 1, 0, "division by zero"),
        ("division", 0, 0, "division by zero"),
        ("addition", math.inf, 1, "operands must be finite numbers"),
        ("subtraction", 1, math.nan, "operands must be finite numbers"),
        ("multiplication", 1e200, 1e200, "result is not a finite number"),
        ("percentage", 1e300, 1e300, "result is not a finite number"),
        ("addition", 1.7e308, 1.7e308, "result is not a finite number"),
    ],
)
def test_invalid_arguments(service: str, op1: float, op2: float, message: str) -> None:
    with pytest.raises(InvalidArgument, match=f"^{message}$"):
        compute(service, op1, op2)


def test_percentage_equals_multiply_then_divide_by_100() -> None:
    # The service computes it over the network as divide(multiply(a, b), 100).
    for a, b in [(3.3, 7.1), (1e-300, 1e-300), (123456.789, 0.001)]:
        assert compute("percentage", a, b) == compute(
            "division", compute("multiplication", a, b), 100
        )


def test_unknown_service() -> None:
    with pytest.raises(KeyError, match="unknown service"):
        compute("modulo", 1, 2)


def test_five_services_in_documented_order() -> None:
    assert SERVICES == ("addition", "subtraction", "multiplication", "division", "percentage")
