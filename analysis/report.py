"""The one module that writes files: CSVs, charts, report.md and report.html into a run directory,
and the several-runs comparison into a folder of its own.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from analysis import render
from analysis.charts_replicas import plot_compare
from analysis.compute import Analysis, analyse_dir, key_metrics
from analysis.document import Block, Heading, Paragraph, build_document
from analysis.figures import build_figures
from analysis.rundir import Run, load_run
from analysis.tls import tls_ratios, tls_table
from calcbench.core.rundir import CHARTS, REPORT_HTML, REPORT_MD, TLS_CSV, cell

COMPARE_METRICS = {
    "rps": "Throughput (requests per second)",
    "success_rate": "Success rate (fraction ok)",
    "p50_ms": "p50 latency (ms, intended send time)",
    "p99_ms": "p99 latency (ms, intended send time)",
    "client_cpu_us_per_request": "Load generator CPU (us per request)",
    "server_cpu_us_per_request": "Services' CPU (us per request)",
}


@dataclass(frozen=True)
class ReportFiles:
    """Paths of everything `build_report` wrote (CSV and chart names are file stems)."""

    run_dir: Path
    csvs: dict[str, Path]
    charts: dict[str, Path]
    markdown: Path
    html: Path

    @property
    def all(self) -> list[Path]:
        return [*self.csvs.values(), *self.charts.values(), self.markdown, self.html]


def _tables(a: Analysis) -> dict[str, pd.DataFrame]:
    tables = {
        "summary": a.summary,
        "summary_actual": a.summary_actual,
        "errors": a.errors,
        "timeseries": a.timeseries,
        "replicas": a.replicas,
        "services": a.services,
        "comparison": a.comparison,
    }
    if not a.breakdown.empty:
        tables["breakdown"] = a.breakdown
    if a.multi_replica:
        tables |= {"balancing": a.balancing, "balancing_rounds": a.balancing_rounds}
    return tables


def tls_section(run: Run, run_dir: Path, csvs: dict[str, Path]) -> list[Block]:
    """tls.csv and its report section, for a run with plaintext and TLS phases (else none)."""
    ratios = tls_ratios(run)
    if ratios.empty:
        return []
    csvs["tls"] = _write_csv(ratios, run_dir / TLS_CSV)
    table = tls_table(ratios)
    note = (
        "Both stacks ran plaintext and TLS (mTLS if asked: run.json) in the same interleaved "
        "rounds, percentage's downstream hops included. All in tls.csv."
    )
    return [
        Heading("TLS against plaintext, per protocol (95% bootstrap intervals)"),
        Paragraph(note),
        table,
    ]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # Light compression: a third of the encoding time for files about a fifth larger.
    figure.savefig(buffer, format="png", dpi=100, pil_kwargs={"compress_level": 2})
    return buffer.getvalue()


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` as CSV, booleans spelled as the run directory spells them (`cell`)."""
    flags = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c])]
    spelled = frame.assign(**{c: frame[c].map(cell) for c in flags})
    spelled.to_csv(path, index=False, float_format="%.6g")
    return path


def build_report(run_dir: Path) -> ReportFiles:
    """Read `run_dir`, compute everything, and write the CSVs, charts and both reports into it.

    Works on a partial run (completed phases only); raises `RunDirError` on a directory that is
    not a run or has no completed phase.
    """
    a = analyse_dir(run_dir)
    csvs = {name: _write_csv(frame, run_dir / f"{name}.csv") for name, frame in _tables(a).items()}
    tls_blocks = tls_section(a.run, run_dir, csvs)
    images = {name: _png(figure) for name, figure in build_figures(a).items()}
    (run_dir / CHARTS).mkdir(exist_ok=True)
    charts = {}
    for name, data in images.items():
        charts[name] = run_dir / CHARTS / f"{name}.png"
        charts[name].write_bytes(data)
    blocks = build_document(a, list(images)) + tls_blocks
    markdown, page = run_dir / REPORT_MD, run_dir / REPORT_HTML
    markdown.write_text(render.markdown(blocks))
    page.write_text(render.html_page(blocks, images))
    return ReportFiles(run_dir, csvs, charts, markdown, page)


def _labels(runs: Sequence[Run]) -> list[str]:
    """Each run's situation (a Kubernetes run records one), else its folder's name; the full
    path, with the situation, where those repeat."""
    situations = [str((r.meta.get("situation") or {}).get("name") or "") for r in runs]
    names = [s or r.path.resolve().name for s, r in zip(situations, runs, strict=True)]
    if len(set(names)) == len(names):
        return names
    return [f"{r.path} ({s})" if s else str(r.path) for s, r in zip(situations, runs, strict=True)]


def compare_runs(run_dirs: Sequence[Path], out_dir: Path) -> pd.DataFrame:
    """Several runs side by side: one row per run x protocol x balancing of the key metrics.

    Writes `compare.csv` and `compare.png` into `out_dir` (created if needed).
    """
    frames = []
    runs = [load_run(run_dir) for run_dir in run_dirs]
    for name, run in zip(_labels(runs), runs, strict=True):
        settings = run.settings
        metrics = key_metrics(run)
        frames.append(
            metrics.assign(
                rate=settings.get("rate"),
                rounds=settings.get("rounds"),
                duration=settings.get("duration"),
                replicas=run.replicas,
                partial=run.partial,
                started_at=run.meta.get("started_at"),
            ).assign(run=name)
        )
    table = pd.concat(frames, ignore_index=True)
    table = table[["run", *[c for c in table.columns if c != "run"]]]
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(table, out_dir / "compare.csv")
    (out_dir / "compare.png").write_bytes(_png(_compare_figure(table)))
    return table


def _compare_figure(table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(15, 8.5))
    axes = figure.subplots(2, 3).ravel()
    figure.subplots_adjust(left=0.05, right=0.99, top=0.9, bottom=0.1, hspace=0.45, wspace=0.25)
    for ax, (metric, title) in zip(axes, COMPARE_METRICS.items(), strict=True):
        plot_compare(table, metric, title, ax)
    figure.suptitle(
        f"calcbench runs side by side ({table['run'].nunique()} runs): client side, all "
        "operations, one group per run and balancing mode"
    )
    return figure
