"""What R's ``wilcox.test`` reports, for notes that compare the dashboard's rank tests with R.

R ranks the values exactly as stored (``digits.rank = Inf``, its default), so two
changes that differ only by floating-point noise (11.2 − 10.9 and 9.8 − 9.5) are not
tied in R; with ``digits.rank = 7`` it ranks the values rounded to 7 significant
digits, which ties them. The dashboard's rank tests tie values equal to within 1e-9 of
the data's scale, which for data recorded to a few decimals is R with
``digits.rank = 7``. These functions repeat R's choice of method (exact below 50
values and without ties or zeros, else the normal approximation with tie and
continuity correction) so a note can say what R prints under either setting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from analytics.stats.common import midranks_and_ties

__all__ = [
    "R_EXACT_BELOW",
    "RRankTest",
    "exact_signed_rank_p",
    "normal_rank_sum_p",
    "r_normal_approx_p",
    "r_rank_sum",
    "r_signed_rank",
    "r_signed_rank_sorted",
    "signif",
    "sorted_ranks",
]

#: R's wilcox.test is exact below this many values (signed rank) or per group (rank sum).
R_EXACT_BELOW = 50


@dataclass(frozen=True)
class RRankTest:
    """R's two-sided p and the method it would use, in words ("its exact distribution")."""

    p: float
    method: str


def signif(values: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits, as R's ``signif`` (0 stays 0).

    Examples
    --------
    >>> signif(np.array([11.2 - 10.9, 9.8 - 9.5, 0.0]), 7).tolist()
    [0.3, 0.3, 0.0]
    """
    values = np.asarray(values, dtype=float)
    out = np.zeros_like(values)
    nonzero = values != 0
    magnitude = np.floor(np.log10(np.abs(values[nonzero])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[nonzero] = np.round(values[nonzero] * scale) / scale
    return out


def _keys(values: np.ndarray, digits_rank: int | None) -> np.ndarray:
    return values if digits_rank is None else signif(values, digits_rank)


def exact_signed_rank_p(doubled_ranks: np.ndarray, doubled_w_plus: int) -> float:
    """Two-sided p from the exact distribution of W+ over all 2^m sign patterns.

    Works with probabilities (halved at each step, exactly) rather than counts, so it
    cannot overflow; its cost is m × sum of ranks, so callers cap m.
    """
    total = int(doubled_ranks.sum())
    probabilities = np.zeros(total + 1)
    probabilities[0] = 1.0
    for rank in doubled_ranks:
        shifted = np.zeros_like(probabilities)
        shifted[rank:] = probabilities[: total + 1 - rank]
        probabilities = (probabilities + shifted) * 0.5
    support = np.arange(total + 1)
    extreme = np.abs(2 * support - total) >= abs(2 * doubled_w_plus - total)
    return float(min(1.0, probabilities[extreme].sum()))


def r_normal_approx_p(w_plus: float, m: int, tie_sizes: Sequence[int]) -> float:
    """R ``wilcox.test(paired=TRUE)`` p with ties/zeros: normal, continuity-corrected."""
    centre = m * (m + 1) / 4.0
    tie_term = float(np.sum(np.asarray(tie_sizes, dtype=float) ** 3 - np.asarray(tie_sizes)))
    variance = m * (m + 1) * (2 * m + 1) / 24.0 - tie_term / 48.0
    z = w_plus - centre
    z = (z - math.copysign(0.5, z) if z != 0 else 0.0) / math.sqrt(variance)
    # stats.norm.cdf and .sf are ndtr (called directly: the distribution's checks cost more)
    return float(min(1.0, 2.0 * min(special.ndtr(z), special.ndtr(-z))))


def normal_rank_sum_p(u_b: float, n_a: int, n_b: int, tie_sizes: Any) -> float:
    """R ``wilcox.test(x, y)`` two-sided p: normal, tie- and continuity-corrected."""
    size = n_a + n_b
    sizes = np.asarray(tie_sizes, dtype=float)
    tie_term = float(np.sum(sizes**3 - sizes))
    variance = n_a * n_b / 12.0 * ((size + 1) - tie_term / (size * (size - 1)))
    gap = u_b - n_a * n_b / 2.0
    if variance <= 0:  # every change tied: every split has the same rank sum
        return 1.0
    z = max(abs(gap) - 0.5, 0.0) / math.sqrt(variance)
    return float(min(1.0, 2.0 * stats.norm.sf(z)))


def sorted_ranks(
    keys: np.ndarray, positive: np.ndarray, tolerance: float
) -> tuple[np.ndarray, int, np.ndarray]:
    """Twice the mid-ranks of ``keys`` (sorted ascending), twice the sum of those
    ``positive``, and the sizes of the tie groups (> 1): sorted keys within
    ``tolerance`` of their neighbour are tied. (What :func:`midranks_and_ties` gives,
    for keys already in order.)"""
    m = len(keys)
    if m == 0:
        return np.zeros(0, dtype=np.int64), 0, np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(keys) > tolerance) + 1))
    sizes = np.diff(np.append(starts, m))
    doubled = np.repeat(2 * starts + sizes + 1, sizes)
    return doubled, int(doubled[positive].sum()), sizes[sizes > 1]


def r_signed_rank(changes: np.ndarray, digits_rank: int | None = None) -> RRankTest | None:
    """R's ``wilcox.test(follow_up, baseline, paired = TRUE, digits.rank = ...)``.

    ``digits_rank`` None is R's default (``Inf``). Exact zeros are dropped (R's
    ``x != 0``); None when no change is left.
    """
    changes = np.asarray(changes, dtype=float)
    magnitudes = np.abs(changes)
    order = np.argsort(magnitudes, kind="stable")
    return r_signed_rank_sorted(magnitudes[order], changes[order] > 0, digits_rank)


def r_signed_rank_sorted(
    magnitudes: np.ndarray, positive: np.ndarray, digits_rank: int | None = None
) -> RRankTest | None:
    """:func:`r_signed_rank` of changes given as their sorted sizes and signs."""
    first = int(np.searchsorted(magnitudes, 0.0, side="right"))  # exact zeros dropped
    m = len(magnitudes) - first
    if m == 0:
        return None
    keys = _keys(magnitudes[first:], digits_rank)
    if digits_rank is not None and (np.diff(keys) < 0).any():  # rounding kept the order?
        order = np.argsort(keys, kind="stable")
        keys, positive = keys[order], positive[first:][order]
    else:
        positive = positive[first:]
    doubled, doubled_w_plus, ties = sorted_ranks(keys, positive, 0.0)
    if m < R_EXACT_BELOW and len(ties) == 0 and m == len(magnitudes):
        return RRankTest(exact_signed_rank_p(doubled, doubled_w_plus), "its exact distribution")
    why = "tied or zero differences" if m < R_EXACT_BELOW else f"{R_EXACT_BELOW} or more pairs"
    p = r_normal_approx_p(doubled_w_plus / 2.0, m, [int(t) for t in ties])
    return RRankTest(p, f"its normal approximation with continuity correction, used with {why}")


def r_rank_sum(a: np.ndarray, b: np.ndarray, digits_rank: int | None = None) -> RRankTest:
    """R's ``wilcox.test(b, a, digits.rank = ...)`` (two-sided, continuity-corrected)."""
    pooled = _keys(np.concatenate([a, b]), digits_rank)
    doubled, ties = midranks_and_ties(pooled, 0.0)
    u_b = int(doubled[len(a) :].sum()) / 2.0 - len(b) * (len(b) + 1) / 2.0
    if len(a) < R_EXACT_BELOW and len(b) < R_EXACT_BELOW and len(ties) == 0:
        p = float(stats.mannwhitneyu(b, a, method="exact", alternative="two-sided").pvalue)
        return RRankTest(p, "its exact distribution")
    why = "tied changes" if len(ties) else f"a subgroup of {R_EXACT_BELOW} or more patients"
    p = normal_rank_sum_p(u_b, len(a), len(b), ties)
    return RRankTest(p, f"its normal approximation with continuity correction, used with {why}")
