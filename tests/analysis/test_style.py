from __future__ import annotations

import pytest

from analysis.style import fmt_server_ms


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.025, "<0.05ms"),
        (0.0499, "<0.05ms"),
        (0.05, "0.0500ms"),
        (2.5, "2.50ms"),
        (None, "-"),
    ],
)
def test_server_percentiles_inside_the_first_bucket_are_a_bound(
    value: float | None, shown: str
) -> None:
    assert fmt_server_ms(value) == shown
