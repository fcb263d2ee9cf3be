"""Reading a request body into two operands, and the schemas that document it.

The hot path parses with orjson and checks types by hand instead of FastAPI validating a
pydantic model: in-process, 18 us per request for the whole lean app against 180 us for a
FastAPI route with a body model (`benchmarks/rest_clients.py asgi`). The models below only
feed the OpenAPI document, so clients still see the exact contract.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict


class MalformedBody(ValueError):
    """The body is not a JSON object with numbers `op1` and `op2` (REST 422)."""


class UnsupportedMediaType(ValueError):
    """The request declares a Content-Type that is not JSON (REST 415)."""


class Operands(BaseModel):
    """The request body: JSON numbers (`2` and `2.0` both accepted)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    op1: float
    op2: float


class Result(BaseModel):
    result: float


class ErrorDetail(BaseModel):
    detail: str


def check_media_type(content_type: bytes | None) -> None:
    """Accept `application/json` (any parameters), `application/*+json` or no Content-Type;
    raise `UnsupportedMediaType` for any other declared type.

    A missing (or empty) Content-Type is read as JSON: clients that send none are common and
    unambiguous here. A declared other type (a form post, `text/plain`) is refused rather than
    read as JSON anyway, as the OpenAPI document says and FastAPI's own body routes do.
    """
    if not content_type or content_type == b"application/json":
        return
    media = content_type.split(b";", 1)[0].strip().lower()
    if media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    ):
        return
    shown = media[:60].decode("latin-1")
    raise UnsupportedMediaType(f"content-type must be application/json, not {shown!r}")


def parse_operands(body: bytes) -> tuple[float, float]:
    """`(op1, op2)` from a JSON body; raise `MalformedBody` with a one-line reason.

    Numbers too large for a double (`1e400`) and the non-standard `NaN`/`Infinity` tokens that
    Python's json writes come back as non-finite floats, so that the arithmetic rejects them as
    an invalid argument (400), the same class of error gRPC gives for such operands.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = _lenient_loads(body)
    if type(data) is not dict:
        raise MalformedBody("body must be a JSON object with numbers op1 and op2")
    return _number(data, "op1"), _number(data, "op2")


def _lenient_loads(body: bytes) -> Any:
    # orjson refuses out-of-range numbers and NaN/Infinity; the standard library reads them.
    # Integers as floats: a 5,000-digit one is then infinite (400) like 1e400, not past
    # Python's int-parsing digit limit (422), and costs linear time. UTF-8 only, as orjson:
    # json.loads would otherwise guess UTF-16/32 from the bytes.
    try:
        return json.loads(body.decode(), parse_int=float)
    except (ValueError, RecursionError) as exc:
        raise MalformedBody(f"body is not valid JSON: {exc}") from exc


def _number(data: dict[str, Any], name: str) -> float:
    value: Any = data.get(name)
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:  # from orjson, so within 64 bits
        return float(value)
    if value is None and name not in data:
        raise MalformedBody(f"{name} is missing")
    raise MalformedBody(f"{name} must be a number, not {_json_kind(value)}")


def _json_kind(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", type(None): "null", list: "an array"}
    return names.get(type(value), "an object")
