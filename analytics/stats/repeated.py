"""Omnibus tests of one lab over several time points, on complete cases.

The Friedman test (tie-corrected) and the one-way repeated-measures ANOVA with the
Greenhouse–Geisser correction, used by :func:`analytics.stats.timecourse.timecourse`.
Each takes a complete patients × times matrix and returns an :class:`Omnibus`, with a
note instead of numbers when the test cannot be computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analytics.errors import AnalysisError

__all__ = ["Omnibus", "friedman", "greenhouse_geisser_epsilon", "rm_anova"]


def greenhouse_geisser_epsilon(matrix: Any) -> float:
    """Greenhouse–Geisser epsilon from a complete patients × times matrix.

    Parameters
    ----------
    matrix : 2-D array-like
        Rows are patients, columns time points, no missing values.

    Returns
    -------
    float
        Epsilon in ``[1 / (k - 1), 1]``; exactly 1 for two time points.

    Notes
    -----
    Missing data: none allowed (complete cases only). With :math:`S` the k × k sample
    covariance of the columns and :math:`C = I - J/k` the centring matrix,
    :math:`S_c = C S C` and
    :math:`\\varepsilon = (\\operatorname{tr} S_c)^2 / ((k-1)\\operatorname{tr}(S_c^2))`
    (Greenhouse & Geisser 1959; Box 1954).
    """
    data = np.asarray(matrix, dtype=float)
    k = data.shape[1]
    if k < 2:
        raise AnalysisError("The Greenhouse–Geisser epsilon needs at least 2 time points.")
    if k == 2:
        return 1.0
    covariance = np.cov(data, rowvar=False)
    centring = np.eye(k) - np.full((k, k), 1.0 / k)
    centred = centring @ covariance @ centring
    trace = float(np.trace(centred))
    trace_square = float(np.sum(centred * centred))  # tr(Sc Sc) for symmetric Sc
    if trace_square <= 0:
        raise AnalysisError(
            "The Greenhouse–Geisser epsilon is undefined: no within-patient variation."
        )
    epsilon = trace**2 / ((k - 1) * trace_square)
    return float(min(1.0, max(1.0 / (k - 1), epsilon)))


@dataclass(frozen=True)
class Omnibus:
    statistic: float | None = None
    df1: float | None = None
    df2: float | None = None
    p: float | None = None
    epsilon: float | None = None
    p_gg: float | None = None
    note: str | None = None


def friedman(matrix: np.ndarray) -> Omnibus:
    n, k = matrix.shape
    if n < 2:
        return Omnibus(
            note=f"Not computed: {n} patient(s) have every time point; at least 2 needed."
        )
    ranks = stats.rankdata(matrix, axis=1)  # within each patient (one call, not one a row)
    rank_sums = ranks.sum(axis=0)
    statistic = 12.0 / (n * k * (k + 1)) * float(np.sum(rank_sums**2)) - 3.0 * n * (k + 1)
    ties = float(_tie_term(matrix))
    correction = 1.0 - ties / (n * k * (k * k - 1))
    if correction <= 0:
        return Omnibus(note="Not computed: every patient has the same value at every time point.")
    statistic /= correction
    return Omnibus(statistic=statistic, df1=k - 1, p=float(stats.chi2.sf(statistic, k - 1)))


def _tie_term(matrix: np.ndarray) -> int:
    """Sum over the rows of sum(t^3 - t), t the sizes of the groups of equal values."""
    ordered = np.sort(matrix, axis=1)
    n, k = ordered.shape
    # a new group starts at each row's first value and wherever the value changes
    starts = np.ones((n, k), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    flat = np.flatnonzero(starts.ravel())
    sizes = np.diff(np.append(flat, n * k)).astype(np.int64)
    return int(np.sum(sizes**3 - sizes))


def rm_anova(matrix: np.ndarray) -> Omnibus:
    n, k = matrix.shape
    if n < 2:
        return Omnibus(
            note=f"Not computed: {n} patient(s) have every time point; at least 2 needed."
        )
    grand = float(matrix.mean())
    ss_time = n * float(np.sum((matrix.mean(axis=0) - grand) ** 2))
    ss_patients = k * float(np.sum((matrix.mean(axis=1) - grand) ** 2))
    ss_error = float(np.sum((matrix - grand) ** 2)) - ss_time - ss_patients
    df1, df2 = k - 1, (k - 1) * (n - 1)
    scale = max(float(np.sum((matrix - grand) ** 2)), 1e-300)
    if ss_error <= 1e-12 * scale:
        return Omnibus(
            note="Not computed: every patient changed in exactly the same way "
            "(no residual variation)."
        )
    f = (ss_time / df1) / (ss_error / df2)
    epsilon = greenhouse_geisser_epsilon(matrix)
    return Omnibus(
        statistic=f,
        df1=df1,
        df2=df2,
        p=float(stats.f.sf(f, df1, df2)),
        epsilon=epsilon,
        p_gg=float(stats.f.sf(f, df1 * epsilon, df2 * epsilon)),
    )
