"""Paired comparison of one lab between baseline and one follow-up time.

Everything a clinician reports for a before/after comparison in a small cohort:
the paired t-test as JMP's Matched Pairs prints it, Cohen's d_z with its confidence
interval, the Wilcoxon signed-rank test, Shapiro–Wilk on the changes, an exact
sign-flip permutation test, a BCa bootstrap interval, the minimum detectable effect,
leave-one-out influence and, for skewed labs, the ratio (log) paired t-test; and the
evidence beyond the p-value: the equivalence test against a margin
(:mod:`~analytics.stats.equivalence`), the Bayes factor (:mod:`~analytics.stats.bayes`)
and, attached by :func:`analytics.analysis.paired_for`, each patient's change against the
reference change value (:mod:`~analytics.stats.rcv`).

Change is always follow-up − baseline: a fall is a negative change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import AnalysisError
from analytics.plain import format_interval, format_level, format_number, format_p
from analytics.stats import power as _power
from analytics.stats.bayes import DEFAULT_PRIOR_SCALE, BayesResult, bayes_factor
from analytics.stats.common import (
    Pairs,
    check_level,
    complete_pairs,
    dataclass_dict,
    describe_excluded,
    quantity_frame,
    require_pairs,
    t_summary,
)
from analytics.stats.effect_size import MAX_BRACKET_STEPS, dz_interval
from analytics.stats.equivalence import EquivalenceResult, equivalence_test
from analytics.stats.ratio import RatioResult, ratio_from_pairs, ratio_paired_t
from analytics.stats.rcv import RcvResult
from analytics.stats.robust import (
    BOOTSTRAP_BCA_MAX_PAIRS,
    DEFAULT_SEED,
    EXACT_SIGN_FLIP_MAX_PAIRS,
    MIN_BOOTSTRAP_PAIRS,
    SIGN_FLIP_MAX_DRAWS,
    SIGN_FLIP_MIN_PERMUTATIONS,
    WILCOXON_EXACT_MAX_PAIRS,
    bootstrap_bca,
    leave_one_out,
    sign_flip,
    signed_rank,
)

__all__ = [
    "BOOTSTRAP_BCA_MAX_PAIRS",
    "EXACT_SIGN_FLIP_MAX_PAIRS",
    "MAX_BRACKET_STEPS",
    "MIN_BOOTSTRAP_PAIRS",
    "SIGN_FLIP_MAX_DRAWS",
    "SIGN_FLIP_MIN_PERMUTATIONS",
    "WILCOXON_EXACT_MAX_PAIRS",
    "PairedResult",
    "RatioResult",
    "dz_interval",
    "leave_one_out",
    "paired_change",
    "ratio_paired_t",
]

#: Sign patterns drawn and bootstrap resamples by default (see :func:`paired_change`).
DEFAULT_PERMUTATIONS = 100_000
DEFAULT_BOOTSTRAP = 9_999

#: The bootstrap note of a result computed with ``resampling=False``.
NOT_RESAMPLED = "Not computed yet: the sign-flip test and the bootstrap are computed when shown."

# --------------------------------------------------------------------------------------
# Pieces of the paired analysis
# --------------------------------------------------------------------------------------


def _describe(values: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1))
    return mean, sd, sd / math.sqrt(len(values))


def _pearson_r(baseline: np.ndarray, follow_up: np.ndarray) -> float | None:
    if np.std(baseline) == 0 or np.std(follow_up) == 0:
        return None
    return float(np.clip(np.corrcoef(baseline, follow_up)[0, 1], -1.0, 1.0))


def _direction_words(mean: float, low: float, high: float, unit: str) -> tuple[str, str]:
    """(headline, CI text) in words of rise/fall, for sentences (3 significant digits)."""
    u = f" {unit}" if unit else ""
    if mean < 0:
        head = f"fell by {format_number(-mean, digits=3)}{u} on average"
    elif mean > 0:
        head = f"rose by {format_number(mean, digits=3)}{u} on average"
    else:
        head = "did not change on average"
    if high <= 0:
        interval = f"{format_interval(-high, -low, digits=3)}{u} fall"
    elif low >= 0:
        interval = f"{format_interval(low, high, digits=3)}{u} rise"
    else:
        fall, rise = format_number(-low, digits=3), format_number(high, digits=3)
        interval = f"{fall}{u} fall to {rise}{u} rise"
    return head, interval


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
    "p_less": "p, one-sided for a fall (follow-up lower; JMP Prob < t)",
    "p_greater": "p, one-sided for a rise (follow-up higher; JMP Prob > t)",
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
    "censored_note": "Values beyond a detection limit",
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
        Sign-flip permutation test of the mean change (p None until computed, see
        ``resampling`` of :func:`paired_change`).
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
    censored_note : str or None
        How many values beyond a detection limit (``<5``) entered and how ("2 values
        below the detection limit entered at the limit."); None when none did. Set by
        :func:`analytics.analysis.paired_for`, which knows the cohort's marks.
    equivalence, equivalence_note
        The equivalence test (TOST) against ``margin`` at ``alpha``; None without a
        margin, with the reason in ``equivalence_note``.
    bayes : BayesResult
        The JZS Bayes factor of the change, with its robustness line.
    rcv, rcv_note
        Each patient's change against the reference change value (attached by
        :func:`analytics.analysis.paired_for`, which knows the lab); else None, with
        the reason in ``rcv_note``.

    Examples
    --------
    Student's sleep data (R ``datasets::sleep``), cross-checked against SciPy:

    >>> from scipy import stats
    >>> baseline = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> follow_up = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    >>> result = paired_change(baseline, follow_up)
    >>> result.n_pairs, round(result.mean_change, 2), round(result.t, 4), result.df
    (10, -1.58, -4.0621, 9)
    >>> reference = stats.ttest_rel(follow_up, baseline)
    >>> bool(np.isclose(result.t, reference.statistic))
    True
    >>> bool(np.isclose(result.p_two_sided, reference.pvalue))
    True
    >>> low, high = reference.confidence_interval(0.95)
    >>> bool(np.allclose([result.ci_low, result.ci_high], [low, high]))
    True
    >>> result.sign_flip_method
    'exact, all 1,024 sign patterns'
    >>> print(result.sentence("Extra sleep", "h"))  # doctest: +NORMALIZE_WHITESPACE
    Extra sleep fell by 1.58 h on average (95 % CI 0.700 to 2.46 h fall;
    paired t = −4.06, df = 9, p = 0.00283).
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
    sign_flip_p: float | None
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
    censored_note: str | None = None
    equivalence: EquivalenceResult | None = None
    equivalence_note: str | None = None
    bayes: BayesResult | None = None
    rcv: RcvResult | None = None
    rcv_note: str | None = None

    @property
    def changes(self) -> tuple[float, ...]:
        """Follow-up − baseline for each complete pair."""
        return tuple(
            f - b for b, f in zip(self.baseline_values, self.follow_up_values, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded; missing quantities are None."""
        return dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per scalar quantity: ``quantity``, ``label``, ``value``."""
        level = format_level(self.confidence)
        rows: list[tuple[str, str, Any]] = []
        for key, label in _LABELS.items():
            value = getattr(self, key)
            if key == "excluded":
                value = describe_excluded(value) or "none"
            if key in {"ci_low", "ci_high", "dz_ci_low", "dz_ci_high"}:
                label = f"{level} {label}"
            if key in {"bootstrap_ci_low", "bootstrap_ci_high"}:
                label = label.replace("Bootstrap BCa CI", f"Bootstrap BCa {level} CI")
            rows.append((key, label, value))
        return quantity_frame(rows)

    def sentence(self, lab_name: str, unit: str) -> str:
        """A short plain reading, e.g. "MCV fell by 2.5 fL on average (95 % CI ...)"."""
        head, interval = _direction_words(self.mean_change, self.ci_low, self.ci_high, unit)
        text = (
            f"{lab_name} {head} ({format_level(self.confidence)} CI {interval}; paired "
            f"t = {format_number(self.t)}, df = {self.df}, "
            f"{format_p(self.p_two_sided, prefix=True)})"
        )
        if self.excluded:
            count = len(self.excluded)
            noun = "patient" if count == 1 else "patients"
            text += f"; {count} {noun} excluded: {describe_excluded(self.excluded)}"
        text += "."
        if self.rcv is not None:
            text += " " + self.rcv.count_sentence()
        return f"{text} {self.censored_note}" if self.censored_note else text


def _validate_options(
    alpha: float, confidence: float, n_permutations: int, n_bootstrap: int
) -> None:
    check_level(alpha, "significance level (alpha)")
    check_level(confidence, "confidence level")
    for name, value in (("n_permutations", n_permutations), ("n_bootstrap", n_bootstrap)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise AnalysisError(f"{name} must be a whole number of at least 1, not {value!r}.")


def _pairs_for_80_power(cohen_dz: float, alpha: float) -> int | None:
    """Pairs for 80 % two-sided power at the observed d_z; None when d_z is (near) 0."""
    try:
        return _power.n_required(abs(cohen_dz), 0.8, alpha)
    except AnalysisError:
        return None


def _optional_ratio(pairs: Pairs, confidence: float) -> tuple[RatioResult | None, str | None]:
    try:
        return ratio_from_pairs(pairs, confidence), None
    except AnalysisError as problem:
        return None, f"Ratio (log) t-test not computed: {problem}"


def paired_change(
    baseline: Any,
    follow_up: Any,
    patient_ids: Any = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    log_scale_available: bool = False,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    margin: float | None = None,
    prior_scale: float = DEFAULT_PRIOR_SCALE,
    unit: str = "",
    resampling: bool = True,
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
    margin : float, optional
        Equivalence margin in the lab's unit: run the equivalence test (TOST) at
        ``alpha`` (see :func:`~analytics.stats.equivalence.equivalence_test`).
    prior_scale : float
        Scale of the Cauchy prior on d_z of the Bayes factor.
    unit : str
        The lab's unit, for the equivalence verdict.
    resampling : bool
        False leaves out the two resampling parts, the sign-flip test and the
        bootstrap (``sign_flip_p`` and the bootstrap limits None, the note
        :data:`NOT_RESAMPLED`; ``sign_flip_method`` says how it would be computed):
        :func:`analytics.stats.resampling.with_resampling` adds them later, with the
        same numbers.

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
    pairs = complete_pairs(baseline, follow_up, patient_ids)
    require_pairs(len(pairs.ids), pairs.excluded)
    changes = pairs.follow_up - pairs.baseline
    scale = float(max(np.max(np.abs(pairs.baseline)), np.max(np.abs(pairs.follow_up))))
    t_part = _t_fields(pairs, changes, scale, confidence, alpha)
    robust_part = _robust_fields(
        changes,
        scale,
        alpha,
        confidence,
        int(n_permutations),
        int(n_bootstrap),
        int(seed),
        resampling=resampling,
    )
    ratio, ratio_note = _optional_ratio(pairs, confidence) if log_scale_available else (None, None)
    equivalence, equivalence_note = None, "No equivalence margin given."
    if margin is not None:
        try:
            equivalence = equivalence_test(changes, margin, alpha, unit=unit)
            equivalence_note = None
        except AnalysisError as problem:
            equivalence_note = f"Equivalence test not computed: {problem}"
    return PairedResult(
        **t_part,
        **robust_part,
        alpha=alpha,
        baseline_values=tuple(float(v) for v in pairs.baseline),
        follow_up_values=tuple(float(v) for v in pairs.follow_up),
        patient_ids=pairs.ids,
        ratio=ratio,
        ratio_note=ratio_note,
        equivalence=equivalence,
        equivalence_note=equivalence_note,
        bayes=bayes_factor(t_part["t"], t_part["n_pairs"], prior_scale),
    )


def _t_fields(
    pairs: Pairs, changes: np.ndarray, scale: float, confidence: float, alpha: float
) -> dict[str, Any]:
    """Descriptives, the paired t-test, d_z with its interval and the power figures."""
    n = len(pairs.ids)
    summary = t_summary(changes, confidence, scale)
    baseline_mean, baseline_sd, baseline_se = _describe(pairs.baseline)
    follow_up_mean, follow_up_sd, follow_up_se = _describe(pairs.follow_up)
    cohen_dz = summary.mean / summary.sd
    dz_low, dz_high = dz_interval(summary.t, n, confidence)
    return {
        "n_pairs": n,
        "n_excluded": len(pairs.excluded),
        "excluded": pairs.excluded,
        "baseline_mean": baseline_mean,
        "baseline_sd": baseline_sd,
        "baseline_se": baseline_se,
        "follow_up_mean": follow_up_mean,
        "follow_up_sd": follow_up_sd,
        "follow_up_se": follow_up_se,
        "mean_change": summary.mean,
        "sd_change": summary.sd,
        "se_change": summary.se,
        "confidence": confidence,
        "ci_low": summary.ci_low,
        "ci_high": summary.ci_high,
        "t": summary.t,
        "df": summary.df,
        "p_two_sided": summary.p_two_sided,
        "p_less": summary.p_less,
        "p_greater": summary.p_greater,
        "r": _pearson_r(pairs.baseline, pairs.follow_up),
        "cohen_dz": cohen_dz,
        "dz_ci_low": dz_low,
        "dz_ci_high": dz_high,
        "mde_dz_80": _power.mde_dz(n, 0.8, alpha),
        "n_for_80_power": _pairs_for_80_power(cohen_dz, alpha),
    }


def _robust_fields(
    changes: np.ndarray,
    scale: float,
    alpha: float,
    confidence: float,
    n_permutations: int,
    n_bootstrap: int,
    seed: int,
    *,
    resampling: bool = True,
) -> dict[str, Any]:
    """Wilcoxon, Shapiro–Wilk, the sign-flip test and the bootstrap interval (the last
    two left out unless ``resampling``)."""
    ranks = signed_rank(changes, scale, alpha)
    shapiro_w = shapiro_p = None
    if len(changes) >= 3:
        shapiro = stats.shapiro(changes)
        shapiro_w, shapiro_p = float(shapiro.statistic), float(shapiro.pvalue)
    if resampling:
        sign_flip_p, sign_flip_method = sign_flip(changes, n_permutations, seed)
        boot_low, boot_high, boot_note = bootstrap_bca(changes, confidence, n_bootstrap, seed)
    else:  # all-zero changes: sign_flip returns at once, with the method it would use
        sign_flip_p, boot_low, boot_high, boot_note = None, None, None, NOT_RESAMPLED
        sign_flip_method = sign_flip(np.zeros(len(changes)), n_permutations, seed)[1]
    return {
        "wilcoxon_statistic": ranks.statistic,
        "wilcoxon_p": ranks.p,
        "wilcoxon_method": ranks.method,
        "wilcoxon_note": ranks.note,
        "shapiro_w": shapiro_w,
        "shapiro_p": shapiro_p,
        "sign_flip_p": sign_flip_p,
        "sign_flip_method": sign_flip_method,
        "bootstrap_ci_low": boot_low,
        "bootstrap_ci_high": boot_high,
        "bootstrap_note": boot_note,
    }
