"""The load options, declared once, attach to any typer command (as `calcbench run` does)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from calcbench.core.vocabulary import Balancing
from loadgen.options import OPTIONS, load_options, settings_from_options
from loadgen.settings import LoadSettings


def test_option_defaults_agree_with_the_settings() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(LoadSettings)}
    for option in OPTIONS:
        if option.name in defaults and option.default not in (None, option.empty):
            assert option.default == defaults[option.name], option.name
    given = {o.name: o.default for o in OPTIONS if o.default is not o.empty}
    assert settings_from_options(given, protocol="rest") == LoadSettings()


def test_every_balancing_mode_is_a_flag_value() -> None:
    assert settings_from_options({"balancing": Balancing.EWMA}).balancing == "ewma"


def test_decorator_adds_the_options_but_the_excluded_ones() -> None:
    @load_options(exclude=("protocol", "endpoints_file", "endpoint", "out"))
    def run(rounds: int = 3, **options: Any) -> None:
        pass

    names = list(inspect.signature(run).parameters)
    assert names[0] == "rounds"
    assert {"rate", "channels", "no_keepalive", "balancing"} <= set(names)
    assert not {"protocol", "endpoints_file", "endpoint", "out", "options"} & set(names)
    with pytest.raises(ValueError, match="unknown option"):
        load_options(exclude=("rat",))


def test_a_command_receives_the_flags_and_builds_settings() -> None:
    seen: list[LoadSettings] = []
    app = typer.Typer()

    @app.command()
    @load_options(exclude=("protocol", "endpoints_file", "endpoint", "out"))
    def run(rounds: int = 3, **options: Any) -> None:
        seen.append(settings_from_options(options, protocol="grpc"))

    flags = [
        "--rounds",
        "2",
        "--mix",
        "addition=1,division=3",
        "--concurrency",
        "8",
        "--channels",
        "3",
        "--no-keepalive",
        "--balancing",
        "round-robin",
        "--arrivals",
        "poisson",
        "--warmup",
        "0",
    ]
    result = CliRunner().invoke(app, flags)
    assert result.exit_code == 0, result.output
    settings = seen[0]
    assert settings.protocol == "grpc" and settings.concurrency == 8 and settings.rate is None
    assert settings.mix == (("addition", 1.0), ("division", 3.0))
    assert (settings.channels, settings.keepalive, settings.balancing) == (3, False, "round-robin")
    assert (settings.arrivals, settings.warmup) == ("poisson", 0.0)


def test_overrides_win_and_bad_values_raise() -> None:
    assert settings_from_options({"rate": 10.0}, rate=20.0).rate == 20.0
    with pytest.raises(ValueError, match="--mix"):
        settings_from_options({"mix": "addition"})
