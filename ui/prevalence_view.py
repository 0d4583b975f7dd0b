"""Prevalence of anemia and microcytosis per time point, with editable thresholds."""

from __future__ import annotations

from dataclasses import fields

import streamlit as st

from analytics.analysis import prevalence_for
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.settings import AnalysisSettings
from analytics.stats.prevalence import Thresholds
from ui.format import fmt_num
from ui.shell import escape_md
from ui.tables import show_table
from ui.widgets import persistent_number

_LABELS = {
    "anemia_6_59_months": "Hgb, 6–59 months (g/dL)",
    "anemia_5_11_years": "Hgb, 5–11 years",
    "anemia_12_14_years": "Hgb, 12–14 years",
    "anemia_women": "Hgb, women ≥ 15 years",
    "anemia_men": "Hgb, men ≥ 15 years",
    "mcv_6_months_2_years": "MCV, 6 months–2 years (fL)",
    "mcv_2_6_years": "MCV, 2–6 years",
    "mcv_6_12_years": "MCV, 6–12 years",
    "mcv_12_18_years": "MCV, 12–18 years",
    "mcv_adults": "MCV, adults",
}


def threshold_editor() -> Thresholds:
    """Thresholds in an expander; defaults WHO 2011 (Hgb) and age-specific MCV limits."""
    defaults = Thresholds()
    values = {}
    with st.expander("Thresholds (editable; your laboratory's ranges may differ)"):
        columns = st.columns(5)
        for index, field in enumerate(fields(Thresholds)):
            values[field.name] = persistent_number(
                _LABELS[field.name],
                f"thr_{field.name}",
                default=float(getattr(defaults, field.name)),
                container=columns[index % 5],
                min_value=1.0,
                max_value=200.0,
                step=0.5,
            )
    return Thresholds(**values)


def prevalence_section(cohort: Cohort, kind: str, thresholds: Thresholds, censored: str) -> None:
    try:
        levels = AnalysisSettings(thresholds=thresholds, censored=censored)
        table = prevalence_for(cohort, kind, levels)
    except AnalysisError as error:
        st.caption(escape_md(str(error)))
        return
    shown = table[table["n_assessed"] > 0]
    display = shown.assign(
        share=[
            f"{a} of {n} ({p:.0%})"
            for a, n, p in zip(
                shown["n_affected"], shown["n_assessed"], shown["proportion"], strict=True
            )
        ],
        ci=[
            f"{fmt_num(100 * lo, 0)} % to {fmt_num(100 * hi, 0)} %"
            for lo, hi in zip(shown["ci_low"], shown["ci_high"], strict=True)
        ],
    )[["label", "share", "ci", "n_excluded"]]
    display.columns = ["time", kind, "95 % CI (exact, Clopper–Pearson)", "not assessed"]
    st.markdown(f"**{kind.capitalize()}**")
    show_table(display, download=(f"prevalence_{kind}", table))
    st.caption(
        thresholds.describe(kind) + " Patients without a value, an age or (from 15 "
        "years, for anemia) a sex at a time point are not assessed there."
    )
