"""`--delay`: the wait of a slow replica before each answer, shared by the async servers."""

from __future__ import annotations

import asyncio
from time import perf_counter


async def sleep_at_least(seconds: float) -> None:
    """Return no sooner than `seconds` after the call, by `perf_counter` (the servers' timer).

    An event loop's timer may fire early by that clock: uvloop's runs in whole milliseconds
    from a time read once per loop iteration, so `asyncio.sleep(0.05)` can end after 49.x ms.
    Sleeping again for what is left makes `--delay` a lower bound, like the sync model's
    `time.sleep`, which never returns early.
    """
    # Elapsed time against `seconds`, as a caller's timer compares it: no rounding of a
    # deadline can make the last comparison pass a few ulps early.
    started = perf_counter()
    while (left := seconds - (perf_counter() - started)) > 0:
        await asyncio.sleep(left)
