"""Ratio (log) paired t-test for skewed labs (hepcidin, ferritin)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import AnalysisError
from analytics.plain import format_interval, format_level, format_number, format_p
from analytics.stats.common import (
    Pairs,
    all_identical,
    check_level,
    complete_pairs,
    dataclass_dict,
    describe_excluded,
    quantity_frame,
    require_pairs,
    t_summary,
)

__all__ = ["RatioResult", "ratio_from_pairs", "ratio_paired_t"]


@dataclass(frozen=True)
class RatioResult:
    """Ratio (log) paired t-test: the geometric-mean ratio follow-up / baseline.

    Attributes
    ----------
    n_pairs, n_excluded, excluded
        Complete pairs used; pairs dropped and why, as (patient_id, reason).
    confidence : float
        Confidence level of the interval.
    geometric_mean_baseline, geometric_mean_follow_up : float
        Geometric means over the complete pairs.
    mean_log_ratio, sd_log_ratio, se_log_ratio : float
        Mean, SD and SE of log(follow-up / baseline) (natural log).
    ratio, ratio_ci_low, ratio_ci_high : float
        Geometric mean ratio exp(mean_log_ratio) and its t-based CI.
    percent_change : float
        (ratio − 1) × 100, the typical percentage change.
    t, df, p_two_sided, p_less, p_greater
        Paired t on the log ratios (``less``: follow-up lower than baseline).
    patient_ids : tuple of str
        Patients in the complete pairs.

    Examples
    --------
    A paired t-test on the logs, cross-checked against SciPy:

    >>> from scipy import stats
    >>> baseline, follow_up = [49.0, 70.0, 25.0, 60.0, 41.5], [20.0, 25.0, 17.0, 24.0, 19.5]
    >>> result = ratio_paired_t(baseline, follow_up)
    >>> round(result.ratio, 3), round(result.percent_change, 1)
    (0.451, -54.9)
    >>> reference = stats.ttest_rel(np.log(follow_up), np.log(baseline))
    >>> bool(np.isclose(result.t, reference.statistic))
    True
    >>> bool(np.isclose(result.p_two_sided, reference.pvalue))
    True
    >>> bool(np.isclose(result.ratio, stats.gmean(follow_up) / stats.gmean(baseline)))
    True
    """

    n_pairs: int
    n_excluded: int
    excluded: tuple[tuple[str, str], ...]
    confidence: float
    geometric_mean_baseline: float
    geometric_mean_follow_up: float
    mean_log_ratio: float
    sd_log_ratio: float
    se_log_ratio: float
    ratio: float
    ratio_ci_low: float
    ratio_ci_high: float
    percent_change: float
    t: float
    df: int
    p_two_sided: float
    p_less: float
    p_greater: float
    patient_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded."""
        return dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: ``quantity``, ``label``, ``value``."""
        level = format_level(self.confidence)
        rows = [
            ("n_pairs", "Complete pairs", self.n_pairs),
            ("n_excluded", "Pairs excluded", self.n_excluded),
            ("excluded", "Excluded patients", describe_excluded(self.excluded) or "none"),
            ("geometric_mean_baseline", "Geometric mean at baseline", self.geometric_mean_baseline),
            (
                "geometric_mean_follow_up",
                "Geometric mean at follow-up",
                self.geometric_mean_follow_up,
            ),
            ("ratio", "Geometric mean ratio (follow-up / baseline)", self.ratio),
            ("ratio_ci_low", f"{level} CI of the ratio, lower", self.ratio_ci_low),
            ("ratio_ci_high", f"{level} CI of the ratio, upper", self.ratio_ci_high),
            ("percent_change", "Typical change (%)", self.percent_change),
            ("mean_log_ratio", "Mean log ratio", self.mean_log_ratio),
            ("sd_log_ratio", "SD of log ratio", self.sd_log_ratio),
            ("se_log_ratio", "SE of log ratio", self.se_log_ratio),
            ("t", "t (log scale)", self.t),
            ("df", "Degrees of freedom", self.df),
            ("p_two_sided", "p, two-sided", self.p_two_sided),
            ("p_less", "p, one-sided for a fall (follow-up lower)", self.p_less),
            ("p_greater", "p, one-sided for a rise (follow-up higher)", self.p_greater),
        ]
        return quantity_frame(rows)

    def sentence(self, lab_name: str) -> str:
        """A short plain reading of the ratio test."""
        direction = "fall" if self.ratio < 1 else "rise"
        interval = format_interval(self.ratio_ci_low, self.ratio_ci_high, digits=3)
        return (
            f"{lab_name} at follow-up was on average {format_number(self.ratio, digits=3)} "
            f"times its baseline value (geometric mean ratio; {format_level(self.confidence)} "
            f"CI {interval}, a typical {format_number(abs(self.percent_change), digits=3)} % "
            f"{direction}; ratio paired t = {format_number(self.t)}, df = {self.df}, "
            f"{format_p(self.p_two_sided, prefix=True)})"
        )


def ratio_from_pairs(pairs: Pairs, confidence: float) -> RatioResult:
    require_pairs(len(pairs.ids), pairs.excluded)
    for label, b, f in zip(pairs.ids, pairs.baseline, pairs.follow_up, strict=True):
        for name, value in (("baseline", b), ("follow-up", f)):
            if value <= 0:
                raise AnalysisError(
                    f"Patient {label} has a {name} value of {value:g}; the ratio (log) paired "
                    "t-test needs values above zero. Check the value, or use the ordinary "
                    "paired t-test."
                )
    log_baseline = np.log(pairs.baseline)
    log_follow_up = np.log(pairs.follow_up)
    log_ratios = log_follow_up - log_baseline
    if all_identical(log_ratios, 1.0):
        raise AnalysisError(
            f"All {len(log_ratios)} patients changed by exactly the same ratio "
            f"({math.exp(float(log_ratios[0])):g}), so the ratio t-test cannot be computed."
        )
    summary = t_summary(log_ratios, confidence, scale=1.0)
    ratio = math.exp(summary.mean)
    return RatioResult(
        n_pairs=summary.n,
        n_excluded=len(pairs.excluded),
        excluded=pairs.excluded,
        confidence=confidence,
        geometric_mean_baseline=float(np.exp(np.mean(log_baseline))),
        geometric_mean_follow_up=float(np.exp(np.mean(log_follow_up))),
        mean_log_ratio=summary.mean,
        sd_log_ratio=summary.sd,
        se_log_ratio=summary.se,
        ratio=ratio,
        ratio_ci_low=math.exp(summary.ci_low),
        ratio_ci_high=math.exp(summary.ci_high),
        percent_change=(ratio - 1.0) * 100.0,
        t=summary.t,
        df=summary.df,
        p_two_sided=summary.p_two_sided,
        p_less=summary.p_less,
        p_greater=summary.p_greater,
        patient_ids=pairs.ids,
    )


def ratio_paired_t(
    baseline: Any,
    follow_up: Any,
    patient_ids: Any = None,
    confidence: float = 0.95,
) -> RatioResult:
    """Ratio (log) paired t-test for skewed labs (hepcidin, ferritin).

    Parameters
    ----------
    baseline, follow_up : 1-D array-like of float
        One value per patient, NaN (or None) for missing, all values above zero.
    patient_ids : 1-D array-like, optional
        Patient labels; default the Series index, else 1..n.
    confidence : float
        Confidence level of the ratio's interval.

    Returns
    -------
    RatioResult

    Notes
    -----
    Missing data: complete pairs only; a pair with either value missing is dropped and
    listed in ``excluded``. Values must be > 0 (the message names the patient).
    Formula: with :math:`l_i = \\ln(y_i / x_i)`, a paired t-test on :math:`l_i`;
    ratio :math:`= \\exp(\\bar l)`, CI :math:`\\exp(\\bar l \\pm t_{1-a/2, n-1} s_l/\\sqrt n)`
    (GraphPad Prism's "ratio paired t test").
    """
    confidence = check_level(confidence, "confidence level")
    return ratio_from_pairs(complete_pairs(baseline, follow_up, patient_ids), confidence)
