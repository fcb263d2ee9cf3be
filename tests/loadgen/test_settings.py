"""LoadSettings: defaults, normalisation and one-line validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from calcbench.core.vocabulary import SERVICES
from loadgen.settings import DEFAULT_RATE, LoadSettings, parse_mix


def test_defaults_are_an_open_loop_at_the_posts_rate_over_all_five() -> None:
    settings = LoadSettings()
    assert settings.open_loop and settings.rate == DEFAULT_RATE
    assert settings.services == SERVICES
    assert settings.weights == pytest.approx([0.2] * 5)
    assert (settings.div_zero, settings.timeout, settings.channels) == (0.25, 1.0, 1)


def test_concurrency_alone_makes_a_closed_loop() -> None:
    settings = LoadSettings(concurrency=4)
    assert not settings.open_loop and settings.rate is None


def test_mix_keeps_only_weighted_services_and_normalises() -> None:
    settings = LoadSettings(mix=(("addition", 1), ("division", 3), ("percentage", 0)))
    assert settings.services == ("addition", "division")
    assert settings.weights == (0.25, 0.75)
    assert settings.to_dict()["mix"] == {"addition": 1.0, "division": 3.0, "percentage": 0.0}


def test_parse_mix() -> None:
    assert parse_mix("addition=1, division=2.5") == (("addition", 1.0), ("division", 2.5))
    for bad in ("addition", "addition=x", "=1", "addition=1,,"):
        with pytest.raises(ValueError, match="--mix"):
            parse_mix(bad)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"protocol": "http3"}, "--protocol must be one of rest, grpc"),
        ({"arrivals": "bursty"}, "--arrivals"),
        ({"balancing": "random"}, "--balancing"),
        ({"mix": (("modulo", 1.0),)}, "unknown service 'modulo'"),
        ({"mix": (("addition", -1.0),)}, "weight of addition"),
        ({"mix": (("addition", 0.0),)}, "at least one service"),
        ({"mix": (("addition", 1.0), ("addition", 2.0))}, "listed twice"),
        ({"rate": 0}, "--rate must be a number > 0"),
        ({"rate": float("inf")}, "--rate"),
        ({"duration": -1}, "--duration"),
        ({"warmup": -0.5}, "--warmup must be a number >= 0"),
        ({"timeout": 0}, "--timeout"),
        ({"div_zero": 1.5}, "--div-zero"),
        ({"workers": 0}, "--workers must be at least 1"),
        ({"channels": 0}, "--channels"),
        ({"connections": 0}, "--connections"),
        ({"concurrency": 0}, "--concurrency"),
        ({"rate": 10, "concurrency": 2}, "not both"),
        ({"concurrency": 2, "workers": 3}, "--workers must not exceed --concurrency"),
    ],
)
def test_bad_settings_raise_one_line(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        LoadSettings(**changes)
    assert "\n" not in str(caught.value)


def test_zero_warmup_and_fractional_values_are_fine() -> None:
    settings = LoadSettings(warmup=0, duration=0.5, rate=0.5, div_zero=0)
    assert settings.warmup == 0 and settings.duration == 0.5
