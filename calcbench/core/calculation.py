"""What a calculator service computes for one request, written once for every server.

The REST app, the gRPC `aio` model and the gRPC `sync` model are adapters around these
functions: they read operands off the wire, call a calculation, and map its answer or its
`InvalidArgument` (or their own downstream errors) back onto the wire. A calculation is built
once per process; with no `--delay` and no `--error-rate` it is the bare steps, so a request
pays for nothing else.

Percentage is the one service that calls others. Its steps, in both twins: check the operands,
multiply over the network, divide the product by 100 over the network, check the result. How a
downstream is reached is the caller's `call(service, op1, op2, context)`, where `context` is
whatever the server knows of the request being answered (gRPC: its servicer context, whose
deadline the call passes on; REST: nothing, since HTTP has no deadline to pass on).
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

from calcbench.core.arithmetic import check_operands, check_result, operation
from calcbench.core.delay import sleep_at_least
from calcbench.core.vocabulary import Service

#: A downstream call: `service`'s answer to `op1`, `op2`; it raises `InvalidArgument` for the
#: downstream's invalid argument and an error of its own for anything else.
Call = Callable[[str, float, float, Any], Awaitable[float]]
SyncCall = Callable[[str, float, float, Any], float]

#: Percentage divides multiplication's product by this, over the network like the product.
PERCENT: Final = 100.0
# Plain strings: a call's dict lookup by a StrEnum member takes a slower compare (30 ns).
_MULTIPLICATION: Final = Service.MULTIPLICATION.value
_DIVISION: Final = Service.DIVISION.value


class InjectedError(Exception):
    """A server error the replica was told to answer with (`--error-rate`): HTTP 500 / gRPC
    INTERNAL on the wire, `server_error` in the metrics."""


class Calculate(Protocol):
    """The result for `op1`, `op2`, or `InvalidArgument`; `context` is passed to any call."""

    def __call__(self, op1: float, op2: float, context: Any = None, /) -> Awaitable[float]: ...


class SyncCalculate(Protocol):
    """`Calculate` for a server whose handlers run on threads (the gRPC `sync` model)."""

    def __call__(self, op1: float, op2: float, context: Any = None, /) -> float: ...


def calculation(
    service: str,
    call: Call | None = None,
    delay: float = 0.0,
    error_rate: float = 0.0,
    seed: str = "",
) -> Calculate:
    """The calculation `service` answers with, for a server on an event loop.

    `call` reaches percentage's downstreams (required for percentage, unused otherwise);
    `delay` seconds are waited before each answer (`--delay`, a slow replica); a fraction
    `error_rate` of the calls raise `InjectedError` instead, drawn from `seed` (`failing`).
    """
    if service == Service.PERCENTAGE:
        steps = delayed(percentage(_required(call)), delay)
    else:
        steps = delayed(asynchronous(local(service)), delay)
    return failing(steps, error_rate, seed)


def sync_calculation(
    service: str,
    call: SyncCall | None = None,
    delay: float = 0.0,
    error_rate: float = 0.0,
    seed: str = "",
) -> SyncCalculate:
    """The same calculation for a server whose handlers run on threads."""
    if service == Service.PERCENTAGE:
        steps = sync_delayed(sync_percentage(_required(call)), delay)
    else:
        steps = sync_delayed(local(service), delay)
    return sync_failing(steps, error_rate, seed)


def local(service: str) -> SyncCalculate:
    """The arithmetic of a service that calls none other: `compute`'s rules, bound once."""
    apply = operation(service)

    def calculate(op1: float, op2: float, context: Any = None, /) -> float:
        check_operands(op1, op2)
        return check_result(apply(op1, op2))

    return calculate


def percentage(call: Call) -> Calculate:
    """Percentage over the network: division(multiplication(op1, op2), 100)."""

    async def calculate(op1: float, op2: float, context: Any = None, /) -> float:
        check_operands(op1, op2)
        product = await call(_MULTIPLICATION, op1, op2, context)
        return check_result(await call(_DIVISION, product, PERCENT, context))

    return calculate


def sync_percentage(call: SyncCall) -> SyncCalculate:
    """`percentage`'s steps, one by one, with a blocking `call`."""

    def calculate(op1: float, op2: float, context: Any = None, /) -> float:
        check_operands(op1, op2)
        product = call(_MULTIPLICATION, op1, op2, context)
        return check_result(call(_DIVISION, product, PERCENT, context))

    return calculate


def asynchronous(calculate: SyncCalculate) -> Calculate:
    """A calculation that never waits, as a coroutine function (for an async server)."""

    async def calculate_async(op1: float, op2: float, context: Any = None, /) -> float:
        return calculate(op1, op2, context)

    return calculate_async


def delayed(calculate: Calculate, delay: float) -> Calculate:
    """`calculate` after waiting at least `delay` seconds, inside the server's timer as a slow
    replica's own work would be; `calculate` itself when 0, so the default path is unchanged.

    `sleep_at_least`, not `asyncio.sleep`, since an event loop's timer may fire early.
    """
    if delay <= 0:
        return calculate

    async def slow(op1: float, op2: float, context: Any = None, /) -> float:
        await sleep_at_least(delay)
        return await calculate(op1, op2, context)

    return slow


def sync_delayed(calculate: SyncCalculate, delay: float) -> SyncCalculate:
    """`delayed` for a handler on a thread, which `time.sleep` blocks: it never returns early
    by `perf_counter` (both read CLOCK_MONOTONIC on Linux)."""
    if delay <= 0:
        return calculate

    def slow(op1: float, op2: float, context: Any = None, /) -> float:
        time.sleep(delay)
        return calculate(op1, op2, context)

    return slow


def failing(calculate: Calculate, rate: float, seed: str) -> Calculate:
    """`calculate`, except that a fraction `rate` of the calls raise `InjectedError` at once;
    `calculate` itself when 0.

    The draws come from a generator seeded with `seed` (the replica id), so the twin replicas
    of both stacks fail the same calls of the same sequence of requests.
    """
    if rate <= 0:
        return calculate
    draw = random.Random(seed).random

    async def maybe_failing(op1: float, op2: float, context: Any = None, /) -> float:
        if draw() < rate:
            raise InjectedError(f"injected server error (--error-rate {rate:g})")
        return await calculate(op1, op2, context)

    return maybe_failing


def sync_failing(calculate: SyncCalculate, rate: float, seed: str) -> SyncCalculate:
    """`failing` for a handler on a thread (one draw at a time: `random()` holds the GIL)."""
    if rate <= 0:
        return calculate
    draw = random.Random(seed).random

    def maybe_failing(op1: float, op2: float, context: Any = None, /) -> float:
        if draw() < rate:
            raise InjectedError(f"injected server error (--error-rate {rate:g})")
        return calculate(op1, op2, context)

    return maybe_failing


def _required(call: Any) -> Any:
    if call is None:
        raise ValueError("percentage needs a call to reach its downstream services")
    return call
