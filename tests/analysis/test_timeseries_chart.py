"""The time-series chart: requests and errors per second, and a line where a replica went down."""

from __future__ import annotations

import matplotlib
import pandas as pd
from matplotlib import pyplot as plt

from analysis.charts import plot_timeseries

matplotlib.use("Agg")


def _series() -> pd.DataFrame:
    rows = [
        ("rest", second, 100, 30 if second == 2 else 5, 1.0 + second) for second in range(5)
    ] + [("grpc", second, 100, 5, 2.0) for second in range(5)]
    frame = pd.DataFrame(rows, columns=["protocol", "second", "requests", "errors", "p99_ms"])
    frame["operation"], frame["round"], frame["balancing"] = "all", 1, "shared"
    return frame


def test_errors_show_beside_requests_and_the_kill_is_marked_and_named() -> None:
    figure, (ax_rps, ax_p99) = plt.subplots(2)
    order = [(1, "shared", "rest"), (1, "shared", "grpc")]
    plot_timeseries(_series(), order, ax_rps, ax_p99, faults={(1, "shared", "rest"): [1.5]})
    lines = [list(line.get_ydata()) for line in ax_rps.get_lines()]
    assert [100] * 5 in lines and [5, 5, 30, 5, 5] in lines  # REST: requests, and its errors
    markers = [line for line in ax_rps.get_lines() if line.get_linestyle() == ":"]
    assert [list(m.get_xdata()) for m in markers] == [[1.5, 1.5]]  # REST's phase starts at 0
    legend = ax_rps.get_legend()
    assert legend is not None and "replica down" in [t.get_text() for t in legend.get_texts()]
    plt.close(figure)


def test_no_fault_no_marker_in_the_legend() -> None:
    figure, (ax_rps, ax_p99) = plt.subplots(2)
    plot_timeseries(_series(), [(1, "shared", "rest"), (1, "shared", "grpc")], ax_rps, ax_p99)
    legend = ax_rps.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["REST", "gRPC"]
    plt.close(figure)
