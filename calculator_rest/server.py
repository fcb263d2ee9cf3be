"""Serve one REST replica with uvicorn on sockets this module binds.

Binding the sockets here (not in uvicorn) is what lets several replica processes share one
port with SO_REUSEPORT, the kernel spreading connections among them as a Kubernetes ClusterIP
Service does, while each replica also listens on a port of its own.
"""

from __future__ import annotations

import math
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import uvicorn

from calcbench.core.listening import bound_port, listen
from calcbench.core.metrics_http import MetricsServer
from calcbench.core.service_config import ServiceConfig
from calcbench.core.telemetry import ServiceMetrics
from calcbench.core.tls import TlsFiles
from calculator_rest.app import create_app

#: Above the HTTP clients' idle timeout (calcbench.core.http1.IDLE_SECONDS) and long enough that
#: the load generator's pooled connections survive the pauses between rounds.
KEEP_ALIVE_SECONDS = 75
STARTUP_SECONDS = 10.0
#: The fast path: uvloop, httptools, no access log, no proxy-header rewriting (every request
#: would pay for it), logging left to the process instead of uvicorn's dictConfig.
UVICORN_OPTIONS: Final[dict[str, Any]] = {
    "loop": "uvloop",
    "http": "httptools",
    "ws": "none",
    "lifespan": "on",
    "access_log": False,
    "log_config": None,
    "log_level": "warning",
    "proxy_headers": False,
    "server_header": False,
    "timeout_keep_alive": KEEP_ALIVE_SECONDS,
}


@dataclass
class RestService:
    """A replica serving in a background thread (a `RunningService`)."""

    port: int
    own_port: int | None
    metrics_port: int
    metrics: ServiceMetrics
    server: uvicorn.Server
    thread: threading.Thread
    metrics_http: MetricsServer

    def stop(self, grace: float = 1.0) -> None:
        """Stop accepting, let in-flight requests finish for up to `grace` s, then return."""
        self.server.config.timeout_graceful_shutdown = math.ceil(grace)
        self.server.should_exit = True
        self.thread.join(timeout=grace + 5.0)
        self.metrics_http.stop()


def start(config: ServiceConfig) -> RestService:
    """Bind, start serving in a background thread, and return once connections are accepted.

    Raises OSError naming the port when one is already in use. Port 0 gets a free port, read
    back from the returned object.
    """
    sockets = [listen(config.host, config.port, config.share)]
    with _closed_on_error(sockets):
        if config.own_port is not None:
            sockets.append(listen(config.host, config.own_port))
        ports = tuple(bound_port(sock) for sock in sockets)
        metrics = ServiceMetrics(config.service, config.replica_id, ports)
        metrics_http = metrics.serve(config.host, config.metrics_port)
        options = UVICORN_OPTIONS | tls_options(config.tls)
        server = uvicorn.Server(uvicorn.Config(create_app(config, metrics), **options))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": sockets}, name=f"rest-{config.service}"
        )
        thread.daemon = True
        thread.start()
        try:
            _wait_started(server, thread)
        except BaseException:
            metrics_http.stop()
            raise
    own_port = ports[1] if len(ports) > 1 else None
    return RestService(ports[0], own_port, metrics_http.port, metrics, server, thread, metrics_http)


def tls_options(tls: TlsFiles | None) -> dict[str, Any]:
    """uvicorn's TLS settings for `tls` (none: plaintext); under mTLS a client without a
    certificate the CA signed fails the handshake."""
    if tls is None:
        return {}
    options: dict[str, Any] = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
    if tls.mtls:
        options |= {"ssl_ca_certs": str(tls.ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return options


@contextmanager
def _closed_on_error(sockets: list[socket.socket]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for sock in sockets:
            sock.close()
        raise


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the REST service stopped during startup (see its log)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the REST service did not start within {STARTUP_SECONDS:g} s")
        time.sleep(0.005)
