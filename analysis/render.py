"""Rendering the report blocks as Markdown and as one self-contained HTML page."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence

from analysis.document import CHART_CAPTIONS, Block, Bullets, Chart, Heading, Paragraph
from analysis.tables import Table

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #ddd; }
"""


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(table: Table) -> str:
    align = ["---" if i < table.text_columns else "---:" for i in range(len(table.header))]
    lines = [
        f"**{table.title}**",
        "",
        "| " + " | ".join(table.header) + " |",
        "| " + " | ".join(align) + " |",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        return _md_table(block)
    caption = CHART_CAPTIONS.get(block.name, block.name)
    return f"![{caption}](charts/{block.name}.png)\n\n*{caption}*"


def markdown(blocks: Sequence[Block]) -> str:
    return "\n\n".join(_md_block(b) for b in blocks) + "\n"


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    rows = []
    number = ' class="num"'
    for row in table.rows:
        cells = "".join(
            f"<td{'' if i < table.text_columns else number}>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f"<table><caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _html_block(block: Block, images: Mapping[str, bytes]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        return _html_table(block)
    return _html_chart(block, images)


def _html_chart(chart: Chart, images: Mapping[str, bytes]) -> str:
    caption = html.escape(CHART_CAPTIONS.get(chart.name, chart.name))
    data = images.get(chart.name)
    if data is None:
        return f"<p>(chart {html.escape(chart.name)} missing)</p>"
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'


def html_page(blocks: Sequence[Block], images: Mapping[str, bytes]) -> str:
    """One HTML file with its charts embedded as data URIs: nothing else to copy around."""
    title = next((b.text for b in blocks if isinstance(b, Heading)), "calcbench report")
    body = "\n".join(_html_block(b, images) for b in blocks)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
