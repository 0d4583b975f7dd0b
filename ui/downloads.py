"""Download buttons beside charts and tables. Bytes are made only when clicked."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics.output.figure_files import (
    DEFAULT_PPI,
    JOURNAL_DPI,
    chart_bytes,
    figure_size_text,
    width_px_for,
)
from analytics.output.files import table_csv, tables_xlsx
from analytics.output.view import ViewOutputs
from analytics.viz.figure_base import Figure

#: Printed widths offered for every figure download (mm).
FIGURE_SIZES = {
    "4 in wide (documents, slides)": 101.6,
    "6 in wide": 152.4,
    "8 in wide (full page)": 203.2,
    "Journal, single column (89 mm)": 89.0,
    "Journal, double column (183 mm)": 183.0,
}
FIGURE_FORMATS = ("png", "tiff", "svg", "pdf")
MIME = {
    "png": "image/png",
    "tiff": "image/tiff",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "html": "text/html",
}


def figure_size() -> tuple[int, int]:
    """The chosen figure width in pixels and its resolution (dpi), as last set on any page."""
    from ui.widgets import kept

    label = kept("fig_size", next(iter(FIGURE_SIZES)))
    dpi = int(kept("fig_dpi", DEFAULT_PPI))
    if dpi not in JOURNAL_DPI:
        dpi = DEFAULT_PPI
    return width_px_for(FIGURE_SIZES.get(label, 101.6), dpi), dpi


def figure_size_choice() -> None:
    """One figure size and resolution for every download on the page (kept across pages)."""
    from ui.widgets import persistent_selectbox

    left, right, note = st.columns([2, 1, 2], vertical_alignment="bottom")
    persistent_selectbox(
        "Figure width",
        list(FIGURE_SIZES),
        "fig_size",
        help="Width of downloaded figures (PNG, TIFF, SVG, PDF, and those in the ZIP). The "
        "chart is laid out at that width: titles wrap, fonts stay readable, no text is "
        "printed smaller than 6 pt.",
        container=left,
    )
    persistent_selectbox(
        "Resolution",
        list(JOURNAL_DPI),
        "fig_dpi",
        default=DEFAULT_PPI,
        format_func=lambda dpi: f"{dpi} dpi",
        help="Pixels per inch of PNG and TIFF files, written into the file. Journals ask for "
        "300 dpi (photographs, charts with shading) or 600 dpi (line art).",
        container=right,
    )
    width, dpi = figure_size()
    note.caption(f"PNG and TIFF: {figure_size_text(width, dpi)}; text at least 6 pt.")


def figure_buttons(figure: Figure, key: str) -> None:
    """PNG, TIFF, SVG and PDF buttons for one figure, side by side."""
    chart_buttons(figure.chart, figure.filename_stem, key)


def chart_buttons(chart: object, stem: str, key: str) -> None:
    """PNG, TIFF (chosen width and resolution), SVG and PDF (same layout) for one chart."""
    width, dpi = figure_size()
    row = st.container(horizontal=True)
    for fmt in FIGURE_FORMATS:
        row.download_button(
            f"↓ {fmt.upper()}",
            data=lambda fmt=fmt: chart_bytes(chart, fmt, width_px=width, ppi=dpi),
            file_name=f"{stem}.{fmt}",
            mime=MIME[fmt],
            key=f"dl_{key}_{fmt}",
            on_click="ignore",
        )


def table_buttons(frame: pd.DataFrame, stem: str, key: str) -> None:
    """CSV and XLSX buttons for one table (formula-safe)."""
    row = st.container(horizontal=True)
    row.download_button(
        "↓ CSV",
        data=lambda: table_csv(frame),
        file_name=f"{stem}.csv",
        mime=MIME["csv"],
        key=f"dl_{key}_csv",
        on_click="ignore",
    )
    row.download_button(
        "↓ XLSX",
        data=lambda: tables_xlsx({stem: frame}),
        file_name=f"{stem}.xlsx",
        mime=MIME["xlsx"],
        key=f"dl_{key}_xlsx",
        on_click="ignore",
    )


def view_buttons(outputs: ViewOutputs | Callable[[], ViewOutputs], stem: str | None = None) -> None:
    """ "Download all" (ZIP) and "Report" (HTML) for the current view.

    ``outputs`` may be a function giving the whole view: it is called when a button is
    clicked, so a page that computes only its sections does not compute the rest on
    every rerun. ``stem`` starts the file names (the lab; default the view's).
    """
    whole = outputs if callable(outputs) else (lambda: outputs)
    if stem is None:
        stem = outputs.selection.analyte if outputs.selection else "cohort"
    width, dpi = figure_size()
    buttons = (
        (
            "↓ Download all (ZIP)",
            lambda: whole().bundle(width_px=width, ppi=dpi),
            "_all_figures_and_tables.zip",
            "zip",
            "dl_bundle",
            "Every figure (PNG + SVG, at the figure width and resolution chosen), every "
            "table (CSV + XLSX), settings.json and a README.",
        ),
        (
            "↓ Report (HTML)",
            lambda: whole().report_html(),
            "_report.html",
            "html",
            "dl_report",
            "One self-contained file: opens offline in a browser and prints cleanly.",
        ),
    )
    row = st.container(horizontal=True)
    for label, data, suffix, kind, key, help_text in buttons:
        row.download_button(
            label,
            data=data,
            file_name=f"{stem}{suffix}",
            mime=MIME[kind],
            key=key,
            on_click="ignore",
            help=help_text,
        )
