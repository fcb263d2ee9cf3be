"""How promptly Linux wakes one thread: its timer slack and its scheduler time slice.

Both are per-thread settings any user may change (Linux; elsewhere these do nothing):

* timer slack (prctl PR_SET_TIMERSLACK): the kernel may delay a timed wake-up by up to the
  slack (50 us by default) to batch wake-ups. 1 ns asks for the deadline itself.
* time slice (sched_setattr's `sched_runtime`, Linux >= 6.12; ignored before): a woken thread
  whose slice is shorter than the running one's preempts it at once, instead of waiting for
  the running thread's slice (up to 1.4 ms on 2 cores) to run out. It changes how soon the
  thread runs, not how much CPU it gets (its weight, nice 0, is unchanged).

One more needs privilege (root, CAP_SYS_NICE or an RLIMIT_RTPRIO above 0), and is asked for
(`--realtime`), never taken by default:

* real-time policy (SCHED_FIFO at the lowest priority): the thread runs as soon as it wakes,
  ahead of every fair-scheduled thread, until it sleeps again. Threads it starts stay fair
  (SCHED_RESET_ON_FORK); the kernel's real-time throttling leaves others 5% of each core.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

#: prctl(2) options (linux/prctl.h).
PR_SET_TIMERSLACK: Final = 29
PR_GET_TIMERSLACK: Final = 30
#: 0 would mean "the thread's default slack" to PR_SET_TIMERSLACK; 1 ns is the least slack.
TIMER_SLACK_NS: Final = 1
#: The shortest slice the kernel accepts (0.1 ms); 0 means the kernel's default slice.
SLICE_NS: Final = 100_000
DEFAULT_SLICE: Final = 0
#: sched_setattr/sched_getattr system call numbers; other machines keep their slice.
_SCHED_ATTR_CALLS: Final = {"x86_64": (314, 315), "aarch64": (274, 275)}
#: Policies whose slice `sched_runtime` sets: SCHED_OTHER, SCHED_BATCH.
_FAIR_POLICIES: Final = (0, 3)

#: The lowest real-time priority: above every fair thread, below any other real-time one.
REALTIME_PRIORITY: Final = 1

_LIBC: Final = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


class _SchedAttr(ctypes.Structure):
    """struct sched_attr as of Linux 3.14 (SCHED_ATTR_SIZE_VER0, 48 bytes)."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("sched_policy", ctypes.c_uint32),
        ("sched_flags", ctypes.c_uint64),
        ("sched_nice", ctypes.c_int32),
        ("sched_priority", ctypes.c_uint32),
        ("sched_runtime", ctypes.c_uint64),
        ("sched_deadline", ctypes.c_uint64),
        ("sched_period", ctypes.c_uint64),
    ]


def timer_slack() -> int | None:
    """The calling thread's timer slack in nanoseconds; None where it cannot be read."""
    if _LIBC is None:
        return None
    slack = int(_LIBC.prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0))
    return slack if slack >= 0 else None


def set_timer_slack(nanoseconds: int) -> bool:
    """Set the calling thread's timer slack (threads it starts keep the process default)."""
    if _LIBC is None:
        return False
    return int(_LIBC.prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0)) == 0


def _sched_attr() -> _SchedAttr | None:
    calls = _SCHED_ATTR_CALLS.get(platform.machine())
    if _LIBC is None or calls is None:
        return None
    attr = _SchedAttr()
    if _LIBC.syscall(calls[1], 0, ctypes.byref(attr), ctypes.sizeof(attr), 0) != 0:
        return None
    return attr if attr.sched_policy in _FAIR_POLICIES else None


def time_slice() -> int | None:
    """The calling thread's time slice in nanoseconds; None where it cannot be read."""
    attr = _sched_attr()
    return None if attr is None else int(attr.sched_runtime)


def set_time_slice(nanoseconds: int) -> bool:
    """Set the calling thread's time slice (`DEFAULT_SLICE`: the kernel's), keeping its policy
    and nice value. False where it cannot be set (not Linux, not a fair policy, old kernel)."""
    attr = _sched_attr()
    if _LIBC is None or attr is None:
        return False
    attr.size = ctypes.sizeof(attr)
    attr.sched_runtime = nanoseconds
    setattr_call = _SCHED_ATTR_CALLS[platform.machine()][0]
    return int(_LIBC.syscall(setattr_call, 0, ctypes.byref(attr), 0)) == 0


def set_realtime(on: bool) -> bool:
    """Make the calling thread SCHED_FIFO at `REALTIME_PRIORITY` (threads it starts later stay
    fair), or fair again (SCHED_OTHER). False where it is not permitted or not Linux."""
    if sys.platform != "linux":
        return False
    policy = os.SCHED_FIFO | os.SCHED_RESET_ON_FORK if on else os.SCHED_OTHER
    try:
        os.sched_setscheduler(0, policy, os.sched_param(REALTIME_PRIORITY if on else 0))
    except PermissionError:
        return False
    return True


def realtime_permitted() -> bool:
    """Whether this process may make a thread real-time (tried on the calling thread, which
    is fair again afterwards)."""
    if not set_realtime(True):
        return False
    set_realtime(False)
    return True


@contextmanager
def realtime_thread(on: bool) -> Iterator[None]:
    """While the block runs, the calling thread is real-time if `on` (see `set_realtime`).
    Raises PermissionError where it may not be."""
    if not on:
        yield
        return
    if not set_realtime(True):
        raise PermissionError("a real-time thread needs root, CAP_SYS_NICE or RLIMIT_RTPRIO")
    try:
        yield
    finally:
        set_realtime(False)


@contextmanager
def prompt_wakeups() -> Iterator[None]:
    """While the block runs, the calling thread has 1 ns timer slack and the shortest slice;
    after it, its previous slack and the kernel's default slice."""
    slack = timer_slack()
    set_timer_slack(TIMER_SLACK_NS)
    set_time_slice(SLICE_NS)
    try:
        yield
    finally:
        set_time_slice(DEFAULT_SLICE)
        if slack is not None:
            set_timer_slack(slack)
