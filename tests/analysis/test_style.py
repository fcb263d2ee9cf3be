from __future__ import annotations

import pytest

from analysis.style import fmt_server_ms


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.005, "<0.01ms"),
        (0.0099, "<0.01ms"),
        (0.01, "0.0100ms"),
        (2.5, "2.50ms"),
        (None, "-"),
    ],
)
def test_server_percentiles_inside_the_first_bucket_are_a_bound(
    value: float | None, shown: str
) -> None:
    assert fmt_server_ms(value) == shown
