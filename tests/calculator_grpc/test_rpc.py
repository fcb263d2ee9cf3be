"""Service names, method paths and channel targets, as clients use them."""

from __future__ import annotations

import json

import pytest

from calcbench.core.protos.calculator.v1 import calculator_pb2
from calcbench.core.rpc import METHOD_PATHS, SERVICE_NAMES, channel_target
from calcbench.core.vocabulary import SERVICES


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("addition", "/calculator.v1.Addition/Add"),
        ("subtraction", "/calculator.v1.Subtraction/Subtract"),
        ("multiplication", "/calculator.v1.Multiplication/Multiply"),
        ("division", "/calculator.v1.Division/Divide"),
        ("percentage", "/calculator.v1.Percentage/Percent"),
    ],
)
def test_method_paths_follow_the_proto(service: str, path: str) -> None:
    assert METHOD_PATHS[service] == path
    proto_service = calculator_pb2.DESCRIPTOR.services_by_name[path.split("/")[1].split(".")[-1]]
    assert proto_service.full_name == SERVICE_NAMES[service]
    assert [m.name for m in proto_service.methods] == [path.rsplit("/", 1)[1]]


def test_every_service_has_a_name() -> None:
    assert set(SERVICE_NAMES) == set(METHOD_PATHS) == set(SERVICES)


def test_one_address_is_a_plain_target_with_its_own_connection() -> None:
    target, options = channel_target(["127.0.0.1:9001"])
    assert target == "127.0.0.1:9001"
    assert dict(options) == {"grpc.use_local_subchannel_pool": 1}


@pytest.mark.parametrize(
    ("addresses", "target"),
    [
        (["127.0.0.1:9001", "127.0.0.1:9101"], "ipv4:127.0.0.1:9001,127.0.0.1:9101"),
        (["[::1]:9001", "[::1]:9101"], "ipv6:[::1]:9001,[::1]:9101"),
    ],
)
def test_several_addresses_are_balanced_round_robin(addresses: list[str], target: str) -> None:
    got_target, options = channel_target(addresses)
    settings = dict(options)
    assert got_target == target
    assert settings["grpc.use_local_subchannel_pool"] == 1
    config = json.loads(settings["grpc.service_config"])
    assert config == {"loadBalancingConfig": [{"round_robin": {}}]}


@pytest.mark.parametrize(
    "addresses", [[], ["nonsense"], ["127.0.0.1:9001", "[::1]:9002"], ["127.0.0.1:0"]]
)
def test_bad_addresses_are_refused(addresses: list[str]) -> None:
    with pytest.raises(ValueError):
        channel_target(addresses)
