"""The report's sections beyond the p-value: the "did anything change?" panel (with
equivalence, Bayes factor and each patient beyond the reference change value) and the
Results and Methods paragraphs as a paper would print them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.output.report_html import escape, frame_table, kv_table
from analytics.panel import panel_from_paired

if TYPE_CHECKING:
    from analytics.analysis import Selection
    from analytics.stats.paired import PairedResult

__all__ = ["evidence_section", "paragraphs_section"]


def evidence_section(paired: PairedResult, selection: Selection | None) -> str:
    """The panel as a table, its sentence, the robustness line and the RCV patients."""
    name = selection.name if selection else "The lab"
    unit = selection.unit if selection else ""
    panel = panel_from_paired(paired, name, unit)
    rows = [
        (heading, f"{value} — {detail}" if detail else value)
        for heading, value, detail in panel.cells()
    ]
    parts = [
        '<section id="evidence"><h2>Did anything change?</h2>',
        f'<p class="result">{escape(panel.verdict())}</p>',
        kv_table(rows),
    ]
    if paired.bayes is not None:
        parts.append(
            f'<p class="note">Bayes factor BF10 at other prior scales: '
            f"{escape(paired.bayes.robustness_line())}.</p>"
        )
    for note in (paired.equivalence_note, paired.rcv_note):
        if note:
            parts.append(f'<p class="note">{escape(note)}</p>')
    rcv = paired.rcv
    if rcv is not None:
        parts.append(f'<p class="note">CVs: {escape(rcv.source)}</p>')
        table = rcv.to_frame().rename(
            columns={"percent_change": "percent change", "beyond": "beyond RCV"}
        )
        table["beyond RCV"] = table["beyond RCV"].fillna("")
        parts.append(frame_table(table.drop(columns=["judged"])))
    parts.append("</section>")
    return "".join(parts)


def paragraphs_section(results: str, methods: str) -> str:
    """The two paragraphs, ready to copy into a manuscript."""
    return (
        '<section id="paragraphs"><h2>Written as a paper would</h2>'
        f"<h3>Results</h3><p>{escape(results)}</p>"
        f"<h3>Methods</h3><p>{escape(methods)}</p></section>"
    )
