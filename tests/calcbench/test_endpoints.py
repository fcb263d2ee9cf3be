from __future__ import annotations

from pathlib import Path

import pytest

from calcbench.core.endpoints import (
    Endpoints,
    Replica,
    ServiceEndpoint,
    format_address,
    parse_address,
    parse_address_list,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:8001", ("127.0.0.1", 8001)), ("[::1]:80", ("::1", 80)), ("svc:1", ("svc", 1))],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "host", ":80", "host:", "host:0", "host:70000", "h:x"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected host:port"):
        parse_address(text)


def test_address_list_and_format() -> None:
    assert parse_address_list("a:1, b:2") == ["a:1", "b:2"]
    with pytest.raises(ValueError):
        parse_address_list(" , ")
    assert format_address("::1", 9) == "[::1]:9"
    assert format_address("127.0.0.1", 9) == "127.0.0.1:9"


def test_round_trip(tmp_path: Path) -> None:
    endpoints = Endpoints(
        protocol="grpc",
        services={
            "addition": ServiceEndpoint(
                "127.0.0.1:9001", (Replica("addition-0", "127.0.0.1:9101", "127.0.0.1:9151", 42),)
            )
        },
    )
    path = tmp_path / "endpoints.json"
    endpoints.dump(path)
    assert Endpoints.load(path) == endpoints


@pytest.mark.parametrize(
    "data", [{}, {"protocol": "soap", "services": {}}, {"protocol": "rest", "services": {"a": {}}}]
)
def test_bad_files(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Endpoints.from_dict(data)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read endpoints file"):
        Endpoints.load(tmp_path / "missing.json")
