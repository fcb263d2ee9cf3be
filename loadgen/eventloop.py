"""The event loop every worker runs: asyncio's selector loop, made to wake up on time.

An open loop's schedule lag is mostly how late the loop's timer wakes it, and two things make
stock asyncio on Linux wake late:

* epoll waits in whole milliseconds and CPython rounds every timeout *up*, so a timer due in
  0.2 ms fires after 1 ms. `MicrosecondEpollSelector` waits with select() instead, whose
  timeout is in microseconds, on the one epoll descriptor (readable when any registered
  descriptor is ready), then lets epoll collect the events without waiting. It scales like
  epoll, at one more system call when the wait ends with events (none when a timer ends it).
  (`selectors.PollSelector` waits in milliseconds too; `selectors.SelectSelector` is as
  precise but refuses descriptors above 1023 and copies every registered descriptor on every
  wait.)
* the kernel may delay a timed wake-up by the thread's timer slack (50 us by default), and a
  woken thread may wait for a busy core until the running thread's time slice ends (the
  services share the cores). `OnTimeEventLoop` gives the thread running it 1 ns of slack and
  the shortest slice while it runs (`loadgen.wakeups`).

Measured with benchmarks/pacing_lag.py (one worker, the five services on the same 2 vCPUs,
quiet machine, 8 s runs, ranges over runs; lag in ms, generator CPU per request in us; REST
through `calcbench.core.http1`):

                 stock asyncio: lag p50  p99       CPU     this: lag p50  p99        CPU
    rest 250/s   0.65-0.68     1.2      275-296         0.070-0.079    0.20-0.21  277-288
    grpc 250/s   0.61-0.65     1.1      491-515         0.058-0.062    0.17       511-577
    rest 2000/s  0.37          1.1      117-121         0.047-0.050    0.14-0.15  147-166
    grpc 2000/s  0.37-0.42     2.9-3.2  244-256         0.16-0.24      2.9-3.7    259-268
    grpc 2000/s, --realtime (SCHED_FIFO loop thread):   0.047          0.11-0.12  326-332
    rest 2000/s, --realtime:                            0.041-0.042    0.09-0.12  141-144

(grpc 250/s: the 577 us run had 28% of the cores taken by others.)

At 2,000/s being on time costs CPU: the stock loop woke once per ~1 ms and sent two requests,
one of them late; this one wakes for each (1.7 context switches per request against 0.7, at
~55 us each on this VM). gRPC at 2,000/s stays late: grpc.aio keeps the loop busy (~180 us
per call) and the five gRPC services fill both cores, so the woken loop waits for a core.
Only a real-time loop thread (`--realtime`: privileged, asked for) leaves on time, at 25% more
CPU per request for gRPC (none for REST). A loop thread at nice -10 instead measured no
better (p99 55-72 ms, two runs beside 16% of others' load).
The short slice pays next to busy neighbours (rest 250/s beside a busy process: p99 1.2-1.6
-> 0.6-0.75 ms); a final busy-wait (`loadgen+spin`: polls through waits under 0.2 ms) cost
40 us more per request at 2,000/s for a p99 no better.

Not uvloop: its millisecond timers fire up to 1 ms early and the pacing loop then spins (a
no-op target at 2,000 requests/s cost 490 us of CPU per request under uvloop, 90 us under
asyncio).
"""

from __future__ import annotations

import asyncio
import select
import selectors
import sys
from typing import Final

from loadgen.wakeups import prompt_wakeups, realtime_thread

#: select(2)'s limit on descriptor numbers (glibc).
FD_SETSIZE: Final = 1024


class MicrosecondEpollSelector(selectors.EpollSelector):
    """An epoll selector whose timeouts are kept to the microsecond, not rounded up to a ms.

    select() takes descriptors below `FD_SETSIZE` only: should the epoll descriptor be above,
    this waits as `EpollSelector` does, in milliseconds.
    """

    def __init__(self) -> None:
        super().__init__()
        self._precise = self.fileno() < FD_SETSIZE

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if self._precise and timeout is not None and timeout > 0:
            if not select.select([self.fileno()], [], [], timeout)[0]:
                return []  # a timer's wake-up: nothing is ready, no need to ask epoll
            timeout = 0
        return super().select(timeout)


class OnTimeEventLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose thread wakes promptly (`prompt_wakeups`) while it runs,
    and with `realtime`, runs real-time (`realtime_thread`)."""

    def __init__(self, selector: selectors.BaseSelector, realtime: bool = False) -> None:
        super().__init__(selector)
        self.realtime = realtime

    def run_forever(self) -> None:
        with prompt_wakeups(), realtime_thread(self.realtime):
            super().run_forever()


def new_event_loop(realtime: bool = False) -> asyncio.AbstractEventLoop:
    """The loop for a load generator worker; create it before opening any connection, so
    that its epoll descriptor has a low number (see `MicrosecondEpollSelector`). `realtime`
    (Linux only): its thread runs SCHED_FIFO while it runs (needs privilege)."""
    if sys.platform != "linux":
        return asyncio.new_event_loop()
    return OnTimeEventLoop(MicrosecondEpollSelector(), realtime)
