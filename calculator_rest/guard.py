"""The one ASGI middleware on the request path: body size limit and replica header.

Pure ASGI rather than Starlette's `BaseHTTPMiddleware`, which would copy every message
through a task group; one layer for both jobs rather than Starlette's body limit (plain-text
413) plus a header middleware. It wraps the whole application, outside FastAPI's own error
layers, so that every response, including a 404 or a 500, says which replica served it.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calcbench.core.vocabulary import REPLICA_HEADER

MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    """The request body is larger than the limit (REST 413).

    Raised from `receive`, so whoever reads the body sees it; an unhandled one becomes a 413
    through FastAPI's exception layer.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class Guard:
    """Limits request bodies to `limit` bytes and stamps `x-calc-replica` on every response.

    A declared `Content-Length` over the limit fails on the first read, before any body byte
    is waited for; a streamed (chunked) body fails as soon as the running count passes it.
    The connection stays usable: uvicorn discards the rest of a body once the response is sent.
    """

    def __init__(self, app: ASGIApp, replica: str, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit
        self._header = (REPLICA_HEADER.encode(), replica.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = self._header
        limit = self.limit
        declared = _declared_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        async def stamped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, limited_receive, stamped_send)


def _declared_length(scope: Scope) -> int:
    """The declared Content-Length, or 0 when absent or unreadable (then bytes are counted)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
