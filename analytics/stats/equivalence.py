"""Equivalence of a paired change: two one-sided tests (TOST) against a margin.

A non-significant paired t-test is not evidence that nothing changed. The equivalence
test asks the question the other way round: does the mean change lie within ±margin,
a change too small to matter clinically? It runs two one-sided paired t-tests, one
against a fall of the margin and one against a rise of the margin (Schuirmann 1987);
the change is shown to lie within the margin when both reject at ``alpha``, which is
the same as the 1 − 2·alpha confidence interval (90 % at alpha 0.05) lying inside
±margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import AnalysisError
from analytics.plain import format_interval, format_level, format_p
from analytics.stats.common import check_level, dataclass_dict, quantity_frame, t_summary

__all__ = ["EquivalenceResult", "check_margin", "equivalence_test"]


def check_margin(margin: Any) -> float:
    """The margin as a positive finite float; refuses anything else in plain words."""
    if isinstance(margin, bool) or not isinstance(margin, int | float | np.number):
        raise AnalysisError(f"The equivalence margin must be a number, not {margin!r}.")
    value = float(margin)
    if not (math.isfinite(value) and value > 0):
        raise AnalysisError(
            f"The equivalence margin must be a positive number in the lab's unit, not {margin}."
        )
    return value


@dataclass(frozen=True)
class EquivalenceResult:
    """The two one-sided paired t-tests of a mean change against ±margin.

    Attributes
    ----------
    margin : float
        The equivalence margin, in the lab's unit (the change lies "within" when it is
        between −margin and +margin).
    t_lower, p_lower
        Test of H0: mean change ≤ −margin against H1: mean change > −margin.
    t_upper, p_upper
        Test of H0: mean change ≥ +margin against H1: mean change < +margin.
    p : float
        The TOST p, the larger of the two.
    df : int
        Degrees of freedom (pairs − 1).
    alpha : float
        Significance level of each one-sided test.
    confidence, ci_low, ci_high
        The 1 − 2·alpha confidence interval of the mean change (90 % at alpha 0.05).
    equivalent : bool
        Both one-sided tests reject at ``alpha`` (the interval lies inside ±margin).
    verdict : str
        The result in plain words.
    """

    margin: float
    p_lower: float
    p_upper: float
    p: float
    ci_low: float
    ci_high: float
    confidence: float
    equivalent: bool
    t_lower: float
    t_upper: float
    df: int
    alpha: float
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded."""
        return dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: ``quantity``, ``label``, ``value``."""
        level = format_level(self.confidence)
        rows = [
            ("margin", "Equivalence margin (±)", self.margin),
            ("t_lower", "t against a fall of the margin", self.t_lower),
            ("p_lower", "p, change above −margin (one-sided)", self.p_lower),
            ("t_upper", "t against a rise of the margin", self.t_upper),
            ("p_upper", "p, change below +margin (one-sided)", self.p_upper),
            ("p", "Equivalence (TOST) p, the larger of the two", self.p),
            ("df", "Degrees of freedom", self.df),
            ("ci_low", f"{level} CI of the mean change, lower", self.ci_low),
            ("ci_high", f"{level} CI of the mean change, upper", self.ci_high),
            ("equivalent", "Change shown to lie within the margin", self.equivalent),
            ("verdict", "Equivalence verdict", self.verdict),
        ]
        return quantity_frame(rows)


def _verdict(
    margin: float, low: float, high: float, equivalent: bool, unit: str, p: float, level: str
) -> str:
    u = f" {unit}" if unit else ""
    size = f"{margin:g}{u}"
    interval = f"{level} CI {format_interval(low, high, digits=3, signed=True)}{u}"
    tost = f"equivalence {format_p(p, prefix=True)}; {interval}"
    if equivalent:
        return f"The change lies within ±{size} ({tost})."
    if low >= margin:
        return f"The change is a rise of more than {size} ({interval})."
    if high <= -margin:
        return f"The change is a fall of more than {size} ({interval})."
    if high >= margin and low <= -margin:
        what = f"a change of {size} in either direction"
    elif high >= margin:
        what = f"a rise of {size}"
    else:
        what = f"a fall of {size}"
    return f"The change cannot be told apart from {what} ({tost})."


def equivalence_test(
    changes: Any, margin: float, alpha: float = 0.05, *, unit: str = ""
) -> EquivalenceResult:
    """Two one-sided paired t-tests (TOST) of the mean change against ±``margin``.

    Parameters
    ----------
    changes : 1-D array-like of float
        Follow-up − baseline of each complete pair (no missing values).
    margin : float
        Equivalence margin in the lab's unit, > 0.
    alpha : float
        Significance level of each one-sided test; the interval is at 1 − 2·alpha.
    unit : str
        The lab's unit, for the verdict.

    Returns
    -------
    EquivalenceResult

    Raises
    ------
    AnalysisError
        Fewer than 2 changes, all changes identical, a margin that is not a positive
        number, alpha not between 0 and 0.5.

    Notes
    -----
    With :math:`\\bar d`, :math:`s_d` and :math:`n` the mean, SD and number of changes,
    :math:`se = s_d/\\sqrt n` and :math:`\\Delta` the margin:
    :math:`t_L = (\\bar d + \\Delta)/se`, :math:`p_L = P(T_{n-1} \\ge t_L)`;
    :math:`t_U = (\\bar d - \\Delta)/se`, :math:`p_U = P(T_{n-1} \\le t_U)`;
    :math:`p = \\max(p_L, p_U)`; equivalent when :math:`p < \\alpha`. The interval is
    :math:`\\bar d \\pm t_{1-\\alpha, n-1}\\, se`. In R:
    ``t.test(d, mu = -margin, alternative = "greater")`` and
    ``t.test(d, mu = margin, alternative = "less")`` give :math:`p_L` and :math:`p_U`,
    ``t.test(d, conf.level = 1 - 2 * alpha)`` the interval.

    Examples
    --------
    Student's sleep data (change = drug 2 − drug 1) against a margin of 1 hour:

    >>> change = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
    >>> result = equivalence_test(change, 1.0, unit="h")
    >>> result.equivalent, round(result.p, 4)
    (False, 0.9149)
    >>> print(result.verdict)  # doctest: +NORMALIZE_WHITESPACE
    The change cannot be told apart from a rise of 1 h (equivalence p = 0.915;
    90 % CI +0.867 to +2.29 h).
    """
    margin = check_margin(margin)
    alpha = check_level(alpha, "significance level (alpha)")
    if alpha >= 0.5:
        raise AnalysisError(
            "The equivalence test needs alpha below 0.5 (its interval is at 1 − 2·alpha)."
        )
    values = np.asarray(changes, dtype=float)
    confidence = 1.0 - 2.0 * alpha
    summary = t_summary(values, confidence)
    t_lower = (summary.mean + margin) / summary.se
    t_upper = (summary.mean - margin) / summary.se
    p_lower = float(stats.t.sf(t_lower, summary.df))
    p_upper = float(stats.t.cdf(t_upper, summary.df))
    p = max(p_lower, p_upper)
    equivalent = p < alpha
    return EquivalenceResult(
        margin=margin,
        p_lower=p_lower,
        p_upper=p_upper,
        p=p,
        ci_low=summary.ci_low,
        ci_high=summary.ci_high,
        confidence=confidence,
        equivalent=equivalent,
        t_lower=float(t_lower),
        t_upper=float(t_upper),
        df=summary.df,
        alpha=alpha,
        verdict=_verdict(
            margin,
            summary.ci_low,
            summary.ci_high,
            equivalent,
            unit,
            p,
            format_level(confidence),
        ),
    )
