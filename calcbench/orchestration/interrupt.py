"""How a run is interrupted: SIGINT (Ctrl-C) or SIGTERM, raised as one exception that names
the signal, so that the exit status does (130 or 143)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the one way a run is interrupted, naming the signal (exit 128 + it)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class SignalLatch:
    """The run's SIGINT/SIGTERM handler: raises `Interrupted`, and remembers the signal.

    Python prints and drops an exception raised by a signal handler while an at-fork hook runs
    (`logging`'s, as a replica is spawned): a Ctrl-C during start-up was lost that way. So
    processes are spawned inside `deferred()`, where the handler only records the signal, and
    `check` raises it afterwards.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._deferring = False
        self._deferred: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        if self._deferring:
            self._deferred = signum
        else:
            raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """The block runs to its end; a signal meanwhile is raised after it. Handlers run on
        the main thread only, so elsewhere (a restart on the spawner thread) nothing changes."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        signum, self._deferred = self._deferred, None
        if signum is not None:
            raise Interrupted(signum)

    def check(self) -> None:
        """Raise `Interrupted` again for a signal that came since `reset`."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    def reset(self) -> None:
        self.signum = None


#: Installed by `calcbench run` for SIGINT and SIGTERM around `run_comparison`.
latch = SignalLatch()
