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
    # A one-replica service has nothing to spread over: it is neither even nor idle.
    alone = sorted(set(balancing.loc[balancing["replicas"] <= 1, "service"]))
    balancing = balancing[balancing["replicas"] > 1]
    if balancing.empty:
        return []
    sentences = [
        _mode_sentence(str(protocol), str(mode), rows)
        for (protocol, mode), rows in balancing.groupby(["protocol", "balancing"], sort=False)
    ]
    counts = sorted({int(n) for n in balancing["replicas"]})
    if len(counts) == 1:
        note = (
            f"Fair share is 1/{counts[0]} of a service's requests; max share / fair share is "
            f"{counts[0]:.2f} when one replica takes everything and 1.00 when perfectly even."
        )
    else:
        note = (
            "Fair share is 1/N of a service's requests for its N replicas; max share / fair "
            "share is N when one replica takes everything and 1.00 when perfectly even."
        )
    if alone:
        note += f" Left out, with one replica each: {', '.join(alone)}."
    return [*sentences, *_contrast(balancing), note]
