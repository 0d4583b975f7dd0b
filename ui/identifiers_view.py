"""The Data page's "Patient labels" section: the pseudonymisation line, choice and key.

The choice lives on the :class:`~ui.shell.Dataset` in use (so it holds on every page,
and every cached view is keyed by it); the widget's own key is
``pseudonymise_choice``. The key from label to the file's patient ID is shown only
here, in an expander, and made into a file only when its download button is clicked.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analytics.output.files import table_csv
from analytics.pseudonyms import PSEUDONYMISE_CHOICES, key_frame, labels_sentence
from analytics.reading.identifiers import pseudonym_range
from ui.shell import View, escape_md
from ui.tables import show_table

_CHOICE_KEY = "pseudonymise_choice"


def _choose() -> None:
    """The widget changed: the data in use takes the new choice (read on the rerun)."""
    dataset = st.session_state.get("dataset")
    if dataset is not None:
        st.session_state["dataset"] = replace(dataset, pseudonymise=st.session_state[_CHOICE_KEY])


def patient_labels(view: View) -> None:
    """How patients are labelled (one line), the choice, and the key when there is one."""
    cohort = view.cohort
    found = cohort.identifiers
    line = escape_md(labels_sentence(cohort))
    if found.mode == "no" and (found.direct or found.columns):
        st.warning(line)
    elif found.pseudonymised or found.columns:
        st.info(line)
    else:
        st.caption(line)
    st.session_state[_CHOICE_KEY] = view.dataset.pseudonymise_mode
    st.selectbox(
        "Patient labels in figures, tables and downloads",
        list(PSEUDONYMISE_CHOICES),
        key=_CHOICE_KEY,
        format_func=PSEUDONYMISE_CHOICES.__getitem__,
        on_change=_choose,
        help="Record numbers, names, initials, dates of birth, phone numbers and addresses "
        "should not reach a figure or a shared file. 'auto' labels the patients P01, P02 … "
        "in file order when their IDs look like record numbers or names, and always leaves "
        "identifier columns out. The same choice as --pseudonymise on the command line.",
    )
    if found.pseudonymised:
        _key_expander(view)


def _key_expander(view: View) -> None:
    cohort = view.cohort
    frame = key_frame(cohort)
    with st.expander(
        f"Key: which patient each of {pseudonym_range(cohort.n_patients)} is (this session only)"
    ):
        st.caption(
            "Shown only here, in this browser session; it is in no figure, table, export or "
            "report. Download it only to keep it apart from the results, somewhere safe."
        )
        show_table(frame)
        st.download_button(
            "Download the key (CSV)",
            data=lambda: table_csv(frame),
            file_name="pseudonym_key.csv",
            mime="text/csv",
            key="dl_pseudonym_key",
            on_click="ignore",
        )
