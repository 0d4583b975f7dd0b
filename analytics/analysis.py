"""From a (filtered) cohort to the statistics: one lab, its time points, a subgroup split.

These functions pick the values out of a :class:`~analytics.cohort.Cohort` and call
the statistics in :mod:`analytics.stats.paired`, :mod:`analytics.stats.timecourse`,
:mod:`analytics.stats.subgroups` and :mod:`analytics.stats.prevalence`. The pages, the command
line and the exports all go through them, so the same file and settings give the
same numbers everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from analytics.cohort import Cohort, in_labels
from analytics.errors import AnalysisError, LabNotFoundError, UnitError
from analytics.evidence import (
    censored_left_out,
    censored_words,
    margin_for,
    name_censored,
    rcv_for,
)
from analytics.filters import age_groups
from analytics.labs import conventional_unit, format_time, is_log_scale, threshold_lab, unit_factor
from analytics.stats.mixed import MixedModelResult, mixed_model, mixed_model_not_fitted
from analytics.stats.paired import PairedResult, paired_change
from analytics.stats.prevalence import prevalence_by_time
from analytics.stats.subgroups import SubgroupResult, subgroup_contrast
from analytics.stats.timecourse import TimecourseResult, timecourse

if TYPE_CHECKING:  # settings.py reads SPLITS from this module
    from analytics.settings import AnalysisSettings


def _levels(analysis: AnalysisSettings | None) -> AnalysisSettings:
    """The settings given, or the defaults (alpha 0.05, 95 %, censored at the limit)."""
    if analysis is not None:
        return analysis
    from analytics.settings import AnalysisSettings

    return AnalysisSettings()


__all__ = [
    "SPLITS",
    "Selection",
    "censored_count_note",
    "paired_for",
    "prevalence_for",
    "select",
    "split_groups",
    "subgroups_for",
    "thesis_table",
    "timecourse_for",
]

#: Subgroup splits: key -> label.
SPLITS = {
    "sex": "Sex",
    "age_group": "Age group",
    "iron": "Iron therapy",
    "epo": "Epo",
    "cohort": "Cohort",
}


@dataclass(frozen=True)
class Selection:
    """One lab and two of its time points, resolved against a cohort."""

    analyte: str
    name: str
    unit: str
    baseline: float
    follow_up: float

    @property
    def times_label(self) -> str:
        return f"{format_time(self.baseline)} → {format_time(self.follow_up)}"

    def label(self) -> str:
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.name}{unit}, {self.times_label}"


def select(
    cohort: Cohort, analyte: str, baseline: str | float | None, follow_up: str | float | None
) -> Selection:
    """Resolve a lab name and time tokens (``2``, ``2w``, ``month 6``) against the cohort.

    Without ``baseline`` the lab's first time point is used; without ``follow_up``, its
    last. Raises :class:`AnalysisError` for an unknown lab or time, or equal times.
    """
    key = cohort.find_analyte(analyte)
    info = cohort.analytes[key]
    start = cohort.find_time(key, baseline) if baseline is not None else info.times[0]
    end = cohort.find_time(key, follow_up) if follow_up is not None else info.times[-1]
    if start == end:
        raise AnalysisError(
            f"Baseline and follow-up are both {format_time(start)}; choose two different times."
        )
    return Selection(key, info.name, info.unit, start, end)


def paired_for(
    cohort: Cohort,
    selection: Selection,
    analysis: AnalysisSettings | None = None,
    *,
    resampling: bool = True,
) -> PairedResult:
    """The paired comparison of ``selection`` in ``cohort``.

    ``resampling=False`` leaves the sign-flip test and the bootstrap for later (see
    :func:`analytics.stats.resampling.with_resampling`).

    Notes
    -----
    Complete pairs only: a patient counts when both the baseline and the follow-up
    value are present; the others are listed in ``excluded`` with the reason (under
    the ``exclude`` rule, every censored value left out is named).
    Censored values enter as the settings' ``censored`` rule says (see
    ``Cohort.lab_values``). The ratio (log) t-test is added for the skewed labs
    (``Lab.log_scale`` in :mod:`analytics.labs`). The equivalence test uses the
    settings' margin or the lab's default (:func:`analytics.evidence.margin_for`), the
    Bayes factor the settings' prior scale, and the reference change value the
    settings' CVs or the catalogue's (:func:`analytics.evidence.rcv_for`).
    """
    levels = _levels(analysis)
    matrix = cohort.lab_matrix(selection.analyte, levels.censored)
    margin, margin_note = margin_for(selection, levels)
    result = paired_change(
        matrix[selection.baseline].to_numpy(),
        matrix[selection.follow_up].to_numpy(),
        matrix.index.tolist(),
        alpha=levels.alpha,
        confidence=levels.confidence,
        log_scale_available=is_log_scale(selection.analyte),
        margin=margin,
        prior_scale=levels.prior_scale,
        unit=selection.unit,
        resampling=resampling,
    )
    pairs = (result.baseline_values, result.follow_up_values, result.patient_ids)
    rcv, rcv_note = rcv_for(cohort, selection, levels, pairs)
    result = replace(result, rcv=rcv, rcv_note=rcv_note)
    if margin_note is not None:
        result = replace(result, equivalence_note=margin_note)
    labs = cohort.lab_values(selection.analyte, "limit")
    censored = labs[
        (labs["censored"] != "") & labs["time"].isin([selection.baseline, selection.follow_up])
    ]
    if levels.censored != "exclude":
        censored = censored[in_labels(censored["patient_id"].astype(str), result.patient_ids)]
        note = censored_count_note(censored["censored"], levels.censored)
        return replace(result, censored_note=note)
    result = replace(result, censored_note=censored_count_note(censored["censored"], "exclude"))
    if not result.excluded:
        return result
    # say why a value is missing when the rule left censored values out: name each one
    times = [selection.baseline, selection.follow_up]
    named = censored_left_out(cohort, selection.analyte, times)
    excluded = []
    for pid, why in result.excluded:
        if pid not in named:
            excluded.append((pid, why))
            continue
        reason = censored_words([text for _, text in named[pid]])
        if len(named[pid]) == 1 and why == "no baseline or follow-up value":
            other = "follow-up" if named[pid][0][0] == selection.baseline else "baseline"
            reason += f"; no {other} value"
        excluded.append((pid, reason))
    return replace(result, excluded=tuple(excluded))


def censored_count_note(marks: pd.Series, rule: str) -> str | None:
    """How many censored values (marks ``<`` / ``>``) entered a comparison, and how.

    Examples
    --------
    >>> censored_count_note(pd.Series(["<", "<", ">"]), "half")
    '2 values below the detection limit entered at half the limit; 1 value above the detection limit entered at the limit.'
    >>> censored_count_note(pd.Series(["<"]), "exclude")
    '1 value below the detection limit left out.'
    >>> censored_count_note(pd.Series([], dtype=object), "limit") is None
    True
    """  # noqa: E501
    parts = []
    for mark, side in (("<", "below"), (">", "above")):
        count = int((marks == mark).sum())
        if not count:
            continue
        if rule == "exclude":
            how = "left out"
        elif rule == "half" and mark == "<":
            how = "entered at half the limit"
        else:
            how = "entered at the limit"
        noun = "value" if count == 1 else "values"
        parts.append(f"{count} {noun} {side} the detection limit {how}")
    return "; ".join(parts) + "." if parts else None


def timecourse_for(
    cohort: Cohort,
    analyte: str,
    *,
    baseline: float | None = None,
    analysis: AnalysisSettings | None = None,
    mixed: bool = True,
) -> TimecourseResult:
    """Every time point of one lab: descriptives, Friedman, RM-ANOVA, contrasts, mixed model.

    ``mixed=False`` leaves the mixed model out (``mixed_model`` None), for a page that
    shows the course without it.

    Notes
    -----
    Only patients with at least one value of the lab enter; the others are listed in
    ``left_out`` with the reason. The omnibus tests use patients with every time
    point present (complete cases, the others in ``incomplete``), each contrast
    against baseline the patients with both values (the others in its ``excluded``).
    Under the ``exclude`` rule every censored value left out is named in these reasons.
    The mixed model (:mod:`analytics.stats.mixed`) uses every value, from 3 time
    points on.
    """
    levels = _levels(analysis)
    matrix = cohort.lab_matrix(analyte, levels.censored)
    no_value = [str(pid) for pid in matrix.index[matrix.isna().all(axis=1)]]
    matrix = matrix.dropna(how="all")
    # time points at which none of these patients has a value (e.g. month 6 in a
    # cohort followed for 2 months) are not part of this course
    matrix = matrix.loc[:, matrix.notna().any() | (matrix.columns == baseline)]
    if matrix.empty:
        raise AnalysisError("No patient in this selection has a value of this lab.")
    result = timecourse(matrix, baseline=baseline, alpha=levels.alpha, confidence=levels.confidence)
    if mixed:
        fitted = _mixed_for(matrix, result.baseline_time, levels.confidence)
        result = replace(result, mixed_model=fitted)
    name = cohort.analytes[analyte].name
    left_out = tuple((pid, f"no {name} value at any time") for pid in no_value)
    if levels.censored != "exclude":
        return replace(result, left_out=left_out)
    named = censored_left_out(cohort, analyte, list(result.times))
    start = result.baseline_time
    contrasts = tuple(
        replace(c, excluded=name_censored(c.excluded, named, [start, c.time]))
        for c in result.contrasts
    )
    return replace(
        result,
        incomplete=name_censored(result.incomplete, named),
        contrasts=contrasts,
        left_out=name_censored(left_out, named),
    )


def _mixed_for(matrix: pd.DataFrame, baseline: float, confidence: float) -> MixedModelResult:
    """The mixed model of a time course; with two time points the paired test is the analysis."""
    if matrix.shape[1] < 3:
        note = (
            "Not fitted: the mixed model is for 3 or more time points; with two, the paired "
            "comparison is the analysis."
        )
        return mixed_model_not_fitted(matrix, note, baseline, confidence)
    return mixed_model(matrix, baseline, confidence)


def thesis_table(result: TimecourseResult) -> pd.DataFrame:
    """The study's table layout: time, mean, N, SD, SE, p against baseline.

    The two-sided paired p and both one-sided p, for a fall and for a rise (JMP's
    Prob < t and Prob > t), are given, never a one-sided p picked by the direction the
    data moved: the thesis's hepcidin p (0.01) is the one-sided p for a fall. The
    Holm-adjusted p is over the contrasts of this lab against baseline (the family is
    named in ``result.family``).
    """
    contrasts = {c.time: c for c in result.contrasts}
    rows = []
    for summary in result.descriptives:
        contrast = contrasts.get(summary.time)
        p_two = contrast.p_raw if contrast is not None else None
        tested = p_two is not None and contrast.t is not None and contrast.df is not None
        rows.append(
            {
                "time": format_time(summary.time),
                "months": summary.time,
                "mean": summary.mean,
                "N": summary.n,
                "SD": summary.sd,
                "SE": summary.se,
                "median": summary.median,
                "mode": summary.mode,
                "pairs": contrast.n_pairs if contrast else None,
                "p vs baseline (two-sided)": p_two,
                "p one-sided, for a fall": (
                    float(stats.t.cdf(contrast.t, contrast.df)) if tested else None
                ),
                "p one-sided, for a rise": (
                    float(stats.t.sf(contrast.t, contrast.df)) if tested else None
                ),
                "p Holm (two-sided)": contrast.p_holm if contrast else None,
            }
        )
    return pd.DataFrame(rows).astype({"N": "Int64", "pairs": "Int64"})


def split_groups(cohort: Cohort, split: str, age_cutoff: float) -> pd.Series:
    """Each patient's subgroup label for ``split`` (None where not recorded)."""
    patients = cohort.patients
    if split == "sex":
        return patients["sex"].map({"F": "Female", "M": "Male"}).astype(object)
    if split == "age_group":
        return age_groups(patients, age_cutoff).map(
            lambda g: None if g is None or pd.isna(g) else str(g).capitalize()
        )
    if split in ("iron", "epo"):
        names = {"iron": ("On iron", "Not on iron"), "epo": ("On Epo", "Not on Epo")}[split]
        return patients[split].map(
            lambda v: None if v is None or pd.isna(v) else (names[0] if v else names[1])
        )
    if split == "cohort":
        # kept as written in the file: "CBT", "diet1", "retrospective"
        return patients["cohort"].map(lambda v: None if v is None or pd.isna(v) else str(v))
    raise AnalysisError(f"Unknown subgroup split '{split}'; use one of {', '.join(SPLITS)}.")


def subgroups_for(
    cohort: Cohort,
    selection: Selection,
    split: str,
    analysis: AnalysisSettings | None = None,
) -> SubgroupResult:
    """Compare the change of ``selection`` between the subgroups of ``split``.

    Notes
    -----
    Complete pairs only; patients whose subgroup is not recorded are listed as
    excluded. The groups are compared on the change itself (Welch t and
    Mann–Whitney), never by comparing two p-values.
    """
    levels = _levels(analysis)
    matrix = cohort.lab_matrix(selection.analyte, levels.censored)
    changes = (matrix[selection.follow_up] - matrix[selection.baseline]).to_numpy()
    groups = split_groups(cohort, split, levels.age_cutoff).reindex(matrix.index)
    labels = [None if g is None or (isinstance(g, float) and np.isnan(g)) else g for g in groups]
    return subgroup_contrast(changes, labels, matrix.index.tolist(), levels.confidence)


def prevalence_for(
    cohort: Cohort,
    kind: str,
    analysis: AnalysisSettings | None = None,
) -> pd.DataFrame:
    """Share of patients with anemia (Hgb) or microcytosis (MCV) at each time point.

    Notes
    -----
    Per time point, the patients with a value and the age (and, for anemia from
    age 15, the sex) needed to pick their threshold; the others are listed as
    excluded. Exact Clopper–Pearson confidence intervals. The thresholds and their
    source are named in the ``thresholds`` column; they, the confidence level and the
    censored rule come from the settings.

    Raises
    ------
    LabNotFoundError
        When the cohort has no values of the lab the prevalence needs.
    UnitError
        When the lab's unit cannot be converted to the thresholds' unit.
    """
    lab = threshold_lab(kind).key
    needed = "hemoglobin" if lab == "hgb" else "MCV"
    if lab not in cohort.analytes:
        raise LabNotFoundError(
            f"The {kind} prevalence needs {needed} values; this file has none.", lab
        )
    unit = cohort.analytes[lab].unit
    factor = unit_factor(lab, unit)
    if factor is None:
        raise UnitError(
            f"The {kind} thresholds are in {conventional_unit(lab)}; this file's {needed} is "
            f"in '{unit}', which cannot be converted. Correct the unit in the column mapping.",
            lab,
            unit,
        )
    # thresholds are in the conventional unit: compare values converted to it
    levels = _levels(analysis)
    matrix = cohort.lab_matrix(lab, levels.censored) / factor
    matrix = matrix.loc[:, matrix.notna().any()]
    table = prevalence_by_time(
        matrix,
        cohort.patients["age"],
        cohort.patients["sex"],
        kind,  # type: ignore[arg-type]
        levels.thresholds,
        confidence=levels.confidence,
    )
    table.insert(1, "label", table["time"].map(format_time))
    return table
