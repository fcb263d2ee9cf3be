"""The calculator's arithmetic and error rules: the one module both transports call.

Keeping the logic here, pure and shared, means a benchmark of the two services measures the
transport and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final


class InvalidArgument(ValueError):
    """An operation's inputs or result are outside what the calculator answers.

    The message is one line; REST maps it to 400, gRPC to INVALID_ARGUMENT.
    """


def _divide(op1: float, op2: float) -> float:
    if op2 == 0:
        raise InvalidArgument("division by zero")
    return op1 / op2


_OPERATIONS: Final[dict[str, Callable[[float, float], float]]] = {
    "addition": lambda a, b: a + b,
    "subtraction": lambda a, b: a - b,
    "multiplication": lambda a, b: a * b,
    "division": _divide,
    "percentage": lambda a, b: _divide(a * b, 100.0),
}


def check_operands(op1: float, op2: float) -> None:
    """Raise `InvalidArgument` unless both operands are finite."""
    if not (math.isfinite(op1) and math.isfinite(op2)):
        raise InvalidArgument("operands must be finite numbers")


def check_result(result: float) -> float:
    """Return `result`, or raise `InvalidArgument` when it is not finite (an overflow)."""
    if not math.isfinite(result):
        raise InvalidArgument("result is not a finite number")
    return result


def operation(service: str) -> Callable[[float, float], float]:
    """`service`'s bare operation, without the checks (raises KeyError for an unknown one)."""
    try:
        return _OPERATIONS[service]
    except KeyError as exc:
        raise KeyError(f"unknown service {service!r}") from exc


def compute(service: str, op1: float, op2: float) -> float:
    """The answer of `service` for `op1`, `op2`, with every error rule applied.

    Percentage is computed here too (`op1*op2/100`) so that clients can check answers; its
    service gets the same value over the network from multiplication and division
    (`calcbench.core.calculation`, where the services' own calculations are).
    """
    check_operands(op1, op2)
    return check_result(operation(service)(op1, op2))
