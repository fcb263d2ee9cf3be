"""`python -m calculator_grpc SERVICE --port P --metrics-port M [...]`: serve one replica.

Prints one JSON "ready" line (ports resolved) once serving, then runs until SIGTERM or SIGINT and
shuts down gracefully (exit 0). A port in use is a one-line error and exit code 2.
The flow is `calcbench.core.service_main`'s, the same for both stacks.
"""

from __future__ import annotations

import sys

from calcbench.core.service_main import serve_replica
from calcbench.core.vocabulary import GrpcServerModel
from calculator_grpc.server import start

if __name__ == "__main__":
    sys.exit(serve_replica("python -m calculator_grpc", start, GrpcServerModel))
