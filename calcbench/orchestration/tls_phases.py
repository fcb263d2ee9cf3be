"""What `calcbench run --tls` adds to a run: one throwaway CA for the whole run, a TLS twin of
each stack, and the load settings of a TLS or plaintext phase."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from calcbench.core.tls import Pki, throwaway_pki
from calcbench.orchestration.boot import StackSettings
from calcbench.orchestration.plan import RunSettings
from loadgen.settings import LoadSettings

__all__ = ["Pki", "StackKey", "run_pki", "tls_load", "tls_stack"]

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
