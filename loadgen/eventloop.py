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

from loadgen.wakeups import prompt_wakeups

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
    """A selector event loop whose thread wakes promptly (`prompt_wakeups`) while it runs."""

    def run_forever(self) -> None:
        with prompt_wakeups():
            super().run_forever()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop for a load generator worker; create it before opening any connection, so
    that its epoll descriptor has a low number (see `MicrosecondEpollSelector`)."""
    if sys.platform != "linux":
        return asyncio.new_event_loop()
    return OnTimeEventLoop(MicrosecondEpollSelector())
