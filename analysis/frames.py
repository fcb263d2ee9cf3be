"""Small DataFrame helpers shared by the summarising modules."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.style import sort_key
from calcbench.core.rundir import TRUE_WORDS


def sort_rows(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows ordered by `columns` in the project's natural order (REST first, `all` last)."""
    present = [c for c in columns if c in frame.columns]
    if frame.empty or not present:
        return frame.reset_index(drop=True)
    ordered = frame.sort_values(
        present,
        key=lambda s: pd.Series(sort_key(str(s.name), s.tolist()), index=s.index),
        kind="stable",
    )
    return ordered.reset_index(drop=True)


def with_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """`frame` restricted to `columns` in that order; columns it lacks are added empty."""
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            out[column] = pd.NA
    return out[list(columns)]


def as_bool(values: pd.Series) -> pd.Series:
    """CSV booleans: `true` as the run directory spells them, `True`, `1` or `yes` as older
    writers did."""
    return values.astype(str).str.strip().str.lower().isin(TRUE_WORDS)
