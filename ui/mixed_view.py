"""The mixed model on the Paired tests page's "All time points" tab.

It renders what the view computed (``outputs.timecourse.mixed_model``) with the same
rounding as the HTML report (:mod:`analytics.output.report_mixed`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.output.report_mixed import f_sentence, mixed_header, mixed_rows, variance_sentence
from analytics.output.view import ViewOutputs
from ui.shell import escape_md
from ui.tables import show_table

__all__ = ["mixed_model"]


def mixed_model(outputs: ViewOutputs) -> None:
    """What the model uses, its F test for time, each time's mean and change, or why not."""
    course, selection = outputs.timecourse, outputs.selection
    result = course.mixed_model if course is not None else None
    if result is None:
        return
    st.markdown("**Mixed model on every value** — random intercept per patient, fitted by REML")
    st.write(escape_md(result.sentence()))
    if not result.fitted:
        st.info(escape_md(f"{result.note} {variance_sentence(result, selection.unit)}".strip()))
        return
    st.write(escape_md(f"Time: {f_sentence(result)}. {variance_sentence(result, selection.unit)}"))
    frame = pd.DataFrame(mixed_rows(result), columns=mixed_header(result, selection.unit))
    stem = selection.analyte
    show_table(
        frame,
        download=(f"{stem}_mixed_model_by_time", outputs.tables[f"{stem}_mixed_model_by_time"]),
    )
    st.caption(
        "A patient with a missing visit still counts with the values they have, so the "
        "model's means can differ from the plain means above when values are missing. "
        "The F test and each change against baseline use t and F distributions with "
        "Satterthwaite degrees of freedom, as R's lmerTest computes them; "
        f"Holm-adjusted over the family '{escape_md(result.family)}'. When nothing is "
        "missing, the F test equals the uncorrected repeated-measures ANOVA above."
    )
