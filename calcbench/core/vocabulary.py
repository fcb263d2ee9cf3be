"""The contract's vocabulary, defined once: every package and the CLI's choices import it.

`StrEnum` members are their values (`Protocol.REST == "rest"`), so they serialise to JSON, CSV
and command lines as plain strings, and typer offers exactly these choices.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Protocol(StrEnum):
    """The two stacks, in the order reports show them."""

    REST = "rest"
    GRPC = "grpc"


class Service(StrEnum):
    """The five calculator services; percentage calls multiplication, then division."""

    ADDITION = "addition"
    SUBTRACTION = "subtraction"
    MULTIPLICATION = "multiplication"
    DIVISION = "division"
    PERCENTAGE = "percentage"


class Balancing(StrEnum):
    """How a client spreads its requests over a service's replicas.

    `shared`: one address, the kernel (or a Kubernetes ClusterIP Service) balances connections;
    `round-robin`: every replica's own address, a request each in turn; `ewma`: peak-EWMA with
    two random choices (Linkerd's). Only the load generator balances by `ewma`: percentage's own
    calls then go round robin.
    """

    SHARED = "shared"
    ROUND_ROBIN = "round-robin"
    EWMA = "ewma"


class RestServerModel(StrEnum):
    """`lean`: the calculator route skips FastAPI's request handling; `fastapi`: it does not."""

    LEAN = "lean"
    FASTAPI = "fastapi"


class GrpcServerModel(StrEnum):
    """`sync`: grpcio's thread-pool server (cheaper per call here); `aio`: `grpc.aio`."""

    SYNC = "sync"
    AIO = "aio"


#: Each stack's server models, its default first; what each one is, for reports.
SERVER_MODELS: Final[dict[str, tuple[str, ...]]] = {
    Protocol.REST: tuple(RestServerModel),
    Protocol.GRPC: tuple(GrpcServerModel),
}
DEFAULT_SERVER_MODELS: Final = {protocol: models[0] for protocol, models in SERVER_MODELS.items()}
SERVER_MODEL_DESCRIPTIONS: Final = {
    RestServerModel.LEAN: "uvicorn (uvloop, httptools), the calculator route a bare ASGI endpoint",
    RestServerModel.FASTAPI: "uvicorn (uvloop, httptools), the calculator route through FastAPI",
    GrpcServerModel.SYNC: "grpcio's synchronous server, a thread pool",
    GrpcServerModel.AIO: "grpc.aio, grpcio's asyncio server",
}


class FaultKind(StrEnum):
    """What `calcbench run --fault KIND=SERVICE:...` injects (`calcbench.orchestration.fault`)."""

    SLOW_REPLICA = "slow-replica"
    KILL_REPLICA = "kill-replica"
    ERROR_RATE = "error-rate"


class Outcome(StrEnum):
    """What became of one call, on either side. Clients never see `malformed` (a request the
    service could not read); servers never see `wrong_result` (an answer the client checked)."""

    OK = "ok"
    INVALID_ARGUMENT = "invalid_argument"
    MALFORMED = "malformed"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    WRONG_RESULT = "wrong_result"


#: The client outcomes each fault is expected to cause on its service.
FAULT_OUTCOMES: Final = {
    FaultKind.SLOW_REPLICA: (Outcome.TIMEOUT,),
    FaultKind.KILL_REPLICA: (Outcome.UNAVAILABLE, Outcome.TIMEOUT),
    FaultKind.ERROR_RATE: (Outcome.SERVER_ERROR,),
}


# The members as plain strings, for the many places that key dicts and rows by them.
PROTOCOLS: Final[tuple[str, ...]] = tuple(Protocol)
SERVICES: Final[tuple[str, ...]] = tuple(Service)
BALANCING_MODES: Final[tuple[str, ...]] = tuple(Balancing)
#: Percentage's downstreams, in the order it calls them.
DOWNSTREAMS: Final[tuple[str, ...]] = (Service.MULTIPLICATION, Service.DIVISION)
SERVER_OUTCOMES: Final[tuple[str, ...]] = tuple(o for o in Outcome if o is not Outcome.WRONG_RESULT)
CLIENT_OUTCOMES: Final[tuple[str, ...]] = tuple(o for o in Outcome if o is not Outcome.MALFORMED)
#: The response header (REST) and initial metadata key (gRPC) naming the replica that answered.
REPLICA_HEADER: Final = "x-calc-replica"
#: Each protocol's native C client (the calibration's floor) and the Debian package with it.
NATIVE_CLIENTS: Final[dict[str, tuple[str, str]]] = {
    Protocol.REST: ("wrk", "wrk"),
    Protocol.GRPC: ("h2load", "nghttp2-client"),
}
#: Replicas per service in a local stack: the fixed port layout has room for nine.
MAX_REPLICAS: Final = 9
