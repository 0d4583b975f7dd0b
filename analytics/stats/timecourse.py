"""One lab over several time points: descriptives, omnibus tests, contrasts vs baseline.

Per time point: n, mean, SD, SE, t-based CI, median and mode. Across time points, on
patients with every value present (complete cases): the Friedman test and the
repeated-measures ANOVA with the Greenhouse–Geisser correction. Then each time point
against baseline as a paired t-test on the patients with both values, with raw and
Holm-adjusted p-values and the family named. The mixed model on every value is
:mod:`analytics.stats.mixed` (``analysis.timecourse_for`` adds it).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import AnalysisError
from analytics.plain import format_level
from analytics.stats.common import (
    check_level,
    dataclass_dict,
    float_array,
    holm_adjust,
    quantity_frame,
    t_summary,
)
from analytics.stats.mixed import MixedModelResult
from analytics.stats.repeated import friedman, greenhouse_geisser_epsilon, rm_anova

__all__ = [
    "Contrast",
    "TimecourseResult",
    "TimepointSummary",
    "excel_mode",
    "greenhouse_geisser_epsilon",
    "timecourse",
]


def _time_label(time: float) -> str:
    return f"month {time:g}"


def excel_mode(values: Any) -> float | None:
    """The mode as Excel's MODE / MODE.SNGL prints it.

    Parameters
    ----------
    values : 1-D array-like of float
        NaN is ignored.

    Returns
    -------
    float or None
        The most frequent value; among equally frequent values, the one that occurs
        first in the given order; None when every value occurs once (Excel: #N/A).

    Notes
    -----
    Missing data: NaN values are dropped first. Values are compared exactly, as Excel
    does, so 11.7 and 11.70000001 are different values.
    """
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return None
    counts = Counter(array.tolist())
    top = max(counts.values())
    if top < 2:
        return None
    return float(next(value for value in array.tolist() if counts[value] == top))


@dataclass(frozen=True)
class TimepointSummary:
    """Descriptives of one time point (all patients with a value there).

    ``sd``, ``se``, ``ci_low`` and ``ci_high`` are None below 2 values; ``mode`` is
    None when all values are unique (see :func:`excel_mode`).
    """

    time: float
    label: str
    n: int
    mean: float | None
    sd: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    median: float | None
    mode: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclass_dict(self)


@dataclass(frozen=True)
class Contrast:
    """One time point against baseline: paired t on patients with both values.

    ``p_holm`` is Holm-adjusted within the result's family; every inferential field is
    None (with ``note``) when the contrast cannot be computed.
    """

    time: float
    label: str
    n_pairs: int
    excluded: tuple[tuple[str, str], ...]
    mean_change: float | None
    sd_change: float | None
    ci_low: float | None
    ci_high: float | None
    t: float | None
    df: int | None
    p_raw: float | None
    p_holm: float | None
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclass_dict(self)


@dataclass(frozen=True)
class TimecourseResult:
    """One lab across time points.

    Attributes
    ----------
    times, baseline_time, alpha, confidence
        Time points (months, ascending), the baseline, significance and CI levels.
    n_patients : int
        Rows in the input.
    descriptives : tuple of TimepointSummary
        One per time point.
    n_complete, complete_patient_ids, incomplete
        Patients with every value present (used by the omnibus tests), and those left
        out of them with the times they miss.
    friedman_statistic, friedman_df, friedman_p, friedman_note
        Friedman chi-square on complete cases (tie-corrected), or None with the reason.
    anova_f, anova_df1, anova_df2, anova_p, epsilon_gg, anova_df1_gg, anova_df2_gg,
    anova_p_gg, anova_note
        One-way repeated-measures ANOVA on complete cases, uncorrected and
        Greenhouse–Geisser corrected, or None with the reason.
    contrasts : tuple of Contrast
        Each later time point against baseline.
    family : str
        The Holm family, e.g. "3 contrasts against month 0".
    mixed_model : MixedModelResult or None
        The mixed model on every value (``analysis.timecourse_for``); None from here.
    left_out : tuple of (patient_id, reason)
        Patients of the selection not in the table at all (no value of the lab at any
        time), filled by :func:`analytics.analysis.timecourse_for`.

    Examples
    --------
    MCV of five patients at months 0, 2 and 6, cross-checked against SciPy:

    >>> from scipy import stats
    >>> values = pd.DataFrame(
    ...     {0: [80.0, 82, 79, 85, 81], 2: [78.0, 80, 77, 84, 80], 6: [77.0, 79, 78, 82, 78]},
    ...     index=list("ABCDE"),
    ... )
    >>> result = timecourse(values)
    >>> result.times, result.n_complete, [c.label for c in result.contrasts]
    ((0.0, 2.0, 6.0), 5, ['month 2', 'month 6'])
    >>> friedman = stats.friedmanchisquare(values[0], values[2], values[6])
    >>> bool(np.isclose(result.friedman_statistic, friedman.statistic))
    True
    >>> bool(np.isclose(result.friedman_p, friedman.pvalue))
    True
    >>> month_2 = stats.ttest_rel(values[2], values[0])
    >>> bool(np.isclose(result.contrasts[0].p_raw, month_2.pvalue))
    True
    """

    times: tuple[float, ...]
    baseline_time: float
    alpha: float
    confidence: float
    n_patients: int
    descriptives: tuple[TimepointSummary, ...]
    n_complete: int
    complete_patient_ids: tuple[str, ...]
    incomplete: tuple[tuple[str, str], ...]
    friedman_statistic: float | None
    friedman_df: int | None
    friedman_p: float | None
    friedman_note: str | None
    anova_f: float | None
    anova_df1: int | None
    anova_df2: int | None
    anova_p: float | None
    epsilon_gg: float | None
    anova_df1_gg: float | None
    anova_df2_gg: float | None
    anova_p_gg: float | None
    anova_note: str | None
    contrasts: tuple[Contrast, ...]
    family: str
    mixed_model: MixedModelResult | None = None
    left_out: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded; missing quantities are None."""
        return dataclass_dict(self)

    def descriptives_frame(self) -> pd.DataFrame:
        """One row per time point: time, label, n, mean, sd, se, CI, median, mode."""
        return pd.DataFrame([row.to_dict() for row in self.descriptives])

    def contrasts_frame(self) -> pd.DataFrame:
        """One row per contrast against baseline, raw and Holm p side by side."""
        rows = []
        for contrast in self.contrasts:
            row = contrast.to_dict()
            row["excluded"] = "; ".join(f"{pid} ({why})" for pid, why in contrast.excluded)
            row["family"] = self.family
            rows.append(row)
        return pd.DataFrame(rows)

    def tests_frame(self) -> pd.DataFrame:
        """The omnibus tests, one row per quantity: ``quantity``, ``label``, ``value``."""
        rows = [
            ("n_complete", "Patients with every time point (complete cases)", self.n_complete),
            ("friedman_statistic", "Friedman chi-square", self.friedman_statistic),
            ("friedman_df", "Friedman df", self.friedman_df),
            ("friedman_p", "Friedman p", self.friedman_p),
            ("friedman_note", "Friedman note", self.friedman_note),
            ("anova_f", "Repeated-measures ANOVA F", self.anova_f),
            ("anova_df1", "ANOVA df (time)", self.anova_df1),
            ("anova_df2", "ANOVA df (error)", self.anova_df2),
            ("anova_p", "ANOVA p, uncorrected", self.anova_p),
            ("epsilon_gg", "Greenhouse–Geisser epsilon", self.epsilon_gg),
            ("anova_df1_gg", "ANOVA df (time), GG-corrected", self.anova_df1_gg),
            ("anova_df2_gg", "ANOVA df (error), GG-corrected", self.anova_df2_gg),
            ("anova_p_gg", "ANOVA p, Greenhouse–Geisser corrected", self.anova_p_gg),
            ("anova_note", "ANOVA note", self.anova_note),
        ]
        return quantity_frame(rows)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table for display: per-time descriptives beside the contrast vs baseline."""
        frame = self.descriptives_frame()
        level = format_level(self.confidence)
        frame = frame.rename(columns={"ci_low": f"{level} CI low", "ci_high": f"{level} CI high"})
        contrasts = pd.DataFrame(
            [
                {
                    "time": c.time,
                    "n_pairs": c.n_pairs,
                    "mean_change": c.mean_change,
                    "change_ci_low": c.ci_low,
                    "change_ci_high": c.ci_high,
                    "t": c.t,
                    "df": c.df,
                    "p_raw": c.p_raw,
                    "p_holm": c.p_holm,
                }
                for c in self.contrasts
            ],
            columns=[
                "time",
                "n_pairs",
                "mean_change",
                "change_ci_low",
                "change_ci_high",
                "t",
                "df",
                "p_raw",
                "p_holm",
            ],
        )
        frame = frame.merge(contrasts, on="time", how="left")
        return frame.astype({"n_pairs": "Int64", "df": "Int64"})


# --------------------------------------------------------------------------------------


def _prepare(values: Any, baseline: float | None) -> tuple[pd.DataFrame, float]:
    if not isinstance(values, pd.DataFrame):
        raise AnalysisError(
            "The time course needs a table: one row per patient, one column per time."
        )
    if values.shape[1] < 2:
        raise AnalysisError(
            f"A time course needs at least 2 time points; this table has {values.shape[1]}."
        )
    try:
        times = [float(column) for column in values.columns]
    except (TypeError, ValueError) as problem:
        raise AnalysisError(
            "Each column must be a time in months (for example 0, 0.5, 2, 6)."
        ) from problem
    if len(set(times)) != len(times):
        raise AnalysisError("Two columns have the same time point; each time must appear once.")
    ids = list(map(str, values.index.tolist()))
    if len(set(ids)) != len(ids):
        duplicate = next(label for label in ids if ids.count(label) > 1)
        raise AnalysisError(
            f"Patient {duplicate} appears more than once; each row must be one patient."
        )
    columns = {
        time: float_array(values.iloc[:, position], _time_label(time), ids)
        for position, time in enumerate(times)
    }
    table = pd.DataFrame(columns, index=pd.Index(ids, name="patient_id"))
    table = table[sorted(table.columns)]
    start = min(times) if baseline is None else float(baseline)
    if start not in table.columns:
        raise AnalysisError(f"The baseline {_time_label(start)} is not one of the time points.")
    return table, start


def _summarise_time(time: float, column: np.ndarray, confidence: float) -> TimepointSummary:
    present = column[~np.isnan(column)]
    n = len(present)
    mean = float(np.mean(present)) if n else None
    sd = se = low = high = None
    if n >= 2:
        sd = float(np.std(present, ddof=1))
        se = sd / math.sqrt(n)
        half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
        low, high = mean - half, mean + half
    return TimepointSummary(
        time=time,
        label=_time_label(time),
        n=n,
        mean=mean,
        sd=sd,
        se=se,
        ci_low=low,
        ci_high=high,
        median=float(np.median(present)) if n else None,
        mode=excel_mode(present),
    )


def _contrast_exclusions(
    table: pd.DataFrame, start: float, time: float
) -> tuple[tuple[str, str], ...]:
    """The patients without one of the two values, in table order, and which they lack."""
    first, second = np.isnan(table[start].to_numpy()), np.isnan(table[time].to_numpy())
    reasons = (
        f"no {_time_label(start)} or {_time_label(time)} value",
        f"no {_time_label(start)} value",
        f"no {_time_label(time)} value",
    )
    missing = np.flatnonzero(first | second)
    which = np.where(first & second, 0, np.where(first, 1, 2))[missing]
    labels = table.index.to_numpy(dtype=object)[missing]
    return tuple(zip(map(str, labels), map(reasons.__getitem__, which.tolist()), strict=True))


def _raw_contrast(table: pd.DataFrame, start: float, time: float, confidence: float) -> Contrast:
    pairs = table[[start, time]].dropna(how="any").to_numpy(dtype=float)
    changes = pairs[:, 1] - pairs[:, 0]
    scale = float(np.max(np.abs(pairs))) if pairs.size else 1.0
    common = {
        "time": time,
        "label": _time_label(time),
        "n_pairs": len(changes),
        "excluded": _contrast_exclusions(table, start, time),
        "p_holm": None,
    }
    try:
        s = t_summary(changes, confidence, scale)
    except AnalysisError as problem:
        return Contrast(
            **common,
            mean_change=float(np.mean(changes)) if len(changes) else None,
            sd_change=None,
            ci_low=None,
            ci_high=None,
            t=None,
            df=None,
            p_raw=None,
            note=f"Not tested: {problem}",
        )
    return Contrast(
        **common,
        mean_change=s.mean,
        sd_change=s.sd,
        ci_low=s.ci_low,
        ci_high=s.ci_high,
        t=s.t,
        df=s.df,
        p_raw=s.p_two_sided,
        note=None,
    )


def _contrasts(
    table: pd.DataFrame, start: float, confidence: float
) -> tuple[tuple[Contrast, ...], str]:
    raw = [_raw_contrast(table, start, time, confidence) for time in table.columns if time != start]
    tested = [c.p_raw for c in raw if c.p_raw is not None]
    holm = iter(holm_adjust(np.array(tested)).tolist() if tested else [])
    contrasts = tuple(
        replace(c, p_holm=float(next(holm))) if c.p_raw is not None else c for c in raw
    )
    count = len(tested)
    noun = "contrast" if count == 1 else "contrasts"
    family = f"{count} paired {noun} against {_time_label(start)} (Holm)"
    return contrasts, family


def _incomplete(table: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """The patients without every time point, in table order, and which times they lack."""
    absent = np.isnan(table.to_numpy(dtype=float))
    rows = np.flatnonzero(absent.any(axis=1))
    labels = [_time_label(float(time)) for time in table.columns]
    # one reason per pattern of missing times (a cohort has few patterns)
    codes = absent[rows] @ (1 << np.arange(absent.shape[1], dtype=np.int64))
    reasons: dict[int, str] = {}
    for code, row in zip(codes.tolist(), rows.tolist(), strict=True):
        if code not in reasons:
            missing = [label for label, gone in zip(labels, absent[row], strict=True) if gone]
            reasons[code] = "no " + ", ".join(missing) + " value"
    names = table.index.to_numpy(dtype=object)[rows]
    return tuple(zip(map(str, names), map(reasons.__getitem__, codes.tolist()), strict=True))


def timecourse(
    values: pd.DataFrame,
    baseline: float | None = None,
    alpha: float = 0.05,
    *,
    confidence: float = 0.95,
) -> TimecourseResult:
    """Describe and test one lab across several time points.

    Parameters
    ----------
    values : pandas.DataFrame
        Indexed by patient_id; columns are times in months (numbers such as 0, 0.5,
        1, 2, 6); NaN for missing.
    baseline : float, optional
        The baseline time; default the earliest.
    alpha : float
        Significance level (kept with the result for display of the family).
    confidence : float
        Confidence level of the per-time and per-contrast intervals.

    Returns
    -------
    TimecourseResult

    Raises
    ------
    AnalysisError
        Fewer than 2 time points, non-numeric times or values, duplicate times or
        patients, or a baseline that is not a column.

    Notes
    -----
    Missing data: descriptives use every value present at that time; the Friedman
    test and the ANOVA use complete cases (patients with every time point, listed in
    ``incomplete`` otherwise); each contrast uses the patients with both the baseline
    and that time's value.

    Friedman: ranks within patient, :math:`R_j` the rank sums,
    :math:`Q = [12/(nk(k+1)) \\sum R_j^2 - 3n(k+1)] / [1 - \\sum(t^3-t)/(nk(k^2-1))]`
    on :math:`k-1` df (as scipy's ``friedmanchisquare``, which needs k ≥ 3; this one
    also accepts k = 2).

    Repeated-measures ANOVA: :math:`F = (SS_{time}/(k-1)) / (SS_{error}/((k-1)(n-1)))`
    with :math:`SS_{error} = SS_{total} - SS_{time} - SS_{patients}` (equals statsmodels'
    ``AnovaRM``). Greenhouse–Geisser: both df multiplied by
    :func:`greenhouse_geisser_epsilon`.

    Contrasts: paired t of each later time against baseline (change = later −
    baseline), Holm-adjusted across the contrasts that could be tested.
    """
    alpha = check_level(alpha, "significance level (alpha)")
    confidence = check_level(confidence, "confidence level")
    table, start = _prepare(values, baseline)
    complete = table.dropna(how="any")
    matrix = complete.to_numpy(dtype=float)
    friedman_result = friedman(matrix)
    anova = rm_anova(matrix)
    contrasts, family = _contrasts(table, start, confidence)
    return TimecourseResult(
        times=tuple(float(t) for t in table.columns),
        baseline_time=start,
        alpha=alpha,
        confidence=confidence,
        n_patients=len(table),
        descriptives=tuple(
            _summarise_time(float(t), table[t].to_numpy(), confidence) for t in table.columns
        ),
        n_complete=len(complete),
        complete_patient_ids=tuple(map(str, complete.index.tolist())),
        incomplete=_incomplete(table),
        friedman_statistic=friedman_result.statistic,
        friedman_df=None if friedman_result.df1 is None else int(friedman_result.df1),
        friedman_p=friedman_result.p,
        friedman_note=friedman_result.note,
        anova_f=anova.statistic,
        anova_df1=None if anova.df1 is None else int(anova.df1),
        anova_df2=None if anova.df2 is None else int(anova.df2),
        anova_p=anova.p,
        epsilon_gg=anova.epsilon,
        anova_df1_gg=None if anova.epsilon is None else anova.df1 * anova.epsilon,
        anova_df2_gg=None if anova.epsilon is None else anova.df2 * anova.epsilon,
        anova_p_gg=anova.p_gg,
        anova_note=anova.note,
        contrasts=contrasts,
        family=family,
    )
