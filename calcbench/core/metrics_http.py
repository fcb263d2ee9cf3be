"""The /metrics endpoint with a stop (prometheus_client's `start_http_server` has none).

A replica started in-process (tests) must release its metrics port on `stop()`, and promptly:
the stock server polls for shutdown every 0.5 s, which would make every stop half a second long.
Both stacks serve their metrics through this, on their separate `--metrics-port`.
"""

from __future__ import annotations

import socket
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from calcbench.core.listening import PortInUse

_POLL_INTERVAL = 0.05


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes are routine: no access log on stderr."""


class _Server4(ThreadingWSGIServer):
    address_family = socket.AF_INET


class _Server6(ThreadingWSGIServer):
    address_family = socket.AF_INET6


class MetricsServer:
    """Serves `registry` on `host:port` (0: any free port) from a daemon thread until `stop()`."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        server_class = _Server6 if ":" in host else _Server4
        try:
            self._httpd = make_server(
                host, port, make_wsgi_app(registry), server_class, handler_class=_QuietHandler
            )
        except OSError as exc:
            raise PortInUse(host, port) from exc
        self.port = int(self._httpd.server_port)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name="metrics-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
