"""Patients left out of an analysis or chart: one line by reason and group, the list in an
expander (:func:`analytics.flow.summarise_excluded` writes the line)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from analytics.flow import excluded_sentence, summarise_excluded
from ui.shell import escape_md
from ui.tables import show_table


def show_excluded(
    excluded: Sequence[tuple[str, str]],
    patients: pd.DataFrame,
    reasons: Mapping[str, str] | None = None,
    *,
    what: str = "Not analysed",
) -> None:
    """The summary line (a caption) and, in an expander, every patient with the reason.

    ``what`` starts the line ("Not in this chart"). Nothing is shown when nobody was
    left out.
    """
    groups = summarise_excluded(excluded, patients, reasons)
    if not groups:
        return
    st.caption(escape_md(excluded_sentence(groups, what)))
    n = sum(len(group.patients) for group in groups)
    noun = "1 patient" if n == 1 else f"{n} patients"
    with st.expander(f"{what}: list of {noun}"):
        rows = [
            (patient, group.reason.removeprefix("(").removesuffix(")"))
            for group in groups
            for patient in group.patients
        ]
        show_table(pd.DataFrame(rows, columns=["patient", "reason"]))
