"""`POST /<service>`: a request body in, a JSON answer out, one metrics observation.

The same `Endpoint` serves two ways. As a plain ASGI app ahead of FastAPI's routing (the
default `lean` server model), because FastAPI's per-request machinery (dependency solving,
exit stacks, middleware layers) costs several times the whole calculation; and as a FastAPI
route endpoint (`fastapi` model), so that cost can be measured. Under wrk on one core
(`benchmarks/rest_clients.py server`): lean 7,700 req/s at 110 us of server CPU per request,
fastapi route 3,000 req/s at 295 us, a pydantic body model 2,600 req/s at 355 us.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from time import perf_counter

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from calcbench.core.arithmetic import InvalidArgument
from calcbench.core.calculation import InjectedError
from calcbench.core.telemetry import ServiceMetrics
from calculator_rest.downstream import DownstreamError
from calculator_rest.guard import BodyTooLarge
from calculator_rest.operands import (
    MalformedBody,
    UnsupportedMediaType,
    check_media_type,
    parse_operands,
)

Calculate = Callable[[float, float], Awaitable[float]]
JSON = "application/json"
_JSON_HEADER = (b"content-type", JSON.encode())
logger = logging.getLogger(__name__)


class Endpoint:
    """Answers one calculator request; every outcome is observed once in `metrics`."""

    def __init__(self, calculate: Calculate, metrics: ServiceMetrics) -> None:
        self.calculate = calculate
        self.metrics = metrics

    async def answer(
        self, scope: Scope, read_body: Callable[[], Awaitable[bytes]]
    ) -> tuple[int, bytes]:
        """The status and JSON body for the request of `scope` whose body `read_body` returns."""
        started = perf_counter()
        try:
            check_media_type(content_type(scope))
            op1, op2 = parse_operands(await read_body())
            result = await self.calculate(op1, op2)
        except InvalidArgument as exc:
            outcome, status, detail = "invalid_argument", 400, str(exc)
        except MalformedBody as exc:
            outcome, status, detail = "malformed", 422, str(exc)
        except BodyTooLarge as exc:
            outcome, status, detail = "malformed", 413, exc.detail
        except UnsupportedMediaType as exc:
            outcome, status, detail = "malformed", 415, str(exc)
        except ClientDisconnect:
            # A request never read whole; the answer goes nowhere, but the call is counted.
            outcome, status, detail = "malformed", 400, "client disconnected mid-body"
        except DownstreamError as exc:
            outcome, status, detail = exc.outcome, exc.status, str(exc)
        except InjectedError as exc:
            outcome, status, detail = "server_error", 500, str(exc)
        except Exception:
            logger.exception("unexpected error")
            outcome, status, detail = "server_error", 500, "internal server error"
        else:
            self.metrics.observe("ok", perf_counter() - started)
            return 200, orjson.dumps({"result": result})
        self.metrics.observe(outcome, perf_counter() - started)
        return status, orjson.dumps({"detail": detail})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, payload = await self.answer(scope, lambda: read_body(receive))
        length = (b"content-length", str(len(payload)).encode())
        await send(
            {"type": "http.response.start", "status": status, "headers": [_JSON_HEADER, length]}
        )
        await send({"type": "http.response.body", "body": payload})

    async def fastapi(self, request: Request) -> Response:
        """The same answer as a FastAPI route endpoint."""
        status, payload = await self.answer(request.scope, request.body)
        return Response(payload, status, media_type=JSON)


async def read_body(receive: Receive) -> bytes:
    """The whole request body; raise `ClientDisconnect` (as Starlette's `Request.body` does)
    if the client goes before sending it, so that a cut-off body is never parsed as one."""
    message = await receive()
    body: bytes = message.get("body", b"")
    while message.get("more_body", False):
        message = await receive()
        body += message.get("body", b"")
    if message["type"] == "http.disconnect":
        raise ClientDisconnect()
    return body


def content_type(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value  # type: ignore[no-any-return]
    return None


class Shortcut:
    """Sends `POST path` straight to `endpoint`, everything else to `app` (FastAPI)."""

    def __init__(self, app: ASGIApp, path: str, endpoint: ASGIApp) -> None:
        self.app = app
        self.path = path
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path and scope["method"] == "POST":
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)
