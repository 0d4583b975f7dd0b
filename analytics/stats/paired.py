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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import AnalysisError
from analytics.plain import format_interval, format_level, format_number, format_p, jsonable
from analytics.stats.bayes import DEFAULT_PRIOR_SCALE, check_prior_scale
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
from analytics.stats.paired_deferred import DEFERRED, Deferred
from analytics.stats.power import check_power_above_alpha
from analytics.stats.ratio import RatioResult, ratio_paired_t
from analytics.stats.rcv import RcvResult
from analytics.stats.robust import (
    BOOTSTRAP_BCA_MAX_PAIRS,
    DEFAULT_SEED,
    EXACT_SIGN_FLIP_MAX_PAIRS,
    MIN_BOOTSTRAP_PAIRS,
    SIGN_FLIP_MAX_DRAWS,
    SIGN_FLIP_MIN_PERMUTATIONS,
    WILCOXON_EXACT_MAX_PAIRS,
    RankedChanges,
    leave_one_out,
    signed_rank_test,
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


#: What the sign-flip test and the bootstrap read until they are shown (computed).
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
    shapiro_w: float | None
    shapiro_p: float | None
    alpha: float
    patient_ids: tuple[str, ...]
    censored_note: str | None = None
    equivalence: EquivalenceResult | None = None
    equivalence_note: str | None = None
    rcv: RcvResult | None = None
    rcv_note: str | None = None
    #: the quantities computed when first read (see analytics.stats.paired_deferred)
    _deferred: Deferred | None = field(default=None, repr=False, compare=False)

    @property
    def changes(self) -> tuple[float, ...]:
        """Follow-up − baseline for each complete pair."""
        return tuple(
            f - b for b, f in zip(self.baseline_values, self.follow_up_values, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded; missing quantities are None."""
        out: dict[str, Any] = {}
        for name, value in dataclass_dict(self).items():
            if name == "_deferred":
                continue
            out[name] = value
            for later in _LISTED_AFTER.get(name, ()):  # the deferred ones in their place
                out[later] = jsonable(getattr(self, later))
        return out

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


def _deferred_quantity(name: str) -> property:
    def read(self: PairedResult) -> Any:
        if self._deferred is None:
            raise AttributeError(f"{name} was not computed for this result")
        return self._deferred.get(name)

    read.__name__ = name
    return property(read, doc=f"``{name}``, computed when first read (see the class notes).")


for _name in DEFERRED:
    setattr(PairedResult, _name, _deferred_quantity(_name))

#: Where each deferred quantity is listed in to_dict, after which field.
_LISTED_AFTER = {
    "wilcoxon_method": ("wilcoxon_note",),
    "alpha": ("baseline_values", "follow_up_values"),
    "shapiro_p": (
        "sign_flip_p",
        "sign_flip_method",
        "bootstrap_ci_low",
        "bootstrap_ci_high",
        "bootstrap_note",
        "mde_dz_80",
        "n_for_80_power",
    ),
    "patient_ids": ("ratio", "ratio_note"),
    "equivalence_note": ("bayes",),
}


def _validate_options(
    alpha: float, confidence: float, n_permutations: int, n_bootstrap: int
) -> None:
    check_level(alpha, "significance level (alpha)")
    check_level(confidence, "confidence level")
    for name, value in (("n_permutations", n_permutations), ("n_bootstrap", n_bootstrap)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise AnalysisError(f"{name} must be a whole number of at least 1, not {value!r}.")


def paired_change(
    baseline: Any,
    follow_up: Any,
    patient_ids: Any = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_permutations: int = 100_000,
    seed: int = DEFAULT_SEED,
    log_scale_available: bool = False,
    n_bootstrap: int = 9_999,
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
        False: the sign-flip test and the bootstrap interval read as not computed yet
        (``bootstrap_note`` is :data:`NOT_RESAMPLED`) until
        :func:`analytics.stats.resampling.with_resampling` is applied.

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
    prior_scale = check_prior_scale(prior_scale)
    check_power_above_alpha(0.8, alpha)  # the power figures, deferred, need it
    pairs = complete_pairs(baseline, follow_up, patient_ids)
    require_pairs(len(pairs.ids), pairs.excluded)
    changes = pairs.follow_up - pairs.baseline
    scale = float(max(np.max(np.abs(pairs.baseline)), np.max(np.abs(pairs.follow_up))))
    t_part = _t_fields(pairs, changes, scale, confidence, alpha)
    robust_part, ranked = _robust_fields(changes, scale, alpha)
    equivalence, equivalence_note = None, "No equivalence margin given."
    if margin is not None:
        try:
            equivalence = equivalence_test(changes, margin, alpha, unit=unit)
            equivalence_note = None
        except AnalysisError as problem:
            equivalence_note = f"Equivalence test not computed: {problem}"
    deferred = Deferred(
        pairs=pairs,
        changes=changes,
        t=t_part["t"],
        cohen_dz=t_part["cohen_dz"],
        alpha=alpha,
        confidence=confidence,
        n_permutations=int(n_permutations),
        n_bootstrap=int(n_bootstrap),
        seed=int(seed),
        prior_scale=prior_scale,
        log_scale_available=log_scale_available,
        ranked=ranked,
        wilcoxon_p=robust_part["wilcoxon_p"],
    )
    if not resampling:
        deferred.hold_resampling(NOT_RESAMPLED)
    return PairedResult(
        **t_part,
        **robust_part,
        alpha=alpha,
        patient_ids=pairs.ids,
        equivalence=equivalence,
        equivalence_note=equivalence_note,
        _deferred=deferred,
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
    }


def _robust_fields(
    changes: np.ndarray, scale: float, alpha: float
) -> tuple[dict[str, Any], RankedChanges]:
    """Wilcoxon (its note deferred) and Shapiro–Wilk, and the changes as ranked."""
    ranks, ranked = signed_rank_test(changes, scale)
    shapiro_w = shapiro_p = None
    if len(changes) >= 3:
        shapiro = stats.shapiro(changes)
        shapiro_w, shapiro_p = float(shapiro.statistic), float(shapiro.pvalue)
    return {
        "wilcoxon_statistic": ranks.statistic,
        "wilcoxon_p": ranks.p,
        "wilcoxon_method": ranks.method,
        "shapiro_w": shapiro_w,
        "shapiro_p": shapiro_p,
    }, ranked
