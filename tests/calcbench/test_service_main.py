"""The entry point both stacks share: its flags' choices and defaults.

Signals, the ready line and exit statuses are tested on the real processes, in
tests/calculator_rest/test_main.py and tests/calculator_grpc/test_main.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn

import pytest

from calcbench.core.service_config import ServiceConfig, parse_service_args
from calcbench.core.service_main import serve_replica
from calcbench.core.vocabulary import GrpcServerModel, RestServerModel

PORTS = ["--port", "0", "--metrics-port", "0"]


def _never(config: ServiceConfig) -> NoReturn:
    raise AssertionError("a usage error must not start anything")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["modulo", *PORTS], "invalid choice: 'modulo' (choose from 'addition', 'subtraction', "),
        (
            ["addition", *PORTS, "--server-model", "lean"],
            "invalid choice: 'lean' (choose from 'sync', 'aio')",
        ),
    ],
)
def test_a_bad_choice_is_a_usage_error_naming_the_choices(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        serve_replica("python -m calculator_grpc", _never, GrpcServerModel, argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("models", [RestServerModel, GrpcServerModel])
def test_the_first_server_model_is_the_default(models: type[StrEnum]) -> None:
    config = parse_service_args(["addition", *PORTS], "x", tuple(models))
    assert config.server_model == next(iter(models))


def test_the_downstream_timeout_is_read_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_service_args(["addition", *PORTS], "x").downstream_timeout == 1.0
    flags = ["addition", *PORTS, "--downstream-timeout", "2.5"]
    assert parse_service_args(flags, "x").downstream_timeout == 2.5
    with pytest.raises(SystemExit) as exited:
        parse_service_args(["addition", *PORTS, "--downstream-timeout", "0"], "x")
    assert exited.value.code == 2
    assert "--downstream-timeout must be a number of seconds > 0" in capsys.readouterr().err
