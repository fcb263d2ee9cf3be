"""The one call every bare loop of `client_loops` makes, and what a right answer is.

What calcbench's targets do per call: a deadline, the JSON or protobuf body of op1=1.5
op2=2.25 (the native tools' operands), the result decoded and the replica id read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from calcbench.orchestration.native import OP1, OP2

#: The calibration's call timeout: long enough that a busy machine never turns a call into a
#: timeout; a deadline costs the same whatever its length.
TIMEOUT: Final = 10.0
#: The replica id the benchmark's servers are started with.
REPLICA: Final = "bench"
#: (result, replica) of a right answer.
EXPECTED: Final = (OP1 + OP2, REPLICA)

Answer = tuple[float, str | None]
AsyncCall = Callable[[], Awaitable[Answer]]
SyncCall = Callable[[], Answer]

__all__ = ["EXPECTED", "OP1", "OP2", "REPLICA", "TIMEOUT", "Answer", "AsyncCall", "SyncCall"]
