"""parse_operands: what the body parser accepts, and the one-line reason when it does not."""

from __future__ import annotations

import math

import pytest

from calculator_rest.operands import (
    MalformedBody,
    UnsupportedMediaType,
    check_media_type,
    parse_operands,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"op1": 2, "op2": 3}', (2.0, 3.0)),
        (b'{"op1": 2.0, "op2": -3.5}', (2.0, -3.5)),
        (b'{"op1": 0, "op2": -0.0, "extra": "ignored"}', (0.0, -0.0)),
        (b'{"op1": 5e-324, "op2": 1.7976931348623157e308}', (5e-324, 1.7976931348623157e308)),
        (b'{"op1": 18446744073709551616, "op2": 1}', (18446744073709551616.0, 1.0)),
    ],
)
def test_numbers_become_floats(body: bytes, expected: tuple[float, float]) -> None:
    op1, op2 = parse_operands(body)
    assert (op1, op2) == expected
    assert type(op1) is float and type(op2) is float


@pytest.mark.parametrize(
    "body",
    [
        b'{"op1": 1e400, "op2": 1}',
        b'{"op1": -1e400, "op2": 1}',
        b'{"op1": Infinity, "op2": 1}',
        b'{"op1": NaN, "op2": 1}',
        b'{"op1": ' + b"9" * 400 + b', "op2": 1}',
        b'{"op1": -' + b"9" * 5000 + b', "op2": 1}',  # past Python's int digit limit
    ],
)
def test_out_of_range_numbers_are_non_finite_not_malformed(body: bytes) -> None:
    # The arithmetic then rejects them as an invalid argument (400), as gRPC does.
    op1, _ = parse_operands(body)
    assert not math.isfinite(op1)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"op1": "2", "op2": 3}', "op1 must be a number, not a string"),
        (b'{"op1": true, "op2": 3}', "op1 must be a number, not a boolean"),
        (b'{"op1": 2, "op2": null}', "op2 must be a number, not null"),
        (b'{"op1": 2, "op2": [3]}', "op2 must be a number, not an array"),
        (b'{"op1": {}, "op2": 3}', "op1 must be a number, not an object"),
        (b'{"op2": 3}', "op1 is missing"),
        (b'{"op1": 3}', "op2 is missing"),
        (b"[2, 3]", "body must be a JSON object"),
        (b"2", "body must be a JSON object"),
        (b"", "body is not valid JSON"),
        (b'{"op1": 2, "op2": 3', "body is not valid JSON"),
        (b"\xff\xfe", "body is not valid JSON"),
        ('{"op1": 2, "op2": 3}'.encode("utf-16"), "body is not valid JSON"),
        (b'\xef\xbb\xbf{"op1": NaN, "op2": 3}', "body is not valid JSON"),
    ],
)
def test_malformed_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedBody, match=reason) as caught:
        parse_operands(body)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        b"",
        b"application/json",
        b"application/json; charset=utf-8",
        b"Application/JSON",
        b"application/problem+json",
    ],
)
def test_json_or_no_content_type_is_read(content_type: bytes | None) -> None:
    check_media_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data; b=x", b"json"],
)
def test_other_content_types_are_refused(content_type: bytes) -> None:
    with pytest.raises(UnsupportedMediaType, match="content-type must be application/json"):
        check_media_type(content_type)
