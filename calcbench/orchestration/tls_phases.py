"""What `calcbench run --tls` adds to a run: one throwaway CA for the whole run, a TLS twin of
each stack, and the load settings of a TLS or plaintext phase."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path

from calcbench.core.rundir import TLS_WIRE, TLS_WIRE_COLUMNS, TLS_WIRE_DIR, cell
from calcbench.core.tls import Pki, throwaway_pki
from calcbench.orchestration.boot import StackSettings
from calcbench.orchestration.plan import RunSettings
from calcbench.orchestration.supervisor import Stack
from calcbench.orchestration.wire import measure_bytes
from loadgen.settings import LoadSettings

__all__ = ["Pki", "StackKey", "measure_tls_wire", "run_pki", "tls_load", "tls_stack"]

#: A running stack of a run: (protocol, served over TLS).
StackKey = tuple[str, bool]
#: TLS stacks log beside the plaintext ones, in this subfolder of the run's logs.
TLS_LOGS = "tls"


@contextlib.contextmanager
def run_pki(settings: RunSettings) -> Iterator[Pki | None]:
    """The run's CA and certificates when a phase is over TLS (removed when the run ends)."""
    if True not in settings.tls_modes:
        yield None
        return
    with throwaway_pki([settings.host]) as pki:
        yield pki


def tls_stack(stack: StackSettings, pki: Pki | None, mtls: bool) -> StackSettings:
    """`stack` over TLS with `pki` (mTLS on every hop with `mtls`); unchanged without `pki`."""
    if pki is None:
        return stack
    log_dir = None if stack.log_dir is None else stack.log_dir / TLS_LOGS
    return dataclasses.replace(stack, pki=pki, mtls=mtls, log_dir=log_dir)


def tls_load(load: LoadSettings, tls: bool) -> LoadSettings:
    """The load of a TLS phase (mTLS if the run asked for it) or of a plaintext phase."""
    if tls:
        return dataclasses.replace(load, tls=True)
    return dataclasses.replace(load, tls=False, mtls=False)


def measure_tls_wire(
    settings: RunSettings, stacks: Mapping[StackKey, Stack], mode: str, run_dir: Path
) -> None:
    """With plaintext and TLS stacks both up, bytes per request of each (appended to
    `tls_wire.csv`): what TLS adds on the wire, handshake spread over a closed loop."""
    if len(settings.tls_modes) < 2:
        return
    path = run_dir / TLS_WIRE
    new = not path.exists()
    with path.open("a", newline="") as file:
        writer = csv.writer(file)
        if new:
            writer.writerow(TLS_WIRE_COLUMNS)
        for (protocol, tls), stack in stacks.items():
            assert stack.endpoints is not None  # a started stack has its endpoints
            name = f"{protocol}-{mode}{'-tls' if tls else ''}"
            measured = measure_bytes(protocol, stack.endpoints, run_dir / TLS_WIRE_DIR / name)
            sent, received = measured.sent_per_request, measured.received_per_request
            row = (protocol, mode, tls, measured.requests, sent, received)
            writer.writerow([cell(value) for value in row])
