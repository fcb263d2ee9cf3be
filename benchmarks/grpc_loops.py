"""gRPC clients for the bare loops: each one channel (one HTTP/2 connection) to `addition`.

grpc.aio as `loadgen.grpc_target.GrpcTarget` calls; the sync stub blocking in a plain loop
(the floor of grpcio's Python stubs); and the sync stub brought onto an asyncio loop two ways:
`.future()` whose completion (on grpcio's polling thread) wakes the loop through
`call_soon_threadsafe` (what `asyncio.wrap_future` does for a `concurrent.futures.Future`,
which a grpc future is not), or the blocking call handed to a one-thread executor.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from benchmarks.floor_call import OP1, OP2, TIMEOUT, Answer, AsyncCall, SyncCall
from calcbench.core.protos.calculator.v1.calculator_pb2 import Operands
from calcbench.core.rpc import channel_target, unary_method
from calcbench.core.vocabulary import REPLICA_HEADER

READY_SECONDS = 5.0


def replica(metadata: Sequence[tuple[str, Any]] | None) -> str | None:
    """The replica id in a sync call's initial metadata (a sequence of key/value pairs)."""
    for key, value in metadata or ():
        if key == REPLICA_HEADER:
            return str(value)
    return None


@contextlib.asynccontextmanager
async def aio_client(address: str) -> AsyncIterator[AsyncCall]:
    target, options = channel_target([address])
    channel = grpc.aio.insecure_channel(target, options=options)
    method = unary_method(channel, "addition")

    async def call() -> Answer:
        pending = method(Operands(op1=OP1, op2=OP2), timeout=TIMEOUT)
        response = await pending
        metadata = await pending.initial_metadata()
        return response.result, metadata.get(REPLICA_HEADER)

    try:
        await asyncio.wait_for(channel.channel_ready(), READY_SECONDS)
        yield call
    finally:
        await channel.close()


@contextlib.contextmanager
def sync_method(address: str) -> Iterator[Any]:
    """The addition multicallable on a ready sync channel."""
    target, options = channel_target([address])
    with grpc.insecure_channel(target, options=options) as channel:
        grpc.channel_ready_future(channel).result(timeout=READY_SECONDS)
        yield unary_method(channel, "addition")


@contextlib.contextmanager
def sync_client(address: str) -> Iterator[SyncCall]:
    with sync_method(address) as method:

        def call() -> Answer:
            response, done = method.with_call(Operands(op1=OP1, op2=OP2), timeout=TIMEOUT)
            return response.result, replica(done.initial_metadata())

        yield call


@contextlib.asynccontextmanager
async def future_client(address: str) -> AsyncIterator[AsyncCall]:
    loop = asyncio.get_running_loop()

    def wake(waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_result(None)

    with sync_method(address) as method:

        async def call() -> Answer:
            future = method.future(Operands(op1=OP1, op2=OP2), timeout=TIMEOUT)
            waiter = loop.create_future()
            future.add_done_callback(lambda _: loop.call_soon_threadsafe(wake, waiter))
            await waiter
            return future.result().result, replica(future.initial_metadata())

        yield call


@contextlib.asynccontextmanager
async def executor_client(address: str) -> AsyncIterator[AsyncCall]:
    loop = asyncio.get_running_loop()
    with sync_client(address) as blocking, ThreadPoolExecutor(max_workers=1) as executor:

        async def call() -> Answer:
            return await loop.run_in_executor(executor, blocking)

        yield call
