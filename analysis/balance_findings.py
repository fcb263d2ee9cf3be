"""Findings about how requests spread over replicas, per protocol x balancing mode."""

from __future__ import annotations

import pandas as pd

from analysis.style import label


def _mode_sentence(protocol: str, mode: str, rows: pd.DataFrame) -> str:
    idle = rows[rows["rounds_with_idle"] > 0]
    share = rows["max_share_over_fair"]
    head = (
        f"{label(protocol)} {mode}: max replica share / fair share {share.min():.2f}-"
        f"{share.max():.2f}, CV {rows['cv'].min():.2f}-{rows['cv'].max():.2f} (means over rounds)"
    )
    if idle.empty:
        return f"{head}; every replica served requests in every round."
    named = ", ".join(
        f"{r['service']} ({int(r['rounds_with_idle'])}/{int(r['rounds'])} rounds)"
        for r in idle.to_dict("records")
    )
    return f"{head}; {len(idle)} of {len(rows)} services had an idle replica: {named}."


def _contrast(balancing: pd.DataFrame) -> list[str]:
    """For each protocol, the worst service's imbalance in each mode, side by side."""
    out = []
    for protocol, rows in balancing.groupby("protocol", sort=False):
        worst = rows.groupby("balancing", sort=False)["max_share_over_fair"].max()
        if len(worst) > 1:
            parts = ", ".join(f"{mode} {value:.2f}" for mode, value in worst.items())
            out.append(f"{label(str(protocol))}, worst max share / fair share by mode: {parts}.")
    return out


def balancing_findings(balancing: pd.DataFrame) -> list[str]:
    if balancing.empty:
        return []
    sentences = [
        _mode_sentence(str(protocol), str(mode), rows)
        for (protocol, mode), rows in balancing.groupby(["protocol", "balancing"], sort=False)
    ]
    replicas = int(balancing["replicas"].max())
    note = (
        f"Fair share is 1/{replicas} of a service's requests; max share / fair share is "
        f"{replicas:.2f} when one replica takes everything and 1.00 when perfectly even."
    )
    return [*sentences, *_contrast(balancing), note]
