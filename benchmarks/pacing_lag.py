"""How late open-loop requests leave (schedule lag), per generator variant, on a real stack.

    python benchmarks/pacing_lag.py [--protocols rest grpc] [--rates 250 2000]
                                    [--variants asyncio loadgen] [--duration 10] [--repeat 1]

For each protocol: `calcbench serve <protocol> --base-port 0` (the five services, one replica
each, unpinned: the generator shares the machine's cores with them, as in `make demo`); then,
for each rate and variant, one `calcbench load` run (one worker, all five operations) in a
child process whose worker runs that variant. Runs alternate between variants, so that a noisy
neighbour weighs on each the same. Reported from each run.json: schedule lag p50/p99/max (ms)
and the generator's CPU microseconds per request (its whole process: loop, sampler, collector);
then `others %`: the CPU that processes outside this benchmark (not the stack, not the
generator) or the hypervisor (steal) took during the run, in % of all cores. Above a few %,
the run measured the neighbours as much as the generator: repeat it (`--repeat`), read quiet
runs, or let each run wait for a quiet machine (`--quiet 5`).

Variants: `asyncio` is the generator before this benchmark: the stock epoll loop (millisecond
timeouts, 50 us timer slack), a coroutine sleeping until each due time, garbage collections
during the run. `loadgen` is the generator as shipped: `loadgen.eventloop.new_event_loop`
(`MicrosecondEpollSelector`, 1 ns timer slack, the shortest time slice), requests sent from
timer callbacks, the heap frozen while sending (`loadgen.worker.frozen_heap`). In between,
with timer callbacks: loops alone, heap not frozen: `select` (`selectors.SelectSelector`),
`epoll-us` (`MicrosecondEpollSelector`), each also `+slack` (1 ns timer slack), `loadgen-gc`
(the shipped loop); `loadgen-noslice` (as shipped, but the default time slice);
`loadgen+spin` (as shipped, but polling instead of sleeping through waits under 0.2 ms); and
`loadgen+fifo` (as shipped with `--realtime`: the loop's thread real-time; needs root or
CAP_SYS_NICE, and takes a core from the services whenever it wakes, so it is never the default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil

from calcbench.core.endpoints import Endpoints
from loadgen import eventloop, wakeups
from loadgen.pacing import MAX_BURST, TICK_SECONDS, Pacer
from loadgen.workload import Request

#: `loadgen+spin`: waits shorter than this are polled through, not slept.
SPIN_SECONDS = 0.0002


class SlackOnlyLoop(asyncio.SelectorEventLoop):
    """1 ns timer slack for the thread running it, the default time slice (this process only)."""

    def run_forever(self) -> None:
        wakeups.set_timer_slack(wakeups.TIMER_SLACK_NS)
        super().run_forever()


async def sleeping_open_loop(self: Pacer, requests: Iterator[Request]) -> None:
    """The open loop before `loadgen.pacing._Timers`: a coroutine sleeping until each due time
    (one more loop iteration and a future per request)."""
    burst = 0
    for request in requests:
        if request.offset >= self.end:
            return
        due = self.t0 + request.offset
        if due > time.monotonic():
            burst = 0
            while (delay := due - time.monotonic()) > 0 and not self.stopped:
                await asyncio.sleep(min(delay, TICK_SECONDS))
        elif (burst := burst + 1) >= MAX_BURST:
            burst = 0
            await asyncio.sleep(0)
        if self.stopped:
            return
        self.send(request, due)


class SpinningSelector(eventloop.MicrosecondEpollSelector):
    """Polls without blocking, instead of sleeping, through waits shorter than `SPIN_SECONDS`."""

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout <= 0 or timeout >= SPIN_SECONDS:
            return super().select(timeout)
        deadline = time.monotonic() + timeout
        while not (ready := super().select(0)) and time.monotonic() < deadline:
            pass
        return ready


@dataclass(frozen=True)
class Variant:
    new_loop: Callable[[], asyncio.AbstractEventLoop]
    frozen_heap: bool = False
    sleeping_pacer: bool = False


VARIANTS: dict[str, Variant] = {
    "asyncio": Variant(asyncio.new_event_loop, sleeping_pacer=True),
    "select": Variant(lambda: asyncio.SelectorEventLoop(selectors.SelectSelector())),
    "select+slack": Variant(lambda: SlackOnlyLoop(selectors.SelectSelector())),
    "epoll-us": Variant(lambda: asyncio.SelectorEventLoop(eventloop.MicrosecondEpollSelector())),
    "epoll-us+slack": Variant(lambda: SlackOnlyLoop(eventloop.MicrosecondEpollSelector())),
    "loadgen-gc": Variant(eventloop.new_event_loop),
    "loadgen-noslice": Variant(
        lambda: SlackOnlyLoop(eventloop.MicrosecondEpollSelector()), frozen_heap=True
    ),
    "loadgen": Variant(eventloop.new_event_loop, frozen_heap=True),
    "loadgen+spin": Variant(
        lambda: eventloop.OnTimeEventLoop(SpinningSelector()), frozen_heap=True
    ),
    "loadgen+fifo": Variant(lambda: eventloop.new_event_loop(realtime=True), frozen_heap=True),
}
SERVE_SECONDS = 60.0
QUIET_SAMPLE_SECONDS = 3.0


@dataclass(frozen=True)
class Row:
    protocol: str
    rate: float
    variant: str
    p50: float
    p99: float
    maximum: float
    cpu_us: float
    others: float


@contextmanager
def stack(protocol: str, work: Path) -> Iterator[tuple[int, Path]]:
    """`calcbench serve` in its own session; yields its pid and endpoints file, stops it on exit."""
    endpoints = work / f"{protocol}-endpoints.json"
    command = [sys.executable, "-m", "calcbench.cli", "serve", protocol, "--base-port", "0"]
    server = subprocess.Popen(
        [*command, "--endpoints-file", str(endpoints)],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_healthy(server, endpoints)
        yield server.pid, endpoints
    finally:
        stop(server)


def wait_healthy(server: subprocess.Popen[bytes], endpoints: Path) -> None:
    """Until `serve` has written the whole endpoints file (it does once the stack is healthy)."""
    deadline = time.monotonic() + SERVE_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"calcbench serve exited with {server.returncode}")
        try:
            Endpoints.load(endpoints)
            return
        except ValueError:  # not written yet, or half-written
            time.sleep(0.2)
    raise RuntimeError(f"calcbench serve not healthy after {SERVE_SECONDS:g} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM (serve stops its replicas), then SIGKILL to the whole session if it hangs."""
    if server.poll() is None:
        server.terminate()
        with suppress(subprocess.TimeoutExpired):
            server.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # replicas left behind, if any
    server.wait()


def load(
    protocol: str,
    stack_pid: int,
    endpoints: Path,
    rate: float,
    variant: str,
    args: argparse.Namespace,
) -> Row:
    """One `calcbench load` run of `variant`, in a child process (this script with --child)."""
    out = Path(args.work) / f"{protocol}-{rate:g}-{variant}-{time.monotonic_ns()}"
    flags = ["--protocol", protocol, "--endpoints-file", str(endpoints), "--rate", f"{rate:g}"]
    flags += ["--duration", f"{args.duration:g}", "--warmup", f"{args.warmup:g}"]
    command = [sys.executable, __file__, "--child", variant, "load", *flags, "--out", str(out)]
    if args.quiet is not None:
        wait_quiet(stack_pid, args.quiet, args.quiet_wait)
    before = cpu_snapshot(stack_pid)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=args.duration + 120)
    others = others_percent(before, cpu_snapshot(stack_pid))
    generator = json.loads((out / "run.json").read_text())["generator"]
    lag = generator["lag_ms"]
    cpu = generator["cpu_us_per_request"]
    return Row(protocol, rate, variant, lag["p50"], lag["p99"], lag["max"], cpu, others)


@dataclass(frozen=True)
class CpuSnapshot:
    wall: float
    busy: float  # all cores: every process, and what the hypervisor took (steal)
    ours: float  # the stack's processes and this script's finished children (the generator)


def cpu_snapshot(stack_pid: int) -> CpuSnapshot:
    times = psutil.cpu_times()
    # guest time is counted in user time already; steal is a core taken by the hypervisor.
    busy = times.user + times.nice + times.system + times.irq + times.softirq + times.steal
    stack = [psutil.Process(stack_pid), *psutil.Process(stack_pid).children(recursive=True)]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = sum(_cpu(p) for p in stack) + children.ru_utime + children.ru_stime
    return CpuSnapshot(time.monotonic(), busy, ours)


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def wait_quiet(stack_pid: int, percent: float, seconds: float) -> None:
    """Until other processes use less than `percent` of the cores for a few seconds (at most
    `seconds`; then the run goes ahead, its `others %` telling how busy it was)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = cpu_snapshot(stack_pid)
        time.sleep(QUIET_SAMPLE_SECONDS)
        if others_percent(before, cpu_snapshot(stack_pid)) < percent:
            return


def others_percent(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """CPU used by processes outside this benchmark between two snapshots, % of all cores."""
    foreign = (after.busy - before.busy) - (after.ours - before.ours)
    return max(foreign, 0.0) * 100 / ((after.wall - before.wall) * (psutil.cpu_count() or 1))


def child(name: str, argv: list[str]) -> None:
    """`calcbench <argv>` with the load generator's worker as in variant `name`."""
    from calcbench.cli import app
    from loadgen import runner, worker

    variant = VARIANTS[name]
    # The one worker (--workers 1) runs in this process, on the loop the runner creates
    # (the variant's, whatever --realtime says: `loadgen+fifo` is the real-time one).
    runner.new_event_loop = lambda _realtime=False: variant.new_loop()  # type: ignore[attr-defined,assignment]
    if not variant.frozen_heap:
        worker.frozen_heap = nullcontext  # type: ignore[assignment]
    if variant.sleeping_pacer:
        Pacer._open_loop = sleeping_open_loop  # type: ignore[method-assign]
    sys.argv = ["calcbench", *argv]
    app()


def measure(args: argparse.Namespace) -> Iterator[Row]:
    for protocol in args.protocols:
        with stack(protocol, Path(args.work)) as (pid, endpoints):
            for rate in args.rates:
                for _ in range(args.repeat):
                    for variant in args.variants:
                        yield load(protocol, pid, endpoints, rate, variant, args)


def print_rows(rows: Iterator[Row]) -> None:
    header = f"{'protocol':<8} {'rate':>6} {'variant':<14} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"{header} {'max ms':>7} {'cpu us/req':>10} {'others %':>8}", flush=True)
    for r in rows:
        figures = (
            f"{r.p50:>7.3f} {r.p99:>7.3f} {r.maximum:>7.3f} {r.cpu_us:>10.1f} {r.others:>8.1f}"
        )
        print(f"{r.protocol:<8} {r.rate:>6g} {r.variant:<14} {figures}", flush=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocols", nargs="+", default=["rest", "grpc"])
    parser.add_argument("--rates", nargs="+", type=float, default=[250.0, 2000.0])
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=["asyncio", "loadgen"]
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per protocol, rate and variant")
    parser.add_argument(
        "--quiet",
        type=float,
        metavar="PERCENT",
        help="before each run, wait until other processes use less CPU than this (%% of cores)",
    )
    parser.add_argument("--quiet-wait", type=float, default=600.0, help="longest wait (s)")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the stack and the running generator are stopped.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with tempfile.TemporaryDirectory() as work:
        args.work = work
        print_rows(measure(args))


if __name__ == "__main__":
    main()
