"""Paired comparison of one lab between baseline and one follow-up time.

Everything a clinician reports for a before/after comparison in a small cohort:
the paired t-test as JMP's Matched Pairs prints it, Cohen's d_z with its confidence
interval, the Wilcoxon signed-rank test, Shapiro–Wilk on the changes, an exact
sign-flip permutation test, a BCa bootstrap interval, the minimum detectable effect,
leave-one-out influence and, for skewed labs, the ratio (log) paired t-test.

Change is always follow-up − baseline: a fall is a negative change.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analytics import power as _power
from analytics.errors import AnalysisError
from analytics.limits import LIMITS
from analytics.plain import format_p, jsonable

__all__ = [
    "BOOTSTRAP_BCA_MAX_PAIRS",
    "EXACT_SIGN_FLIP_MAX_PAIRS",
    "MIN_BOOTSTRAP_PAIRS",
    "SIGN_FLIP_MAX_DRAWS",
    "SIGN_FLIP_MIN_PERMUTATIONS",
    "WILCOXON_EXACT_MAX_PAIRS",
    "PairedResult",
    "RatioResult",
    "leave_one_out",
    "paired_change",
    "ratio_paired_t",
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
_CHUNK_ELEMENTS = 1_000_000

_DEFAULT_SEED = 20130601
#: Values larger than this in size are refused: their sums and squares could overflow.
MAX_ABS_VALUE = float(LIMITS["max_abs_value"].value)


# --------------------------------------------------------------------------------------
# Shared helpers (also used by the other analytics modules)
# --------------------------------------------------------------------------------------


def _dataclass_dict(result: Any) -> dict[str, Any]:
    return {f.name: jsonable(getattr(result, f.name)) for f in fields(result)}


def _check_level(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise AnalysisError(f"The {name} must be a number between 0 and 1, not {value!r}.")
    if not 0.0 < float(value) < 1.0:
        raise AnalysisError(f"The {name} must lie strictly between 0 and 1, not {value}.")
    return float(value)


def _patient_ids(patient_ids: Any, n: int, *templates: Any) -> tuple[str, ...]:
    """Patient labels as strings: given, else a Series index, else 1..n."""
    if patient_ids is None:
        series = [t for t in templates if isinstance(t, pd.Series)]
        if series:
            ids = [str(label) for label in series[0].index]
        else:
            ids = [str(position + 1) for position in range(n)]
    else:
        if np.ndim(patient_ids) != 1:
            raise AnalysisError("Patient IDs must be a single column of labels.")
        ids = [str(label) for label in patient_ids]
    if len(ids) != n:
        raise AnalysisError(f"There are {len(ids)} patient IDs for {n} values; they must match.")
    seen: set[str] = set()
    for label in ids:
        if label in seen:
            raise AnalysisError(
                f"Patient {label} appears more than once; each row must be one patient."
            )
        seen.add(label)
    return tuple(ids)


def _float_array(values: Any, name: str, ids: Sequence[str] | None = None) -> np.ndarray:
    """1-D float array with NaN for missing; refuses text that is not a number."""
    if isinstance(values, pd.DataFrame) or np.ndim(values) != 1:
        raise AnalysisError(f"The {name} values must be a single column of numbers.")
    original = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    original = original.reset_index(drop=True)
    numbers = pd.to_numeric(original, errors="coerce")
    bad = numbers.isna() & original.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        who = f"patient {ids[position]}" if ids is not None else f"row {position + 1}"
        raise AnalysisError(
            f"The {name} value {original.iloc[position]!r} for {who} is not a number; "
            "fix or blank it."
        )
    array = numbers.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(array)
    if infinite.any():
        position = int(np.flatnonzero(infinite)[0])
        who = f"patient {ids[position]}" if ids is not None else f"row {position + 1}"
        raise AnalysisError(f"The {name} value for {who} is infinite; fix or blank it.")
    huge = np.abs(array) > MAX_ABS_VALUE  # NaN compares False
    if huge.any():
        position = int(np.flatnonzero(huge)[0])
        who = f"patient {ids[position]}" if ids is not None else f"row {position + 1}"
        raise AnalysisError(
            f"The {name} value for {who} ({array[position]:g}) is larger than "
            f"{MAX_ABS_VALUE:.0e} in size, too large to compute with; check the unit and "
            "the column."
        )
    return array


def _check_same_patients(baseline: Any, follow_up: Any) -> None:
    if (
        isinstance(baseline, pd.Series)
        and isinstance(follow_up, pd.Series)
        and not baseline.index.equals(follow_up.index)
    ):
        raise AnalysisError(
            "The baseline and follow-up columns list different patients (or a different "
            "order); align them by patient before comparing."
        )


@dataclass(frozen=True)
class _Pairs:
    baseline: np.ndarray
    follow_up: np.ndarray
    ids: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]


def _complete_pairs(baseline: Any, follow_up: Any, patient_ids: Any) -> _Pairs:
    _check_same_patients(baseline, follow_up)
    if np.ndim(baseline) != 1 or np.ndim(follow_up) != 1:
        raise AnalysisError("Baseline and follow-up must each be a single column of numbers.")
    if len(baseline) != len(follow_up):
        raise AnalysisError(
            f"There are {len(baseline)} baseline values but {len(follow_up)} follow-up values; "
            "each patient needs one of each (blank where missing)."
        )
    ids = _patient_ids(patient_ids, len(baseline), baseline, follow_up)
    before = _float_array(baseline, "baseline", ids)
    after = _float_array(follow_up, "follow-up", ids)
    excluded: list[tuple[str, str]] = []
    for label, b, f in zip(ids, before, after, strict=True):
        if np.isnan(b) and np.isnan(f):
            excluded.append((label, "no baseline or follow-up value"))
        elif np.isnan(b):
            excluded.append((label, "no baseline value"))
        elif np.isnan(f):
            excluded.append((label, "no follow-up value"))
    keep = ~(np.isnan(before) | np.isnan(after))
    return _Pairs(
        baseline=before[keep],
        follow_up=after[keep],
        ids=tuple(label for label, k in zip(ids, keep, strict=True) if k),
        excluded=tuple(excluded),
    )


def _describe_excluded(excluded: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{label} ({reason})" for label, reason in excluded)


def _require_pairs(n: int, excluded: Sequence[tuple[str, str]], what: str = "value") -> None:
    if n >= 2:
        return
    have = "No patient has" if n == 0 else "Only 1 patient has"
    message = (
        f"{have} both a baseline and a follow-up {what}; a paired comparison needs at least 2."
    )
    if excluded:
        message += f" Excluded: {_describe_excluded(excluded)}."
    raise AnalysisError(message)


def _all_identical(changes: np.ndarray, scale: float) -> bool:
    spread = float(np.max(changes) - np.min(changes))
    return spread <= 1e-12 * max(scale, 1.0)


def _refuse_identical(changes: np.ndarray, scale: float, what: str = "changed by") -> None:
    if not _all_identical(changes, scale):
        return
    n = len(changes)
    amount = float(changes[0])
    if amount == 0 or abs(amount) <= 1e-12 * max(scale, 1.0):
        detail = f"None of the {n} patients changed"
    else:
        detail = f"All {n} patients {what} exactly the same amount ({amount:g})"
    raise AnalysisError(
        f"{detail}, so the SD of change is 0 and no t-test, confidence interval or effect "
        "size can be computed. Check the data; if it is right, report the change as it is."
    )


@dataclass(frozen=True)
class _TSummary:
    """One-sample t on a vector of changes (internal)."""

    n: int
    mean: float
    sd: float
    se: float
    t: float
    df: int
    p_two_sided: float
    p_less: float
    p_greater: float
    ci_low: float
    ci_high: float


def _t_summary(changes: np.ndarray, confidence: float, scale: float | None = None) -> _TSummary:
    """Paired t on complete-pair changes; refuses n < 2 and SD = 0."""
    changes = np.asarray(changes, dtype=float)
    n = len(changes)
    _require_pairs(n, ())
    scale = float(np.max(np.abs(changes))) if scale is None else scale
    _refuse_identical(changes, scale)
    mean = float(np.mean(changes))
    sd = float(np.std(changes, ddof=1))
    se = sd / math.sqrt(n)
    df = n - 1
    t = mean / se
    if not all(math.isfinite(x) for x in (mean, sd, t)):  # sums or squares overflowed
        raise AnalysisError(
            "The changes are too large to compute with (their mean or SD is not a finite "
            "number); check the unit and the column of the values."
        )
    quantile = float(stats.t.ppf(0.5 + confidence / 2.0, df))
    return _TSummary(
        n=n,
        mean=mean,
        sd=sd,
        se=se,
        t=t,
        df=df,
        p_two_sided=float(min(1.0, 2.0 * stats.t.sf(abs(t), df))),
        p_less=float(stats.t.cdf(t, df)),
        p_greater=float(stats.t.sf(t, df)),
        ci_low=mean - quantile * se,
        ci_high=mean + quantile * se,
    )


def _fmt_number(value: float, digits: int = 3) -> str:
    """Display only: ``digits`` significant digits, never scientific notation."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def _fmt_p(p: float) -> str:
    """Display only: 'p = 0.00404', 'p < 0.0001' (see :func:`analytics.plain.format_p`)."""
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _fmt_signed(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".replace("-", "−")


def _percent(level: float) -> str:
    return f"{level * 100:g} %"


def _frame(rows: Sequence[tuple[str, str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "quantity": [key for key, _, _ in rows],
            "label": [label for _, label, _ in rows],
            "value": pd.Series([value for _, _, value in rows], dtype=object),
        }
    )


# --------------------------------------------------------------------------------------
# Pieces of the paired analysis
# --------------------------------------------------------------------------------------


#: Most times the bracket of a root is widened before the search gives up.
MAX_BRACKET_STEPS = 200


def _dz_interval(t: float, n: int, confidence: float) -> tuple[float, float]:
    """CI of d_z by inverting the noncentral t distribution of the observed t.

    Raises :class:`AnalysisError` when ``t`` is not finite or no root is bracketed
    within :data:`MAX_BRACKET_STEPS` widenings (each doubles the step).
    """
    if not math.isfinite(t):
        raise AnalysisError(
            "The confidence interval of d_z cannot be computed: the t statistic is not a "
            "finite number (the changes are too large or not numbers)."
        )
    df = n - 1
    tail = (1.0 - confidence) / 2.0
    unbracketed = AnalysisError(
        f"The confidence interval of d_z could not be computed for t = {t:g} on {df} "
        "degrees of freedom."
    )

    def solve(target: float) -> float:
        # nctdtr(df, ncp, t) = P(T <= t | ncp) falls as ncp rises.
        def gap(ncp: float) -> float:
            cdf = float(special.nctdtr(df, ncp, t))
            if math.isnan(cdf):  # underflow far in a tail
                cdf = 0.0 if ncp > t else 1.0
            return cdf - target

        width = 2.0 + abs(t) / 2.0
        low, high = t - width, t + width
        for _ in range(MAX_BRACKET_STEPS):
            if gap(low) >= 0:
                break
            low -= width
            width *= 2
        else:
            raise unbracketed
        for _ in range(MAX_BRACKET_STEPS):
            if gap(high) <= 0:
                break
            high += width
            width *= 2
        else:
            raise unbracketed
        if not (math.isfinite(low) and math.isfinite(high)):
            raise unbracketed
        try:
            return float(optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12, maxiter=500))
        except (RuntimeError, ValueError) as error:  # no convergence, or no sign change
            raise unbracketed from error

    ncp_low = solve(1.0 - tail)
    ncp_high = solve(tail)
    return ncp_low / math.sqrt(n), ncp_high / math.sqrt(n)


def _sorted_tie_runs(values: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Stable sort order of ``values`` and the start of each run of ties in it.

    Neighbours in sorted order that differ by <= ``tolerance`` are tied (chained).
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    breaks = np.flatnonzero(np.diff(ordered) > tolerance) + 1
    return order, np.concatenate(([0], breaks)).astype(np.int64)


def _tie_groups(magnitudes: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """Indices of sorted ``magnitudes`` grouped where neighbours differ by <= tolerance."""
    magnitudes = np.asarray(magnitudes, dtype=float)
    if len(magnitudes) == 0:
        return []
    order, starts = _sorted_tie_runs(magnitudes, tolerance)
    return np.split(order, starts[1:])


def _doubled_midranks(groups: list[np.ndarray], m: int) -> np.ndarray:
    ranks = np.zeros(m, dtype=np.int64)
    if not groups:
        return ranks
    sizes = np.array([len(group) for group in groups], dtype=np.int64)
    last = np.cumsum(sizes)
    first = last - sizes + 1
    ranks[np.concatenate(groups)] = np.repeat(first + last, sizes)  # twice the mid-rank
    return ranks


def _midranks_and_ties(values: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Twice the mid-ranks of ``values`` (integers) and the sizes of the tie groups (> 1).

    The same ranks as ``_doubled_midranks(_tie_groups(values, tolerance), len(values))``
    without building one array per group.
    """
    values = np.asarray(values, dtype=float)
    m = len(values)
    ranks = np.zeros(m, dtype=np.int64)
    if m == 0:
        return ranks, np.zeros(0, dtype=np.int64)
    order, starts = _sorted_tie_runs(values, tolerance)
    sizes = np.diff(np.append(starts, m))
    doubled = 2 * starts + sizes + 1  # first + last rank, 1-based: (s + 1) + (s + size)
    ranks[order] = np.repeat(doubled, sizes)
    return ranks, sizes[sizes > 1]


def _exact_signed_rank_p(doubled_ranks: np.ndarray, doubled_w_plus: int) -> float:
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


def _r_normal_approx_p(w_plus: float, m: int, tie_sizes: Sequence[int]) -> float:
    """R ``wilcox.test(paired=TRUE)`` p with ties/zeros: normal, continuity-corrected."""
    centre = m * (m + 1) / 4.0
    tie_term = float(np.sum(np.asarray(tie_sizes, dtype=float) ** 3 - np.asarray(tie_sizes)))
    variance = m * (m + 1) * (2 * m + 1) / 24.0 - tie_term / 48.0
    z = w_plus - centre
    z = (z - math.copysign(0.5, z) if z != 0 else 0.0) / math.sqrt(variance)
    return float(min(1.0, 2.0 * min(stats.norm.cdf(z), stats.norm.sf(z))))


@dataclass(frozen=True)
class _SignedRank:
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


def _signed_rank(changes: np.ndarray, scale: float, alpha: float) -> _SignedRank:
    tolerance = 1e-9 * max(scale, 1.0)
    is_zero = np.abs(changes) <= tolerance
    nonzero = changes[~is_zero]
    n_zero = int(is_zero.sum())
    m = len(nonzero)
    if m == 0:
        return _SignedRank(0.0, 1.0, f"all {n_zero} differences are zero to within rounding", None)
    doubled, sizes = _midranks_and_ties(np.abs(nonzero), tolerance)
    tie_sizes = [int(size) for size in sizes]
    doubled_w_plus = int(doubled[nonzero > 0].sum())
    w_plus = doubled_w_plus / 2.0
    notes: list[str] = []
    if m > WILCOXON_EXACT_MAX_PAIRS:
        what = "pairs" if n_zero == 0 else "non-zero differences"
        p = _r_normal_approx_p(w_plus, m, tie_sizes)
        method = _method_words(
            "normal approximation with tie and continuity correction (R's method; exact "
            f"only up to {WILCOXON_EXACT_MAX_PAIRS} {what})",
            tie_sizes,
            n_zero,
        )
    elif n_zero == 0 and not tie_sizes:
        p = float(stats.wilcoxon(nonzero, method="exact", alternative="two-sided").pvalue)
        method = "exact, no zero or tied differences"
    else:
        p = _exact_signed_rank_p(doubled, doubled_w_plus)
        method = _method_words(
            f"exact conditional distribution of the signed mid-ranks (all {2**m:,} sign patterns)",
            tie_sizes,
            n_zero,
        )
        r_p = _r_normal_approx_p(w_plus, m, tie_sizes)
        notes.append(
            "R's wilcox.test would use a normal approximation with continuity correction "
            f"here and report p = {r_p:.4g}."
        )
    smallest_p = 2.0 ** (1 - m)
    if smallest_p >= alpha:
        what = "pairs" if n_zero == 0 else "non-zero changes"
        notes.insert(
            0,
            f"With {m} {what} the smallest possible two-sided p is {smallest_p:g}, "
            f"so p < {alpha:g} cannot be reached.",
        )
    return _SignedRank(w_plus, p, method, " ".join(notes) if notes else None)


def _all_signed_sums(magnitudes: np.ndarray) -> np.ndarray:
    sums = np.zeros(1)
    for value in magnitudes:
        sums = np.concatenate([sums + value, sums - value])
    return sums


def _sign_flip(changes: np.ndarray, n_permutations: int, seed: int) -> tuple[float, str]:
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
    rng = np.random.default_rng(seed)
    # Rows of signs per chunk: bounded memory. The generator's stream does not depend
    # on the chunking, so results equal those of one big draw.
    rows = max(1, min(10_000, _CHUNK_ELEMENTS // n))
    hits, remaining = 0, n_permutations
    while remaining > 0:
        size = min(remaining, rows)
        signs = rng.integers(0, 2, size=(size, n)) * 2 - 1
        hits += int(np.count_nonzero(np.abs(signs @ magnitudes) >= threshold))
        remaining -= size
    return (hits + 1) / (n_permutations + 1), method


def _bootstrap_bca(
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
                method="BCa" if bca else "percentile",
                rng=np.random.default_rng(seed),
                # Resamples (and BCa's jackknife) in batches: bounded memory, and the
                # same draws and interval as without batching.
                batch=max(1, _CHUNK_ELEMENTS // n),
            )
        except (Warning, ValueError) as problem:
            return None, None, f"Not computed: the {kind} bootstrap failed ({problem})."
    low = float(result.confidence_interval.low)
    high = float(result.confidence_interval.high)
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


def _describe(values: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1))
    return mean, sd, sd / math.sqrt(len(values))


def _pearson_r(baseline: np.ndarray, follow_up: np.ndarray) -> float | None:
    if np.std(baseline) == 0 or np.std(follow_up) == 0:
        return None
    return float(np.clip(np.corrcoef(baseline, follow_up)[0, 1], -1.0, 1.0))


def _direction_words(mean: float, low: float, high: float, unit: str) -> tuple[str, str]:
    """(headline, CI text) in words of rise/fall, for sentences."""
    u = f" {unit}" if unit else ""
    if mean < 0:
        head = f"fell by {_fmt_number(-mean)}{u} on average"
    elif mean > 0:
        head = f"rose by {_fmt_number(mean)}{u} on average"
    else:
        head = "did not change on average"
    if high <= 0:
        interval = f"{_fmt_number(-high)} to {_fmt_number(-low)}{u} fall"
    elif low >= 0:
        interval = f"{_fmt_number(low)} to {_fmt_number(high)}{u} rise"
    else:
        interval = f"{_fmt_number(-low)}{u} fall to {_fmt_number(high)}{u} rise"
    return head, interval


# --------------------------------------------------------------------------------------
# Ratio (log) paired t-test
# --------------------------------------------------------------------------------------


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
        return _dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: ``quantity``, ``label``, ``value``."""
        level = _percent(self.confidence)
        rows = [
            ("n_pairs", "Complete pairs", self.n_pairs),
            ("n_excluded", "Pairs excluded", self.n_excluded),
            ("excluded", "Excluded patients", _describe_excluded(self.excluded) or "none"),
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
            ("p_less", "p, one-sided (follow-up lower)", self.p_less),
            ("p_greater", "p, one-sided (follow-up higher)", self.p_greater),
        ]
        return _frame(rows)

    def sentence(self, lab_name: str) -> str:
        """A short plain reading of the ratio test."""
        direction = "fall" if self.ratio < 1 else "rise"
        return (
            f"{lab_name} at follow-up was on average {_fmt_number(self.ratio)} times its "
            f"baseline value (geometric mean ratio; {_percent(self.confidence)} CI "
            f"{_fmt_number(self.ratio_ci_low)} to {_fmt_number(self.ratio_ci_high)}, a typical "
            f"{_fmt_number(abs(self.percent_change))} % {direction}; ratio paired "
            f"t = {_fmt_signed(self.t)}, df = {self.df}, {_fmt_p(self.p_two_sided)})"
        )


def _ratio_from_pairs(pairs: _Pairs, confidence: float) -> RatioResult:
    _require_pairs(len(pairs.ids), pairs.excluded)
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
    if _all_identical(log_ratios, 1.0):
        raise AnalysisError(
            f"All {len(log_ratios)} patients changed by exactly the same ratio "
            f"({math.exp(float(log_ratios[0])):g}), so the ratio t-test cannot be computed."
        )
    summary = _t_summary(log_ratios, confidence, scale=1.0)
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
    confidence = _check_level(confidence, "confidence level")
    return _ratio_from_pairs(_complete_pairs(baseline, follow_up, patient_ids), confidence)


# --------------------------------------------------------------------------------------
# The paired comparison
# --------------------------------------------------------------------------------------


_LABELS: dict[str, str] = {
    "n_pairs": "Complete pairs",
    "n_excluded": "Pairs excluded",
    "excluded": "Excluded patients",
    "baseline_mean": "Baseline mean",
    "baseline_sd": "Baseline SD",
    "baseline_se": "Baseline SE",
    "follow_up_mean": "Follow-up mean",
    "follow_up_sd": "Follow-up SD",
    "follow_up_se": "Follow-up SE",
    "mean_change": "Mean change (follow-up − baseline)",
    "sd_change": "SD of change",
    "se_change": "SE of change",
    "confidence": "Confidence level",
    "ci_low": "CI of the mean change, lower",
    "ci_high": "CI of the mean change, upper",
    "t": "Paired t",
    "df": "Degrees of freedom",
    "p_two_sided": "p, two-sided",
    "p_less": "p, one-sided (follow-up lower)",
    "p_greater": "p, one-sided (follow-up higher)",
    "r": "Correlation of baseline and follow-up (Pearson r)",
    "cohen_dz": "Cohen's d_z (mean change / SD of change)",
    "dz_ci_low": "CI of d_z, lower",
    "dz_ci_high": "CI of d_z, upper",
    "wilcoxon_statistic": "Wilcoxon W+ (sum of ranks of rises; R's V)",
    "wilcoxon_p": "Wilcoxon signed-rank p, two-sided",
    "wilcoxon_method": "Wilcoxon method",
    "wilcoxon_note": "Wilcoxon note",
    "shapiro_w": "Shapiro–Wilk W of the changes",
    "shapiro_p": "Shapiro–Wilk p",
    "sign_flip_p": "Sign-flip permutation p, two-sided",
    "sign_flip_method": "Sign-flip method",
    "bootstrap_ci_low": "Bootstrap BCa CI of the mean change, lower",
    "bootstrap_ci_high": "Bootstrap BCa CI of the mean change, upper",
    "bootstrap_note": "Bootstrap note",
    "mde_dz_80": "Smallest d_z detectable with 80 % power (two-sided)",
    "n_for_80_power": "Pairs needed for 80 % power at the observed d_z",
    "alpha": "Significance level (alpha)",
    "ratio_note": "Ratio (log) t-test note",
}


@dataclass(frozen=True)
class PairedResult:
    """Everything reported for one lab between baseline and one follow-up time.

    Attributes
    ----------
    n_pairs, n_excluded, excluded
        Complete pairs used; pairs dropped and why, as (patient_id, reason).
    baseline_mean, baseline_sd, baseline_se, follow_up_mean, follow_up_sd, follow_up_se
        Descriptives over the complete pairs (SD with n − 1).
    mean_change, sd_change, se_change
        Change = follow-up − baseline.
    confidence, ci_low, ci_high
        t-based CI of the mean change.
    t, df, p_two_sided, p_less, p_greater
        Paired t-test; ``p_less`` is for a fall, ``p_greater`` for a rise.
    r : float or None
        Pearson correlation of baseline and follow-up (None if either is constant).
    cohen_dz, dz_ci_low, dz_ci_high
        d_z = mean change / SD of change, CI by noncentral-t inversion.
    wilcoxon_statistic, wilcoxon_p, wilcoxon_method, wilcoxon_note
        Signed-rank test: W+ (R's V), two-sided p, the method in words, and a note
        (None when there is nothing to add).
    shapiro_w, shapiro_p
        Shapiro–Wilk on the changes (None when n < 3).
    sign_flip_p, sign_flip_method
        Sign-flip permutation test of the mean change.
    bootstrap_ci_low, bootstrap_ci_high, bootstrap_note
        BCa bootstrap CI of the mean change (None with the reason in the note).
    mde_dz_80, n_for_80_power
        Smallest d_z detectable at 80 % power, two-sided ``alpha``, with these pairs;
        pairs needed to detect the observed d_z with 80 % power (None when the
        observed mean change is zero, or too small for any feasible n).
    alpha : float
        Significance level used for notes, power and leave-one-out.
    baseline_values, follow_up_values, patient_ids
        The complete pairs, in input order.
    ratio, ratio_note
        The ratio (log) paired t-test when requested (``log_scale_available``) and
        possible; else None, with the reason in ``ratio_note``.
    """

    n_pairs: int
    n_excluded: int
    excluded: tuple[tuple[str, str], ...]
    baseline_mean: float
    baseline_sd: float
    baseline_se: float
    follow_up_mean: float
    follow_up_sd: float
    follow_up_se: float
    mean_change: float
    sd_change: float
    se_change: float
    confidence: float
    ci_low: float
    ci_high: float
    t: float
    df: int
    p_two_sided: float
    p_less: float
    p_greater: float
    r: float | None
    cohen_dz: float
    dz_ci_low: float
    dz_ci_high: float
    wilcoxon_statistic: float
    wilcoxon_p: float
    wilcoxon_method: str
    wilcoxon_note: str | None
    shapiro_w: float | None
    shapiro_p: float | None
    sign_flip_p: float
    sign_flip_method: str
    bootstrap_ci_low: float | None
    bootstrap_ci_high: float | None
    bootstrap_note: str
    mde_dz_80: float
    n_for_80_power: int | None
    alpha: float
    baseline_values: tuple[float, ...]
    follow_up_values: tuple[float, ...]
    patient_ids: tuple[str, ...]
    ratio: RatioResult | None = None
    ratio_note: str | None = None

    @property
    def changes(self) -> tuple[float, ...]:
        """Follow-up − baseline for each complete pair."""
        return tuple(
            f - b for b, f in zip(self.baseline_values, self.follow_up_values, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded; missing quantities are None."""
        return _dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per scalar quantity: ``quantity``, ``label``, ``value``."""
        level = _percent(self.confidence)
        rows: list[tuple[str, str, Any]] = []
        for key, label in _LABELS.items():
            value = getattr(self, key)
            if key == "excluded":
                value = _describe_excluded(value) or "none"
            if key in {"ci_low", "ci_high", "dz_ci_low", "dz_ci_high"}:
                label = f"{level} {label}"
            if key in {"bootstrap_ci_low", "bootstrap_ci_high"}:
                label = label.replace("Bootstrap BCa CI", f"Bootstrap BCa {level} CI")
            rows.append((key, label, value))
        return _frame(rows)

    def sentence(self, lab_name: str, unit: str) -> str:
        """A short plain reading, e.g. "MCV fell by 2.5 fL on average (95 % CI ...)"."""
        head, interval = _direction_words(self.mean_change, self.ci_low, self.ci_high, unit)
        text = (
            f"{lab_name} {head} ({_percent(self.confidence)} CI {interval}; paired "
            f"t = {_fmt_signed(self.t)}, df = {self.df}, {_fmt_p(self.p_two_sided)})"
        )
        if self.excluded:
            count = len(self.excluded)
            noun = "patient" if count == 1 else "patients"
            text += f"; {count} {noun} excluded: {_describe_excluded(self.excluded)}"
        return text + "."


def _validate_options(
    alpha: float, confidence: float, n_permutations: int, n_bootstrap: int
) -> None:
    _check_level(alpha, "significance level (alpha)")
    _check_level(confidence, "confidence level")
    for name, value in (("n_permutations", n_permutations), ("n_bootstrap", n_bootstrap)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise AnalysisError(f"{name} must be a whole number of at least 1, not {value!r}.")


def _pairs_for_80_power(cohen_dz: float, alpha: float) -> int | None:
    """Pairs for 80 % two-sided power at the observed d_z; None when d_z is (near) 0."""
    try:
        return _power.n_required(abs(cohen_dz), 0.8, alpha)
    except AnalysisError:
        return None


def _optional_ratio(pairs: _Pairs, confidence: float) -> tuple[RatioResult | None, str | None]:
    try:
        return _ratio_from_pairs(pairs, confidence), None
    except AnalysisError as problem:
        return None, f"Ratio (log) t-test not computed: {problem}"


def paired_change(
    baseline: Any,
    follow_up: Any,
    patient_ids: Any = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_permutations: int = 100_000,
    seed: int = _DEFAULT_SEED,
    log_scale_available: bool = False,
    n_bootstrap: int = 9_999,
) -> PairedResult:
    """Compare one lab between baseline and one follow-up time in the same patients.

    Parameters
    ----------
    baseline, follow_up : 1-D array-like of float
        One value per patient, in the same patient order; NaN (or None) for missing.
        Two pandas Series must share their index.
    patient_ids : 1-D array-like, optional
        Patient labels; default the Series index, else 1..n (as strings).
    alpha : float
        Significance level for the Wilcoxon note, the power figures and leave-one-out.
    confidence : float
        Confidence level of every interval.
    n_permutations : int
        Monte Carlo sign patterns when there are more than
        :data:`EXACT_SIGN_FLIP_MAX_PAIRS` pairs (otherwise all 2^n are enumerated);
        capped at :data:`SIGN_FLIP_MAX_DRAWS` / pairs (at least
        :data:`SIGN_FLIP_MIN_PERMUTATIONS`).
    seed : int
        Seed for the Monte Carlo sign-flip test and the bootstrap.
    log_scale_available : bool
        True for skewed labs (hepcidin, ferritin): also run :func:`ratio_paired_t`
        and attach it as ``ratio`` (or the reason it could not run as ``ratio_note``).
    n_bootstrap : int
        Bootstrap resamples for the BCa interval.

    Returns
    -------
    PairedResult

    Raises
    ------
    AnalysisError
        Fewer than 2 complete pairs; all changes identical (SD of change = 0);
        values that are not numbers; mismatched lengths or duplicate patient IDs.

    Notes
    -----
    Missing data: complete pairs only. A patient with either value missing is left
    out of every quantity and listed in ``excluded`` with the reason.

    With changes :math:`d_i = y_i - x_i` (follow-up − baseline), :math:`i = 1..n`:
    :math:`t = \\bar d / (s_d/\\sqrt n)` on :math:`n - 1` df; CI
    :math:`\\bar d \\pm t_{1-a/2, n-1} s_d/\\sqrt n`; :math:`d_z = \\bar d / s_d`.

    The d_z interval inverts the noncentral t distribution: the limits are the
    noncentrality parameters :math:`\\lambda` with
    :math:`P(T_{n-1,\\lambda} \\le t_{obs}) = 1 - a/2` and :math:`a/2`, divided by
    :math:`\\sqrt n` (exact under normality; not the large-sample approximation).

    Wilcoxon signed-rank: zero changes are dropped (Wilcoxon's method, as R and
    scipy's default do), leaving :math:`m` changes. Up to
    :data:`WILCOXON_EXACT_MAX_PAIRS` (50) of them: with no zero and no tied
    :math:`|d_i|`, scipy's exact two-sided p (``method="exact"``); otherwise the p is
    exact over all :math:`2^m` sign patterns of the mid-ranks (conditional on the
    ties) and ``wilcoxon_note`` gives the p that R's normal approximation with
    continuity correction would print. Above 50, R's normal approximation with tie and
    continuity correction (``wilcox.test(paired = TRUE)``, scipy
    ``wilcoxon(method="approx", correction=True)``), as ``wilcoxon_method`` says.
    Changes within :math:`10^{-9}` of the data scale count as equal (so 3.3 − 2.2 ties
    2.2 − 1.1).

    Sign-flip test: statistic :math:`|\\sum d_i|`, p = share of the :math:`2^n`
    sign patterns at least as extreme (exact up to 20 pairs, by meet-in-the-middle
    enumeration), else Monte Carlo ``(hits + 1)/(N + 1)``, with ``N`` reduced so that
    :math:`N n \\le` :data:`SIGN_FLIP_MAX_DRAWS` (5,000 permutations at 10,000 pairs;
    ``sign_flip_method`` says so). The BCa bootstrap CI (scipy ``bootstrap``, in
    batches of bounded memory) is a sensitivity analysis; it is anti-conservative below
    about 15 pairs; above :data:`BOOTSTRAP_BCA_MAX_PAIRS` pairs the percentile
    interval is given instead (``bootstrap_note`` says so).
    """
    _validate_options(alpha, confidence, n_permutations, n_bootstrap)
    alpha, confidence = float(alpha), float(confidence)
    pairs = _complete_pairs(baseline, follow_up, patient_ids)
    n = len(pairs.ids)
    _require_pairs(n, pairs.excluded)
    changes = pairs.follow_up - pairs.baseline
    scale = float(max(np.max(np.abs(pairs.baseline)), np.max(np.abs(pairs.follow_up))))
    summary = _t_summary(changes, confidence, scale)
    baseline_mean, baseline_sd, baseline_se = _describe(pairs.baseline)
    follow_up_mean, follow_up_sd, follow_up_se = _describe(pairs.follow_up)
    cohen_dz = summary.mean / summary.sd
    dz_low, dz_high = _dz_interval(summary.t, n, confidence)
    signed_rank = _signed_rank(changes, scale, alpha)
    shapiro_w = shapiro_p = None
    if n >= 3:
        shapiro = stats.shapiro(changes)
        shapiro_w, shapiro_p = float(shapiro.statistic), float(shapiro.pvalue)
    sign_flip_p, sign_flip_method = _sign_flip(changes, int(n_permutations), int(seed))
    boot_low, boot_high, boot_note = _bootstrap_bca(
        changes, confidence, int(n_bootstrap), int(seed)
    )
    ratio, ratio_note = _optional_ratio(pairs, confidence) if log_scale_available else (None, None)
    return PairedResult(
        n_pairs=n,
        n_excluded=len(pairs.excluded),
        excluded=pairs.excluded,
        baseline_mean=baseline_mean,
        baseline_sd=baseline_sd,
        baseline_se=baseline_se,
        follow_up_mean=follow_up_mean,
        follow_up_sd=follow_up_sd,
        follow_up_se=follow_up_se,
        mean_change=summary.mean,
        sd_change=summary.sd,
        se_change=summary.se,
        confidence=confidence,
        ci_low=summary.ci_low,
        ci_high=summary.ci_high,
        t=summary.t,
        df=summary.df,
        p_two_sided=summary.p_two_sided,
        p_less=summary.p_less,
        p_greater=summary.p_greater,
        r=_pearson_r(pairs.baseline, pairs.follow_up),
        cohen_dz=cohen_dz,
        dz_ci_low=dz_low,
        dz_ci_high=dz_high,
        wilcoxon_statistic=signed_rank.statistic,
        wilcoxon_p=signed_rank.p,
        wilcoxon_method=signed_rank.method,
        wilcoxon_note=signed_rank.note,
        shapiro_w=shapiro_w,
        shapiro_p=shapiro_p,
        sign_flip_p=sign_flip_p,
        sign_flip_method=sign_flip_method,
        bootstrap_ci_low=boot_low,
        bootstrap_ci_high=boot_high,
        bootstrap_note=boot_note,
        mde_dz_80=_power.mde_dz(n, 0.8, alpha),
        n_for_80_power=_pairs_for_80_power(cohen_dz, alpha),
        alpha=alpha,
        baseline_values=tuple(float(v) for v in pairs.baseline),
        follow_up_values=tuple(float(v) for v in pairs.follow_up),
        patient_ids=pairs.ids,
        ratio=ratio,
        ratio_note=ratio_note,
    )


# --------------------------------------------------------------------------------------
# Leave-one-out influence
# --------------------------------------------------------------------------------------


def _loo_inputs(
    result_or_arrays: PairedResult | Sequence[Any],
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], float | None]:
    if isinstance(result_or_arrays, PairedResult):
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
    pairs = _complete_pairs(result_or_arrays[0], result_or_arrays[1], ids)
    _require_pairs(len(pairs.ids), pairs.excluded)
    return pairs.baseline, pairs.follow_up, pairs.ids, None


def leave_one_out(
    result_or_arrays: PairedResult | Sequence[Any], alpha: float | None = None
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
    alpha = _check_level(alpha if alpha is not None else (result_alpha or 0.05), "alpha")
    changes = follow_up - baseline
    scale = float(max(np.max(np.abs(baseline)), np.max(np.abs(follow_up))))
    full_mean = float(np.mean(changes))
    full_p: float | None
    try:
        full_p = _t_summary(changes, 0.95, scale).p_two_sided
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
