"""Download buttons beside charts and tables. Bytes are made only when clicked."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.output.figure_files import chart_bytes
from analytics.output.files import table_csv, tables_xlsx
from analytics.output.view import ViewOutputs
from analytics.viz.figure_base import Figure

PNG_WIDTHS = {"1200 px (single column)": 1200, "1800 px": 1800, "2400 px (full page)": 2400}
MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "html": "text/html",
}


def _png_width() -> int:
    label = st.session_state.get("png_width", next(iter(PNG_WIDTHS)))
    return PNG_WIDTHS.get(label, 1200)


def png_width_choice() -> None:
    """One choice of PNG width for every chart on the page (kept across pages)."""
    from ui.widgets import persistent_selectbox

    persistent_selectbox(
        "PNG width (300 dpi)",
        list(PNG_WIDTHS),
        "png_width",
        help="Width of downloaded PNG figures; SVG and PDF are vector formats.",
    )


def figure_buttons(figure: Figure, key: str) -> None:
    """PNG, SVG and PDF buttons for one figure, side by side."""
    chart_buttons(figure.chart, figure.filename_stem, key)


def chart_buttons(chart: object, stem: str, key: str) -> None:
    """PNG (chosen width, 300 dpi), SVG and PDF buttons for one chart."""
    width = _png_width()
    row = st.container(horizontal=True)
    for fmt in ("png", "svg", "pdf"):
        row.download_button(
            f"↓ {fmt.upper()}",
            data=lambda fmt=fmt: chart_bytes(chart, fmt, width_px=width if fmt == "png" else None),
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


def view_buttons(outputs: ViewOutputs) -> None:
    """ "Download all" (ZIP) and "Report" (HTML) for the current view."""
    stem = outputs.selection.analyte if outputs.selection else "cohort"
    buttons = (
        (
            "↓ Download all (ZIP)",
            outputs.bundle,
            "_all_figures_and_tables.zip",
            "zip",
            "dl_bundle",
            "Every figure (PNG + SVG), every table (CSV + XLSX), settings.json and a README.",
        ),
        (
            "↓ Report (HTML)",
            outputs.report_html,
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
