"""The "did anything change?" panel and its settings: equivalence margin, prior scale of
the Bayes factor, and the two CVs of the reference change value.

The settings are number inputs on the Paired tests page, kept across pages
(:mod:`ui.widgets`) for the lab they were set for; when another lab is chosen they go
back to that lab's defaults. The page reads them (:func:`evidence_fields`) before it
computes the view and draws them (:func:`evidence_inputs`) inside the panel.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from analytics.analysis import Selection
from analytics.evidence import margin_for
from analytics.labs import LABS
from analytics.output.paragraphs import paragraphs
from analytics.output.view import ViewOutputs
from analytics.panel import ChangePanel, panel_from_paired
from analytics.settings import AnalysisSettings
from analytics.stats.bayes import DEFAULT_PRIOR_SCALE, BayesResult
from ui.format import display_frame
from ui.shell import escape_md
from ui.tables import show_table
from ui.widgets import kept, persistent_number

__all__ = ["evidence_fields", "evidence_inputs", "paired_panel", "paper_paragraphs", "show_panel"]

#: The widget keys, and the kept key naming the lab their values belong to.
KEYS = ("ev_margin", "ev_prior", "ev_cva", "ev_cvi")
LAB_KEY = "keep_ev_lab"


def _defaults(selection: Selection) -> dict[str, float | None]:
    """The lab's own figures: margin in the file's unit, r = 0.707, the catalogue's CVs."""
    margin, _ = margin_for(selection, AnalysisSettings())
    lab = LABS.get(selection.analyte)
    return {
        "ev_margin": margin,
        "ev_prior": DEFAULT_PRIOR_SCALE,
        "ev_cva": lab.cv_analytical if lab is not None else None,
        "ev_cvi": lab.cv_within if lab is not None else None,
    }


def _reset_on_new_lab(analyte: str) -> None:
    if st.session_state.get(LAB_KEY) == analyte:
        return
    for key in KEYS:
        st.session_state.pop(key, None)
        st.session_state.pop(f"keep_{key}", None)
    st.session_state[LAB_KEY] = analyte


def _changed(value: Any, default: float | None) -> float | None:
    """The value when it differs from the default (else None: the default applies)."""
    if value is None or not math.isfinite(float(value)) or float(value) <= 0:
        return None
    if default is not None and math.isclose(float(value), default, rel_tol=1e-12):
        return None
    return float(value)


def evidence_fields(selection: Selection, *, reset: bool = True) -> dict[str, Any]:
    """``margin``, ``prior_scale``, ``cv_analytical``, ``cv_within`` for
    :class:`AnalysisSettings`: the values set for this lab, None where the lab's own.

    With ``reset`` (the Paired tests page), values set for another lab are dropped
    first; without it (the Overview), a lab other than the one they were set for gets
    its defaults.
    """
    if reset:
        _reset_on_new_lab(selection.analyte)
    elif st.session_state.get(LAB_KEY) != selection.analyte:
        return {}
    defaults = _defaults(selection)
    values = {key: kept(key, defaults[key]) for key in KEYS}
    prior = _changed(values["ev_prior"], DEFAULT_PRIOR_SCALE)
    fields = {
        "margin": _changed(values["ev_margin"], defaults["ev_margin"]),
        "prior_scale": prior if prior is not None and prior <= 10 else DEFAULT_PRIOR_SCALE,
        "cv_analytical": _changed(values["ev_cva"], defaults["ev_cva"]),
        "cv_within": _changed(values["ev_cvi"], defaults["ev_cvi"]),
    }
    return fields


def evidence_inputs(selection: Selection, source: str | None) -> None:
    """The four number inputs, with where the CVs come from stated beside them."""
    defaults = _defaults(selection)
    unit = f" ({selection.unit})" if selection.unit else ""
    columns = st.columns(4)
    persistent_number(
        f"Equivalence margin ±{unit}",
        "ev_margin",
        default=defaults["ev_margin"],
        container=columns[0],
        min_value=0.0,
        format="%g",
        help="A change too small to matter clinically, in the file's unit; the lab's "
        "default meaningful change unless you set another.",
    )
    persistent_number(
        "Prior scale r (Bayes factor)",
        "ev_prior",
        default=DEFAULT_PRIOR_SCALE,
        container=columns[1],
        min_value=0.01,
        max_value=10.0,
        format="%.3f",
        help="Scale of the Cauchy prior on d_z; 0.707 is the usual ('medium') choice.",
    )
    persistent_number(
        "Analytical CV (%)",
        "ev_cva",
        default=defaults["ev_cva"],
        container=columns[2],
        min_value=0.0,
        format="%g",
        help="Your laboratory's quality-control CV for this assay.",
    )
    persistent_number(
        "Within-subject CV (%)",
        "ev_cvi",
        default=defaults["ev_cvi"],
        container=columns[3],
        min_value=0.0,
        format="%g",
        help="Biological variation within a person, e.g. from the EFLM database.",
    )
    if source:
        st.caption("Source of the CVs: " + escape_md(source))
    else:
        st.caption("No CVs are known for this lab: enter both for a reference change value.")
    _say_zero_is_not_used(selection, defaults)


#: The inputs' names in the warning for a figure of 0.
_NAMES = {
    "ev_margin": "An equivalence margin",
    "ev_cva": "An analytical CV",
    "ev_cvi": "A within-subject CV",
}


def _say_zero_is_not_used(selection: Selection, defaults: dict[str, float | None]) -> None:
    """A figure of 0 cannot be used (no equivalence within ±0; no variation at all): say
    so, and which figure is used instead."""
    unit = f" {selection.unit}" if selection.unit else ""
    for key, name in _NAMES.items():
        value = st.session_state.get(key)
        if value is None or float(value) > 0:
            continue
        default = defaults[key]
        if default is None:
            instead = "none is known for this lab, so it is left out"
        elif key == "ev_margin":
            instead = f"the lab's default ±{default:g}{unit} is used"
        else:
            instead = f"the catalogue's {default:g} % is used"
        st.warning(f"{name} of 0 cannot be used: {instead}. Enter a figure above 0.")


def show_panel(panel: ChangePanel, *, robustness: bool = False, compact: bool = False) -> None:
    """The four answers side by side (``compact``: as a small table, for a narrow card),
    then the sentence that joins them."""
    cells = panel.cells()
    if compact:
        rows = [f"| {escape_md(h)} | **{escape_md(v)}** | {escape_md(d)} |" for h, v, d in cells]
        st.markdown("| | result | |\n|---|---|---|\n" + "\n".join(rows))
    else:
        for column, (heading, value, detail) in zip(st.columns(4), cells, strict=True):
            with column:
                st.metric(escape_md(heading), escape_md(value))
                st.caption(escape_md(detail))
    st.markdown("**" + escape_md(panel.verdict()) + "**")
    if robustness and panel.bayes is not None:
        st.caption(_robustness(panel.bayes))


def _robustness(bayes: BayesResult) -> str:
    return (
        "Bayes factor BF10 at other prior scales: "
        + escape_md(bayes.robustness_line())
        + ". A conclusion that holds across these scales does not hang on the prior."
    )


def paired_panel(outputs: ViewOutputs) -> None:
    """The Paired tests page's panel: the answers, the robustness line, the settings."""
    result, selection = outputs.paired, outputs.selection
    show_panel(panel_from_paired(result, selection.name, selection.unit), robustness=True)
    source = result.rcv.source if result.rcv is not None else None
    with st.expander("Margin, prior scale and CVs (kept for this lab on every page)"):
        evidence_inputs(selection, source)
    table = outputs.tables.get(f"{selection.analyte}_rcv")
    label = "Each patient's change against the reference change value"
    # a toggle, not an expander: the table (a row per patient) is sent only when shown
    if result.rcv is not None and table is not None and st.toggle(label, key="ev_rcv_table"):
        show_table(display_frame(table), download=(f"{selection.analyte}_rcv", table))


def paper_paragraphs(outputs: ViewOutputs, written: tuple[str, str] | None = None) -> None:
    """The Results and Methods paragraphs (``written``, else written from ``outputs``),
    each in a box with a copy button."""
    written = written or paragraphs(outputs)
    if written is None:
        return
    results, methods = written
    st.markdown("**Results**")
    st.code(results, language=None, wrap_lines=True)
    st.markdown("**Methods**")
    st.code(methods, language=None, wrap_lines=True)
    st.caption(
        "Copy with the button at the top right of each box. The same paragraphs are in "
        "the report and, as results.txt and methods.txt, in the Download all ZIP."
    )
