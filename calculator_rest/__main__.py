"""`python -m calculator_rest SERVICE --port P --metrics-port M ...`: serve one replica.

Prints one JSON ready line on stdout once connections are accepted, runs until SIGTERM or
SIGINT, then shuts down gracefully and exits 0. A port in use is a one-line error, exit 2.
The flow is `calcbench.core.service_main`'s, the same for both stacks.
"""

from __future__ import annotations

import sys

from calcbench.core.service_main import serve_replica
from calcbench.core.vocabulary import RestServerModel
from calculator_rest.server import start

if __name__ == "__main__":
    sys.exit(serve_replica("python -m calculator_rest", start, RestServerModel))
