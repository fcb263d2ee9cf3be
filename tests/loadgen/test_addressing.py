"""Endpoints from an endpoints file, --endpoint flags and <SERVICE>_ENDPOINT variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from calcbench.core.endpoints import Endpoints, Replica, ServiceEndpoint
from loadgen.addressing import parse_endpoint_flag, resolve_endpoints
from loadgen.runner import check_endpoints
from loadgen.settings import LoadSettings
from loadgen.targets import target_addresses


def endpoints_file(tmp_path: Path, protocol: str = "grpc") -> Path:
    replicas = tuple(Replica(f"addition-{i}", f"127.0.0.1:910{i}", "127.0.0.1:1") for i in (0, 1))
    services = {
        "addition": ServiceEndpoint("127.0.0.1:9001", replicas),
        "division": ServiceEndpoint("127.0.0.1:9004", ()),
    }
    path = tmp_path / "endpoints.json"
    Endpoints(protocol, services).dump(path)
    return path


def test_flag_with_one_or_several_addresses() -> None:
    service, one = parse_endpoint_flag("addition=localhost:8001")
    assert service == "addition" and one.address == "localhost:8001"
    _, several = parse_endpoint_flag("division=127.0.0.1:1,127.0.0.1:2")
    assert several.address == "127.0.0.1:1"
    assert [r.address for r in several.replicas] == ["127.0.0.1:1", "127.0.0.1:2"]


@pytest.mark.parametrize(
    "bad",
    ["addition", "=127.0.0.1:1", "modulo=127.0.0.1:1", "addition=127.0.0.1", "addition=host:99999"],
)
def test_bad_flags(bad: str) -> None:
    with pytest.raises(ValueError, match="bad"):
        parse_endpoint_flag(bad)


def test_flags_beat_the_file_and_the_file_beats_the_environment(tmp_path: Path) -> None:
    env = {"ADDITION_ENDPOINT": "10.0.0.1:1", "DIVISION_ENDPOINT": "10.0.0.4:1"}
    resolved = resolve_endpoints(
        "grpc",
        ("addition", "division"),
        endpoints_file(tmp_path),
        ["division=127.0.0.2:7"],
        env,
    )
    assert resolved.protocol == "grpc"
    assert resolved.services["addition"].address == "127.0.0.1:9001"
    assert resolved.services["division"].address == "127.0.0.2:7"
    only_env = resolve_endpoints("rest", ("division",), env=env)
    assert list(only_env.services) == ["division"]
    assert only_env.services["division"].address == "10.0.0.4:1"


def test_only_the_services_of_the_mix_need_an_endpoint() -> None:
    resolved = resolve_endpoints("rest", ("addition",), flags=["addition=127.0.0.1:1"], env={})
    assert list(resolved.services) == ["addition"]
    with pytest.raises(ValueError, match="no endpoint for subtraction: give --endpoints-file"):
        resolve_endpoints("rest", ("addition", "subtraction"), flags=["addition=h:1"], env={})


def test_file_of_the_other_protocol_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lists grpc endpoints, not rest"):
        resolve_endpoints("rest", ("addition",), endpoints_file(tmp_path), env={})


def test_balancing_picks_the_shared_or_the_replica_addresses(tmp_path: Path) -> None:
    endpoints = Endpoints.load(endpoints_file(tmp_path))
    assert target_addresses(endpoints, "addition", "shared") == ("127.0.0.1:9001",)
    for mode in ("round-robin", "ewma"):  # both balance per request over the replicas
        assert target_addresses(endpoints, "addition", mode) == (
            "127.0.0.1:9100",
            "127.0.0.1:9101",
        )
    # No replicas listed: round-robin falls back to the service address.
    assert target_addresses(endpoints, "division", "round-robin") == ("127.0.0.1:9004",)


def test_run_load_refuses_endpoints_that_do_not_fit(tmp_path: Path) -> None:
    endpoints = Endpoints.load(endpoints_file(tmp_path))
    with pytest.raises(ValueError, match="endpoints are for grpc, the run is for rest"):
        check_endpoints(LoadSettings(protocol="rest"), endpoints)
    with pytest.raises(ValueError, match="no endpoint for subtraction, multiplication"):
        check_endpoints(LoadSettings(protocol="grpc"), endpoints)
    check_endpoints(
        LoadSettings(protocol="grpc", mix=(("addition", 1), ("division", 1))), endpoints
    )
