"""Robust and resampling methods for paired changes, each bounded in size and time.

The Wilcoxon signed-rank test with the method in words (exact, exact conditional on
ties and zeros, or R's normal approximation), the sign-flip permutation test (exact by
meet-in-the-middle enumeration, else Monte Carlo), the BCa bootstrap interval of the
mean change, and leave-one-out influence. The dashboard must handle uploads of up to
10,000 patients, so every exact or resampling method is capped; above a cap the method
string says what ran.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import special, stats

from analytics.errors import AnalysisError
from analytics.stats.common import (
    check_level,
    complete_pairs,
    require_pairs,
    t_summary,
)
from analytics.stats.r_ranks import (
    exact_signed_rank_p,
    r_normal_approx_p,
    r_signed_rank_sorted,
    sorted_ranks,
)

__all__ = [
    "BOOTSTRAP_BCA_MAX_PAIRS",
    "CHUNK_ELEMENTS",
    "DEFAULT_SEED",
    "EXACT_SIGN_FLIP_MAX_PAIRS",
    "MIN_BOOTSTRAP_PAIRS",
    "SIGN_FLIP_MAX_DRAWS",
    "SIGN_FLIP_MIN_PERMUTATIONS",
    "WILCOXON_EXACT_MAX_PAIRS",
    "PairedValues",
    "RankedChanges",
    "SignedRank",
    "bootstrap_bca",
    "exact_signed_rank_p",
    "leave_one_out",
    "r_normal_approx_p",
    "sign_flip",
    "signed_rank",
    "signed_rank_note",
    "signed_rank_test",
]

#: Up to this many pairs the sign-flip test enumerates all 2^n sign patterns.
EXACT_SIGN_FLIP_MAX_PAIRS = 20
#: Below this many pairs the bootstrap can only resample a handful of distinct means.
MIN_BOOTSTRAP_PAIRS = 3
# Size caps. The dashboard must handle uploads of up to 10,000 patients, so every exact
# or resampling method below is bounded; above a cap the method string says what ran.

#: Up to this many non-zero changes the Wilcoxon signed-rank p is exact (scipy's exact
#: null without ties or zeros; the exact mid-rank distribution with them, whose cost
#: grows as m^3). Above it: R's normal approximation with tie and continuity
#: correction, which is what R's wilcox.test uses from 50 pairs (or with any tie) on.
WILCOXON_EXACT_MAX_PAIRS = 50
#: Monte Carlo sign-flip budget in random signs (permutations × pairs; about 0.3 s).
#: Beyond it the number of permutations is reduced to fit, and the method says so.
SIGN_FLIP_MAX_DRAWS = 50_000_000
#: ... but never to fewer permutations than this (only reached above 50,000 pairs).
SIGN_FLIP_MIN_PERMUTATIONS = 1_000
#: Up to this many pairs the bootstrap interval is BCa, whose jackknife costs n^2;
#: above it the percentile interval (no jackknife) is given, and the note says so.
BOOTSTRAP_BCA_MAX_PAIRS = 10_000
#: Random signs / resampled values held in memory at once (8 MB of float64 or int64).
CHUNK_ELEMENTS = 1_000_000

DEFAULT_SEED = 20130601


@dataclass(frozen=True)
class SignedRank:
    """Wilcoxon signed-rank result: W+ (R's V), two-sided p, method and note."""

    statistic: float
    p: float
    method: str
    note: str | None


def _method_words(head: str, tie_sizes: Sequence[int], n_zero: int) -> str:
    """The Wilcoxon method line: the method, then tie groups and dropped zeros."""
    parts = [head]
    if tie_sizes:
        groups_text = "group" if len(tie_sizes) == 1 else "groups"
        parts.append(f"{len(tie_sizes)} {groups_text} of tied differences given mid-ranks")
    if n_zero:
        plural = "difference" if n_zero == 1 else "differences"
        parts.append(f"{n_zero} zero {plural} dropped before ranking (Wilcoxon method)")
    return "; ".join(parts)


def _r_signed_rank_note(magnitudes: np.ndarray, positive: np.ndarray, p: float) -> str:
    """What R's wilcox.test(paired = TRUE) prints when that is not ``p``.

    R ranks the raw differences by default (``digits.rank = Inf``): differences equal
    only to floating-point rounding (11.2 − 10.9 and 9.8 − 9.5) are not tied there, as
    they are here; with ``digits.rank = 7`` R ties them too. (The differences come as
    their sorted sizes and signs.)
    """
    default = r_signed_rank_sorted(magnitudes, positive)
    seven = r_signed_rank_sorted(magnitudes, positive, 7)
    if default is None or seven is None or math.isclose(p, default.p, rel_tol=1e-9):
        return ""
    if math.isclose(default.p, seven.p, rel_tol=1e-9):
        return f"R's wilcox.test would report p = {default.p:.4g} here, from {default.method}."
    return (
        "R's wilcox.test ranks the raw differences by default (digits.rank = Inf), so "
        f"differences equal only to rounding are not tied there: it reports p = {default.p:.4g}, "
        f"from {default.method}; with digits.rank = 7 it ties them, as this test does, and reports "
        f"p = {seven.p:.4g}."
    )


def signed_rank(changes: np.ndarray, scale: float, alpha: float) -> SignedRank:
    """The Wilcoxon signed-rank test of ``changes``, with its note."""
    result, ranked = signed_rank_test(changes, scale)
    return replace(result, note=signed_rank_note(ranked, result.p, alpha))


@dataclass(frozen=True)
class RankedChanges:
    """The changes' sizes sorted ascending with their signs, and how many are zero."""

    sizes: np.ndarray
    positive: np.ndarray
    n_zero: int


def signed_rank_test(changes: np.ndarray, scale: float) -> tuple[SignedRank, RankedChanges]:
    """The test without its note (``note`` None; see :func:`signed_rank_note`), and the
    sorted changes the note is made from."""
    tolerance = 1e-9 * max(scale, 1.0)
    # one sort serves this test's ranks and R's (its zeros and ties differ from these)
    magnitudes = np.abs(changes)
    order = np.argsort(magnitudes)  # the order within equal sizes does not change a mid-rank
    sizes_sorted, positive = magnitudes[order], changes[order] > 0
    n_zero = int(np.searchsorted(sizes_sorted, tolerance, side="right"))  # |change| <= tol
    ranked = RankedChanges(sizes_sorted, positive, n_zero)
    m = len(changes) - n_zero
    if m == 0:
        words = f"all {n_zero} differences are zero to within rounding"
        return SignedRank(0.0, 1.0, words, None), ranked
    doubled, doubled_w_plus, sizes = sorted_ranks(
        sizes_sorted[n_zero:], positive[n_zero:], tolerance
    )
    tie_sizes = [int(size) for size in sizes]
    w_plus = doubled_w_plus / 2.0
    if m > WILCOXON_EXACT_MAX_PAIRS:
        what = "pairs" if n_zero == 0 else "non-zero differences"
        p = r_normal_approx_p(w_plus, m, tie_sizes)
        method = _method_words(
            "normal approximation with tie and continuity correction (R's method; exact "
            f"only up to {WILCOXON_EXACT_MAX_PAIRS} {what})",
            tie_sizes,
            n_zero,
        )
    elif n_zero == 0 and not tie_sizes:
        nonzero = changes[np.abs(changes) > tolerance]
        p = float(stats.wilcoxon(nonzero, method="exact", alternative="two-sided").pvalue)
        method = "exact, no zero or tied differences"
    else:
        p = exact_signed_rank_p(doubled, doubled_w_plus)
        method = _method_words(
            f"exact conditional distribution of the signed mid-ranks (all {2**m:,} sign patterns)",
            tie_sizes,
            n_zero,
        )
    return SignedRank(w_plus, p, method, None), ranked


def signed_rank_note(ranked: RankedChanges, p: float, alpha: float) -> str | None:
    """The test's note: the smallest p these pairs allow, and what R would print."""
    m = len(ranked.sizes) - ranked.n_zero
    if m == 0:
        return None
    notes: list[str] = []
    r_note = _r_signed_rank_note(ranked.sizes, ranked.positive, p)
    if r_note:
        notes.append(r_note)
    smallest_p = 2.0 ** (1 - m)
    if smallest_p >= alpha:
        what = "pairs" if ranked.n_zero == 0 else "non-zero changes"
        notes.insert(
            0,
            f"With {m} {what} the smallest possible two-sided p is {smallest_p:g}, "
            f"so p < {alpha:g} cannot be reached.",
        )
    return " ".join(notes) if notes else None


def _all_signed_sums(magnitudes: np.ndarray) -> np.ndarray:
    sums = np.zeros(1)
    for value in magnitudes:
        sums = np.concatenate([sums + value, sums - value])
    return sums


def sign_flip(changes: np.ndarray, n_permutations: int, seed: int) -> tuple[float, str]:
    """Two-sided sign-flip permutation p for the mean change."""
    magnitudes = np.abs(changes)
    n = len(changes)
    threshold = abs(float(changes.sum())) - 1e-10 * float(magnitudes.sum())
    if n <= EXACT_SIGN_FLIP_MAX_PAIRS:
        method = f"exact, all {2**n:,} sign patterns"
        if threshold <= 0:
            return 1.0, method
        half = n // 2
        left = _all_signed_sums(magnitudes[:half])
        right = np.sort(_all_signed_sums(magnitudes[half:]))
        upper = len(right) - np.searchsorted(right, threshold - left, side="left")
        lower = np.searchsorted(right, -threshold - left, side="right")
        return float((upper.sum() + lower.sum()) / 2.0**n), method
    requested = n_permutations
    affordable = max(SIGN_FLIP_MAX_DRAWS // n, SIGN_FLIP_MIN_PERMUTATIONS)
    n_permutations = min(requested, affordable)
    method = f"Monte Carlo, {n_permutations} permutations, seed {seed}"
    if n_permutations < requested:
        method += (
            f" (reduced from {requested} to keep permutations × pairs within "
            f"{SIGN_FLIP_MAX_DRAWS:,} random signs)"
        )
    if threshold <= 0:
        return 1.0, method
    signs = _Signs(np.random.default_rng(seed))
    # Rows of signs per chunk: bounded memory. The generator's stream does not depend
    # on the chunking, so results equal those of one big draw.
    rows = max(1, min(10_000, CHUNK_ELEMENTS // n))
    total = float(magnitudes.sum())
    hits, remaining = 0, n_permutations
    while remaining > 0:
        size = min(remaining, rows)
        plus = signs.draw(size * n).reshape(size, n)  # 1 where the sign is +, else 0
        # sum of +m and -m = 2 * (sum of the +m) - sum of m; einsum, not a BLAS matrix
        # product, whose threads stall on a busy machine
        flipped = 2.0 * np.einsum("ij,j->i", plus, magnitudes) - total
        hits += int(np.count_nonzero(np.abs(flipped) >= threshold))
        remaining -= size
    return (hits + 1) / (n_permutations + 1), method


class _Signs:
    """The random signs ``rng.integers(0, 2, size)`` gives (1 for +, 0 for -), as floats,
    drawn fast.

    For a range of two, numpy's bounded integers are the top bit of each 32-bit half of
    the generator's raw 64-bit output, low half first (Lemire's method, which never
    rejects here), a half left over kept for the next draw. Reading the raw output
    directly gives the same signs, bit for bit, several times faster
    (``tests/test_paired.py`` compares the two).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._bits = rng.bit_generator
        self._spare: np.ndarray = np.zeros(0, dtype=np.uint32)

    def draw(self, count: int) -> np.ndarray:
        need = count - len(self._spare)
        halves = self._bits.random_raw((need + 1) // 2).view(np.uint32)
        halves = np.concatenate([self._spare, halves]) if len(self._spare) else halves
        self._spare = halves[count:].copy()
        return (halves[:count] >> 31).astype(np.float64)


def bootstrap_bca(
    changes: np.ndarray, confidence: float, n_resamples: int, seed: int
) -> tuple[float | None, float | None, str]:
    n = len(changes)
    if n < MIN_BOOTSTRAP_PAIRS:
        return (
            None,
            None,
            f"Not computed: with {n} pairs the bootstrap can only resample a few distinct "
            "means, so its interval would mean nothing.",
        )
    bca = n <= BOOTSTRAP_BCA_MAX_PAIRS
    kind = "BCa" if bca else "percentile"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = stats.bootstrap(
                (changes,),
                np.mean,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method="percentile",
                rng=np.random.default_rng(seed),
                # Resamples in batches: bounded memory, and the same draws and interval
                # as without batching.
                batch=max(1, CHUNK_ELEMENTS // n),
            )
            interval = result.confidence_interval
            if bca:  # the same draws, then scipy's BCa limits (see _bca_interval)
                interval = _bca_interval(changes, result.bootstrap_distribution, confidence)
        except (Warning, ValueError) as problem:
            return None, None, f"Not computed: the {kind} bootstrap failed ({problem})."
    low, high = float(interval[0]), float(interval[1])
    if not (math.isfinite(low) and math.isfinite(high)):
        return None, None, f"Not computed: the {kind} bootstrap gave no finite interval."
    if not bca:
        return (
            low,
            high,
            f"Percentile bootstrap (not BCa: BCa's jackknife is used only up to "
            f"{BOOTSTRAP_BCA_MAX_PAIRS:,} pairs), {n_resamples} resamples, seed {seed}. "
            "A sensitivity analysis; the t interval stays primary.",
        )
    note = (
        f"BCa bootstrap, {n_resamples} resamples, seed {seed}. A sensitivity analysis: "
        "it is too narrow below about 15 pairs, so the t interval stays primary."
    )
    return low, high, note


def _bca_interval(
    changes: np.ndarray, distribution: np.ndarray, confidence: float
) -> tuple[float, float]:
    """scipy's BCa limits of the mean (``stats.bootstrap(method="BCa")``, its
    ``_bca_interval``) from the bootstrap means, with the jackknife in O(n).

    scipy recomputes each of the n leave-one-out means over n − 1 values (n² work:
    seconds at 10,000 pairs); the mean without value i is (sum − x_i) / (n − 1), equal
    to rounding (the limits agree to about 1e-12).
    """
    alpha = (1 - confidence) / 2
    theta_hat = np.mean(changes)
    below = np.count_nonzero(distribution < theta_hat) + np.count_nonzero(distribution <= theta_hat)
    z0 = special.ndtri(below / (2 * len(distribution)))
    n = float(len(changes))
    jackknife = (np.sum(changes) - changes) / (n - 1)
    spread = (n - 1) * (np.mean(jackknife) - jackknife)
    a_hat = 1 / 6 * (np.sum(spread**3) / n**3) / (np.sum(spread**2) / n**2) ** (3 / 2)
    z_alpha = float(special.ndtri(alpha))
    limits = []
    for z in (z_alpha, -z_alpha):
        shifted = z0 + z
        limits.append(special.ndtr(z0 + shifted / (1 - a_hat * shifted)))
    ci = stats.quantile(distribution, np.stack(limits))
    if np.isnan(ci).any():  # as scipy says it
        warnings.warn(
            stats.DegenerateDataWarning(
                "The BCa confidence interval cannot be calculated. This problem is known to "
                "occur when the distribution is degenerate or the statistic is np.min."
            ),
            stacklevel=2,
        )
    return float(ci[0]), float(ci[1])


# --------------------------------------------------------------------------------------
# Leave-one-out influence
# --------------------------------------------------------------------------------------


@runtime_checkable
class PairedValues(Protocol):
    """What leave-one-out reads from a finished paired analysis
    (:class:`analytics.stats.paired.PairedResult`)."""

    baseline_values: tuple[float, ...]
    follow_up_values: tuple[float, ...]
    patient_ids: tuple[str, ...]
    alpha: float


def _loo_inputs(
    result_or_arrays: PairedValues | Sequence[Any],
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], float | None]:
    if isinstance(result_or_arrays, PairedValues):
        result = result_or_arrays
        return (
            np.array(result.baseline_values),
            np.array(result.follow_up_values),
            result.patient_ids,
            result.alpha,
        )
    if not isinstance(result_or_arrays, Sequence) or len(result_or_arrays) not in (2, 3):
        raise AnalysisError(
            "Leave-one-out needs a paired result or (baseline, follow_up[, patient_ids])."
        )
    ids = result_or_arrays[2] if len(result_or_arrays) == 3 else None
    pairs = complete_pairs(result_or_arrays[0], result_or_arrays[1], ids)
    require_pairs(len(pairs.ids), pairs.excluded)
    return pairs.baseline, pairs.follow_up, pairs.ids, None


def leave_one_out(
    result_or_arrays: PairedValues | Sequence[Any], alpha: float | None = None
) -> pd.DataFrame:
    """Recompute the mean change and paired-t p without each patient in turn.

    Parameters
    ----------
    result_or_arrays : PairedResult or (baseline, follow_up[, patient_ids])
        A finished paired analysis, or the raw columns (complete pairs are taken).
    alpha : float, optional
        Significance level for ``crosses_alpha``; default the result's alpha, else 0.05.

    Returns
    -------
    pandas.DataFrame
        One row per patient left out: ``patient_id``, ``n_pairs`` (pairs remaining),
        ``mean_change``, ``p_two_sided`` (NaN when the remaining pairs cannot be
        tested), ``sign_flips`` (the mean change changes sign, or becomes zero),
        ``crosses_alpha`` (p moves across alpha in either direction) and ``note``.

    Notes
    -----
    Missing data: complete pairs only, as in :func:`paired_change`. Each row is the
    paired t-test (:math:`t = \\bar d/(s_d/\\sqrt{n-1})` on :math:`n - 2` df) on
    the other :math:`n - 1` pairs; with one pair left, or identical remaining changes,
    no p exists and the row says so.

    All rows come at once from the full-sample sums (no refit per patient), so 10,000
    patients take well under a second: without patient :math:`i`, the mean is
    :math:`(\\sum d - d_i)/(n-1)` and the sum of squares about it is
    :math:`Q - \\frac{n}{n-1}(d_i - \\bar d)^2` with :math:`Q = \\sum (d - \\bar d)^2`;
    the (at most one) row where that subtraction would lose precision is recomputed
    directly.
    """
    baseline, follow_up, ids, result_alpha = _loo_inputs(result_or_arrays)
    alpha = check_level(alpha if alpha is not None else (result_alpha or 0.05), "alpha")
    changes = follow_up - baseline
    scale = float(max(np.max(np.abs(baseline)), np.max(np.abs(follow_up))))
    full_mean = float(np.mean(changes))
    full_p: float | None
    try:
        full_p = t_summary(changes, 0.95, scale).p_two_sided
    except AnalysisError:
        full_p = None
    means, p_values, notes = _loo_t_tests(changes, scale)
    testable = ~np.isnan(p_values)
    crosses = np.zeros(len(changes), dtype=bool)
    if full_p is not None:
        crosses = testable & ((p_values < alpha) != (full_p < alpha))
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series(list(ids), dtype=object),
            "n_pairs": np.full(len(changes), len(changes) - 1, dtype=np.int64),
            "mean_change": means,
            "p_two_sided": p_values,
            "sign_flips": np.sign(means) != np.sign(full_mean),
            "crosses_alpha": crosses,
            "note": pd.Series(notes, dtype=object),
        }
    )
    return frame.astype(
        {
            "patient_id": "object",
            "n_pairs": "int64",
            "mean_change": "float64",
            "p_two_sided": "float64",
            "sign_flips": "bool",
            "crosses_alpha": "bool",
            "note": "object",
        }
    )


def _loo_t_tests(changes: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Mean, paired-t p (NaN when untestable) and note without each change in turn."""
    n = len(changes)
    rest = n - 1
    # Exactly rounded total, so a remaining sum that is exactly 0 comes out as 0.
    means = (math.fsum(changes) - changes) / rest
    p_values = np.full(n, math.nan)
    if rest < 2:
        return means, p_values, ["only 1 pair remains: no p-value"] * n
    # Spread of the remaining changes from the two largest and two smallest values.
    order = np.argsort(changes, kind="stable")
    ordered = changes[order]
    rest_max = np.where(np.arange(n) == order[-1], ordered[-2], ordered[-1])
    rest_min = np.where(np.arange(n) == order[0], ordered[1], ordered[0])
    identical = rest_max - rest_min <= 1e-12 * max(scale, 1.0)
    deviations = changes - float(np.mean(changes))
    total_ss = float(np.sum(deviations**2))
    rest_ss = total_ss - deviations**2 * (n / rest)
    # Where nearly all of Q is one patient's, the subtraction cancels: recompute those.
    for index in np.flatnonzero(~identical & (rest_ss <= 1e-6 * total_ss)):
        others = np.delete(changes, index)
        rest_ss[index] = float(np.sum((others - np.mean(others)) ** 2))
        means[index] = float(np.mean(others))
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(np.maximum(rest_ss, 0.0) / (rest - 1) / rest)
        t = means / se
    tested = ~identical
    p_values[tested] = np.minimum(1.0, 2.0 * stats.t.sf(np.abs(t[tested]), rest - 1))
    notes = ["remaining changes identical: no p-value" if same else "" for same in identical]
    return means, p_values, notes
