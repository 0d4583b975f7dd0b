"""Sections of the Paired tests page: each renders what the view computed, with its reading.

Every section takes the view's :class:`~analytics.output.view.ViewOutputs`, so the page
shows exactly the numbers that its downloads, the report and the command line give.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from analytics.analysis import SPLITS, Selection
from analytics.flow import pair_reasons
from analytics.output.view import ViewOutputs
from analytics.overview import from_paired
from analytics.stats.paired import PairedResult
from ui.charts import show_spec
from ui.downloads import figure_buttons
from ui.excluded import show_excluded
from ui.format import display_frame, fmt_num, fmt_p, fmt_signed
from ui.parts import Drawn, Failed, Pair, figure_part, resampled_part, subgroup_part, view_of
from ui.shell import escape_md
from ui.tables import show_table
from ui.widgets import persistent_radio, persistent_selectbox


def _unit(selection: Selection) -> str:
    """The unit with a leading space, escaped for Markdown (it comes from the file)."""
    return f" {escape_md(selection.unit)}" if selection.unit else ""


def _table(outputs: ViewOutputs, name: str) -> pd.DataFrame:
    """One of the view's tables of the selected lab, e.g. ``"leave_one_out"``."""
    return outputs.tables[f"{outputs.selection.analyte}_{name}"]


def _problem(outputs: ViewOutputs, part: str) -> str | None:
    """Why ``part`` of the view (e.g. ``"subgroups"``) could not be computed, if so."""
    prefix = f"{part}: "
    return next((p.removeprefix(prefix) for p in outputs.problems if p.startswith(prefix)), None)


def study_table(outputs: ViewOutputs) -> None:
    result, selection = outputs.timecourse, outputs.selection
    by_time = _table(outputs, "by_time")
    table = by_time.drop(columns=["months"])
    show_table(display_frame(table), download=(f"{selection.analyte}_by_time", table))
    st.caption(
        f"{escape_md(selection.label().split(',')[0])} at every time "
        "point, in the layout of the study's tables. Mean, SD (n − 1) and SE = SD/√n over the "
        "patients with a value; p from the paired t-test against baseline on the patients "
        "with both values; one-sided p for a fall and for a rise (JMP's Prob < t and Prob > t), "
        f"Holm-adjusted over the family '{result.family}'. Mode is the most frequent "
        "value, as Excel prints it (— when every value occurs once)."
    )


def paired_summary(outputs: ViewOutputs, flow: Drawn | Failed | None = None) -> None:
    result, selection = outputs.paired, outputs.selection
    # the patients left out are summarised below the metrics, not listed in the sentence
    headline = replace(result, excluded=()).sentence(selection.name, selection.unit)
    st.markdown(escape_md(headline))
    unit = _unit(selection)
    level = f"{result.confidence * 100:.0f} %"
    cols = st.columns(4)
    cols[0].metric("Pairs", result.n_pairs, help="Patients with both values.")
    cols[1].metric(
        "Mean change",
        f"{fmt_signed(result.mean_change)}{unit}",
        help="Follow-up − baseline; negative means a fall.",
    )
    cols[2].metric(
        f"{level} CI of the change",
        f"{fmt_signed(result.ci_low)} to {fmt_signed(result.ci_high)}",
        help="t-based; follow-up − baseline, so negative values are a fall.",
    )
    cols[3].metric("p (two-sided)", fmt_p(result.p_two_sided))
    st.write(
        f"Cohen's d_z = {fmt_num(result.cohen_dz)} ({level} CI {fmt_num(result.dz_ci_low)} to "
        f"{fmt_num(result.dz_ci_high)}): the mean change in units of the SD of the changes. "
        f"One-sided p: {fmt_p(result.p_less)} for a fall, {fmt_p(result.p_greater)} for a rise."
    )
    _caveats(outputs)
    _who(outputs, flow)
    with st.expander("Every quantity (as JMP's Matched Pairs reports it, and more)"):
        table = _table(outputs, "paired_test")
        frame = table.copy()
        frame["value"] = frame["value"].map(
            lambda v: "—" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v))
        )
        show_table(frame[["label", "value"]], download=(f"{selection.analyte}_paired_test", table))


def _show_drawn(part: Drawn | Failed | None, key: str) -> None:
    """A figure part with its downloads (nothing when it could not be drawn)."""
    if isinstance(part, Drawn):
        show_spec(part.spec)
        figure_buttons(part.figure, key)


def _who(outputs: ViewOutputs, flow: Drawn | Failed | None) -> None:
    """The patient flow beside the patients left out, summarised by reason."""
    cohort, selection = outputs.filtered.cohort, outputs.selection
    left, right = st.columns([3, 2], gap="large")
    with left:
        _show_drawn(flow, "flow")
    with right:
        reasons = pair_reasons(cohort, selection, outputs.analysis.censored)
        what = "Not in this comparison"
        show_excluded(outputs.paired.excluded, cohort.patients, reasons, what=what)


def _caveats(outputs: ViewOutputs) -> None:
    """What this number of pairs can show, worded as on the Overview page."""
    caveats = from_paired(outputs.selection, outputs.paired, _table(outputs, "leave_one_out"))
    lines = caveats.caveats()
    if lines:
        box = st.warning if caveats.is_fragile else st.info
        box(
            f"**What {caveats.n_pairs} pairs can show**\n\n"
            + "\n".join(f"- {escape_md(line)}" for line in lines)
        )


#: The sections below the panel, computed only when chosen: (key, label).
SECTIONS = {
    "robustness": "Robustness checks",
    "times": "All time points",
    "subgroups": "Subgroups",
}
SECTION_KEY = "pt_section"


def section_choice() -> str | None:
    """Which section to show (none until one is chosen; kept across pages)."""
    st.subheader("More on this comparison")
    return persistent_radio(
        "Open a section (each is computed when you open it)",
        list(SECTIONS),
        SECTION_KEY,
        format_func=SECTIONS.get,
        help="Rank and permutation tests, the bootstrap, normality and leave-one-out; "
        "every time point with the repeated-measures tests and the mixed model; the "
        "change compared between subgroups.",
    )


def robustness(key: tuple) -> None:
    """Rank and permutation tests, the bootstrap, normality, leave-one-out, ratio test:
    computed now (once per ``key``, the page's dataset, filter, selection, analysis)."""
    outputs = view_of(*key, pair=resampled_part(*key))
    result, selection = outputs.paired, outputs.selection
    _rank_tests(result, _unit(selection))
    _normality(result)
    _show_drawn(figure_part(*key, "qq"), "qq")
    _leave_one_out(result, selection, _table(outputs, "leave_one_out"))
    if result.ratio is not None:
        st.markdown("**Ratio (log) paired t-test** — for a lab with a skewed distribution")
        st.write(escape_md(result.ratio.sentence(selection.name)))
    elif result.ratio_note:
        st.caption(escape_md(result.ratio_note))


def _rank_tests(result: PairedResult, unit: str) -> None:
    st.markdown("**Wilcoxon signed-rank test**")
    st.write(
        f"W+ = {fmt_num(result.wilcoxon_statistic, 1)}, p = {fmt_p(result.wilcoxon_p)} "
        f"({result.wilcoxon_method})."
    )
    if result.wilcoxon_note:
        st.info(result.wilcoxon_note)
    st.markdown("**Sign-flip permutation test**")
    st.write(
        f"p = {fmt_p(result.sign_flip_p)} ({result.sign_flip_method}): how often a mean change "
        "at least this large arises when each patient's change is equally likely to be + or −."
    )
    st.markdown("**Bootstrap BCa interval (sensitivity check)**")
    if result.bootstrap_ci_low is not None:
        st.write(
            f"{result.confidence * 100:.0f} % BCa CI of the mean change: "
            f"{fmt_num(result.bootstrap_ci_low)} to {fmt_num(result.bootstrap_ci_high)}{unit}. "
            "Below about 15 pairs it tends to be too narrow; the t interval above stays the "
            "primary one."
        )
    if result.bootstrap_note:
        st.caption(result.bootstrap_note)


def _normality(result: PairedResult) -> None:
    st.markdown("**Normality of the changes**")
    if result.shapiro_w is not None:
        st.write(
            f"Shapiro–Wilk W = {fmt_num(result.shapiro_w, 3)}, p = {fmt_p(result.shapiro_p)}. "
            "With few pairs this test rarely detects anything: read the Q–Q plot too. Both "
            "the t-test and the rank tests are shown whatever it says."
        )
    else:
        st.write("Shapiro–Wilk needs at least 3 pairs.")


def _leave_one_out(result: PairedResult, selection: Selection, loo: pd.DataFrame) -> None:
    st.markdown("**Leave-one-out**")
    show_table(display_frame(loo), download=(f"{selection.analyte}_leave_one_out", loo))
    flagged = loo[loo["sign_flips"] | loo["crosses_alpha"]]
    if flagged.empty:
        st.caption(f"No single patient's removal flips the sign or moves p across {result.alpha}.")
    else:
        st.warning(
            "The conclusion rests on single patients: removing "
            + escape_md(", ".join(str(p) for p in flagged["patient_id"]))
            + f" flips the sign of the mean change or moves p across {result.alpha}."
        )


def repeated_times(outputs: ViewOutputs) -> None:
    result = outputs.timecourse
    tests, contrasts = _table(outputs, "repeated_tests"), _table(outputs, "contrasts")
    show_table(display_frame(tests), download=("repeated_tests", tests))
    st.caption(
        f"Friedman and repeated-measures ANOVA use the {result.n_complete} patients with a "
        "value at every time point (complete cases). Greenhouse–Geisser corrects the ANOVA's "
        "degrees of freedom for unequal variances of the differences between times."
    )
    patients = outputs.filtered.cohort.patients
    show_excluded(result.incomplete, patients, what="Not in the omnibus tests")
    st.markdown(f"**Each time point against baseline** — Holm family: {escape_md(result.family)}")
    show_table(display_frame(contrasts), download=("contrasts", contrasts))


def subgroups(key: tuple, pair: Pair) -> None:
    """The split's widget, then the comparison of the change between its subgroups.

    ``key`` is the page's (dataset, filter, selection, analysis); the downloads take this
    widget's kept value as their split, so they hold the comparison shown.
    """
    split = persistent_selectbox(
        "Compare the change between",
        list(SPLITS),
        "sel_split",
        default="sex",
        format_func=SPLITS.get,
    )
    part = subgroup_part(*key, split)
    outputs = view_of(*key, pair=pair, subgroups=part)
    selection, result = outputs.selection, outputs.subgroups
    if result is None:
        st.info(escape_md(_problem(outputs, "subgroups")))
        return
    groups = _table(outputs, f"subgroups_{split}")
    show_table(display_frame(groups), download=(f"subgroups_{split}", groups))
    st.markdown(escape_md(result.sentence(selection.name, selection.unit)))
    if result.pairwise:
        st.markdown(f"**Pairwise contrasts** — Holm family: {escape_md(result.family)}")
        contrasts = _table(outputs, "subgroup_contrasts")
        show_table(display_frame(contrasts), download=(f"subgroup_contrasts_{split}", contrasts))
    if result.welch_p is not None:
        st.write(
            f"Mann–Whitney U = {fmt_num(result.mann_whitney_u, 1)}, p = "
            f"{fmt_p(result.mann_whitney_p)} ({result.mann_whitney_method})."
        )
    st.caption(
        "Subgroups are compared on the change itself (the difference in mean change, Welch t "
        "and Mann–Whitney), never by setting one subgroup's p-value against another's."
    )
