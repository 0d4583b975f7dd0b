"""Does the change differ between subgroups (adult vs pediatric, men vs women, ...)?

Subgroups are compared by testing the *difference in change* — Welch's t on the
changes and the Mann–Whitney test — and each subgroup's mean change is shown with
its own confidence interval (a forest plot). Two p-values are never compared with
each other: "significant in adults, not in children" is not evidence of a difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from analytics.errors import AnalysisError
from analytics.plain import format_interval, format_level, format_number, format_p, jsonable
from analytics.stats.common import (
    check_level,
    dataclass_dict,
    describe_excluded,
    float_array,
    holm_adjust,
    midranks_and_ties,
    patient_labels,
    quantity_frame,
)
from analytics.stats.r_ranks import R_EXACT_BELOW, normal_rank_sum_p, r_rank_sum

__all__ = [
    "MANN_WHITNEY_EXACT_MAX_PATIENTS",
    "GroupSummary",
    "PairwiseContrast",
    "SubgroupResult",
    "exact_rank_sum_p",
    "normal_rank_sum_p",
    "subgroup_contrast",
]

#: With tied changes, up to this many patients in the two subgroups together the
#: Mann–Whitney p is exact conditional on the ties (the exact mid-rank distribution,
#: whose table is (n_B + 1) × N(N + 1) numbers and its work N times that); above it,
#: R's normal approximation with tie and continuity correction. Without ties the p is
#: exact whenever each subgroup has fewer than 50 patients, as in R's wilcox.test.
MANN_WHITNEY_EXACT_MAX_PATIENTS = 50


@dataclass(frozen=True)
class GroupSummary:
    """Mean change in one subgroup with its t-based CI.

    ``sd_change``, ``se_change``, ``ci_low`` and ``ci_high`` are None for a group
    of one patient (``note`` says so); such a group takes no part in any contrast.
    """

    group: str
    n: int
    patient_ids: tuple[str, ...]
    mean_change: float
    sd_change: float | None
    se_change: float | None
    ci_low: float | None
    ci_high: float | None
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclass_dict(self)


#: The result's fields filled from the one contrast when there are exactly two subgroups:
#: (field of SubgroupResult, field of PairwiseContrast).
_TWO_GROUP_FIELDS = (
    ("reference_group", "group_a"),
    ("comparison_group", "group_b"),
    ("difference", "difference"),
    ("difference_se", "difference_se"),
    ("welch_t", "welch_t"),
    ("welch_df", "welch_df"),
    ("welch_p", "welch_p"),
    ("diff_ci_low", "ci_low"),
    ("diff_ci_high", "ci_high"),
    ("mann_whitney_u", "mann_whitney_u"),
    ("mann_whitney_p", "mann_whitney_p"),
    ("mann_whitney_method", "mann_whitney_method"),
)


@dataclass(frozen=True)
class PairwiseContrast:
    """Difference in mean change between two subgroups: ``group_b`` − ``group_a``.

    Welch's t with its df, p and CI of the difference; Mann–Whitney U (for group B)
    and p with the method in words; Holm-adjusted p within the result's family.
    Inferential fields are None with a ``note`` when they cannot be computed.
    """

    group_a: str
    group_b: str
    n_a: int
    n_b: int
    difference: float
    difference_se: float
    welch_t: float | None
    welch_df: float | None
    welch_p: float | None
    welch_p_holm: float | None
    ci_low: float | None
    ci_high: float | None
    mann_whitney_u: float
    mann_whitney_p: float
    mann_whitney_p_holm: float | None
    mann_whitney_method: str
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclass_dict(self)


@dataclass(frozen=True)
class SubgroupResult:
    """Change compared between subgroups.

    Attributes
    ----------
    confidence : float
        Confidence level of every interval.
    n_patients : int
        Patients in the input.
    excluded : tuple of (patient_id, reason)
        Patients without a change value or without a subgroup.
    groups : tuple of GroupSummary
        One per subgroup, in the comparison order (the first is the reference).
    excluded_groups : tuple of (group, reason)
        Subgroups too small to take part in a contrast.
    reference_group, comparison_group, difference, difference_se, welch_t, welch_df,
    welch_p, diff_ci_low, diff_ci_high, mann_whitney_u, mann_whitney_p,
    mann_whitney_method
        Filled when exactly two subgroups can be compared: difference = mean change
        of ``comparison_group`` − mean change of ``reference_group``; otherwise None.
    pairwise : tuple of PairwiseContrast
        Every pair of comparable subgroups (one row when there are two).
    family : str
        The Holm family, e.g. "3 pairwise Welch contrasts among 3 subgroups".

    Examples
    --------
    Two subgroups of three patients, cross-checked against SciPy:

    >>> from scipy import stats
    >>> adult, pediatric = [3.0, 1.0, 2.5], [-1.0, -2.0, -0.5]
    >>> result = subgroup_contrast(adult + pediatric, ["adult"] * 3 + ["pediatric"] * 3)
    >>> result.comparison_group, result.reference_group, round(result.difference, 3)
    ('pediatric', 'adult', -3.333)
    >>> welch = stats.ttest_ind(pediatric, adult, equal_var=False)
    >>> bool(np.isclose(result.welch_t, welch.statistic))
    True
    >>> bool(np.isclose(result.welch_p, welch.pvalue) and np.isclose(result.welch_df, welch.df))
    True
    >>> mann_whitney = stats.mannwhitneyu(pediatric, adult, method="exact")
    >>> bool(result.mann_whitney_u == mann_whitney.statistic)
    True
    >>> bool(np.isclose(result.mann_whitney_p, mann_whitney.pvalue))
    True
    """

    confidence: float
    n_patients: int
    excluded: tuple[tuple[str, str], ...]
    groups: tuple[GroupSummary, ...]
    excluded_groups: tuple[tuple[str, str], ...]
    reference_group: str | None
    comparison_group: str | None
    difference: float | None
    difference_se: float | None
    welch_t: float | None
    welch_df: float | None
    welch_p: float | None
    diff_ci_low: float | None
    diff_ci_high: float | None
    mann_whitney_u: float | None
    mann_whitney_p: float | None
    mann_whitney_method: str | None
    pairwise: tuple[PairwiseContrast, ...]
    family: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary, unrounded; missing quantities are None."""
        return dataclass_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup (for a forest plot): n, mean change, SD, SE, CI, note."""
        rows = []
        for group in self.groups:  # to_dict's values, the IDs joined without a detour
            row = {}
            for item in fields(group):
                value = getattr(group, item.name)
                row[item.name] = (
                    ", ".join(map(str, value)) if item.name == "patient_ids" else jsonable(value)
                )
            rows.append(row)
        return pd.DataFrame(rows)

    def contrasts_frame(self) -> pd.DataFrame:
        """One row per pairwise contrast, raw and Holm p side by side, family named."""
        frame = pd.DataFrame([contrast.to_dict() for contrast in self.pairwise])
        frame["family"] = self.family
        return frame

    def summary_frame(self) -> pd.DataFrame:
        """The two-group comparison, one row per quantity: ``quantity``, ``label``, ``value``."""
        level = format_level(self.confidence)
        rows = [
            ("reference_group", "Reference subgroup (A)", self.reference_group),
            ("comparison_group", "Comparison subgroup (B)", self.comparison_group),
            ("difference", "Difference in mean change (B − A)", self.difference),
            ("difference_se", "SE of the difference", self.difference_se),
            ("diff_ci_low", f"{level} CI of the difference, lower", self.diff_ci_low),
            ("diff_ci_high", f"{level} CI of the difference, upper", self.diff_ci_high),
            ("welch_t", "Welch t", self.welch_t),
            ("welch_df", "Welch df", self.welch_df),
            ("welch_p", "Welch p, two-sided", self.welch_p),
            ("mann_whitney_u", "Mann–Whitney U (for B)", self.mann_whitney_u),
            ("mann_whitney_p", "Mann–Whitney p, two-sided", self.mann_whitney_p),
            ("mann_whitney_method", "Mann–Whitney method", self.mann_whitney_method),
            ("excluded", "Excluded patients", describe_excluded(self.excluded) or "none"),
            (
                "excluded_groups",
                "Subgroups left out",
                describe_excluded(self.excluded_groups) or "none",
            ),
        ]
        return quantity_frame(rows)

    def sentence(self, lab_name: str, unit: str) -> str:
        """A short plain reading of the two-group difference in change (signed: +/−)."""
        if self.difference is None or self.welch_t is None:
            return (
                f"The change in {lab_name} was not compared between two subgroups ({self.family})."
            )
        u = f" {unit}" if unit else ""

        interval = format_interval(self.diff_ci_low, self.diff_ci_high, digits=3, signed=True)
        return (
            f"Difference in the mean change of {lab_name}, {self.comparison_group} minus "
            f"{self.reference_group}: {format_number(self.difference, digits=3, signed=True)}{u} "
            f"({format_level(self.confidence)} CI {interval}{u}; "
            f"Welch t = {format_number(self.welch_t)}, "
            f"df = {self.welch_df:.1f}, {format_p(self.welch_p, prefix=True)})."
        )


# --------------------------------------------------------------------------------------


def _group_label(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    label = str(value).strip()
    return label or None


def _assign(
    changes: np.ndarray, groups: list[str | None], ids: tuple[str, ...]
) -> tuple[dict[str, list[int]], tuple[tuple[str, str], ...]]:
    members: dict[str, list[int]] = {}
    excluded = []
    for index, (label, change, group) in enumerate(zip(ids, changes, groups, strict=True)):
        if np.isnan(change) and group is None:
            excluded.append((label, "no change value and no subgroup"))
        elif np.isnan(change):
            excluded.append((label, "no change value"))
        elif group is None:
            excluded.append((label, "no subgroup"))
        else:
            members.setdefault(group, []).append(index)
    return members, tuple(excluded)


def _ordered(present: list[str], order: Any) -> list[str]:
    if order is None:
        return sorted(present)
    wanted = [str(label) for label in order]
    unknown = [label for label in wanted if label not in present]
    if unknown:
        raise AnalysisError(f"Subgroup {unknown[0]!r} in the requested order has no patients.")
    return wanted + sorted(label for label in present if label not in wanted)


def _summarise_group(
    group: str, values: np.ndarray, ids: tuple[str, ...], confidence: float
) -> GroupSummary:
    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return GroupSummary(
            group, n, ids, mean, None, None, None, None, "only 1 patient: no SD or CI"
        )
    sd = float(np.std(values, ddof=1))
    se = sd / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return GroupSummary(group, n, ids, mean, sd, se, mean - half, mean + half, None)


def exact_rank_sum_p(doubled_ranks: np.ndarray, n_b: int, doubled_observed: int) -> float:
    """P(|S - E S| >= |s - E S|) for the rank sum S of n_b values, all subsets equally likely."""
    total = int(doubled_ranks.sum())
    counts = np.zeros((n_b + 1, total + 1))
    counts[0, 0] = 1.0
    for rank in doubled_ranks:
        counts[1:, rank:] = counts[1:, rank:] + counts[:-1, : total + 1 - rank]
    size = len(doubled_ranks)
    centre = n_b * (size + 1)  # twice E(S) = n_b (N + 1) / 2
    support = np.arange(total + 1)
    extreme = np.abs(support - centre) >= abs(doubled_observed - centre)
    return float(min(1.0, counts[n_b, extreme].sum() / special.comb(size, n_b, exact=True)))


def _r_note(p: float, a: np.ndarray, b: np.ndarray) -> str:
    """What R's wilcox.test prints, when that is not ``p`` (its digits.rank named)."""
    default, seven = r_rank_sum(a, b), r_rank_sum(a, b, 7)
    if math.isclose(p, default.p, rel_tol=1e-9, abs_tol=1e-15):
        return ""
    if math.isclose(default.p, seven.p, rel_tol=1e-9, abs_tol=1e-15):
        return f"; R's wilcox.test would report p = {default.p:.4g}, from {default.method}"
    return (
        "; R's wilcox.test ranks the raw changes by default (digits.rank = Inf), so changes "
        f"equal only to rounding are not tied there: it reports p = {default.p:.4g}, from "
        f"{default.method}; with digits.rank = 7 it ties them, as this test does: p = {seven.p:.4g}"
    )


def _mann_whitney(a: np.ndarray, b: np.ndarray) -> tuple[float, float, str]:
    pooled = np.concatenate([a, b])
    tolerance = 1e-9 * max(float(np.max(np.abs(pooled))), 1.0)
    doubled, tie_sizes = midranks_and_ties(pooled, tolerance)
    doubled_sum_b = int(doubled[len(a) :].sum())
    u_b = doubled_sum_b / 2.0 - len(b) * (len(b) + 1) / 2.0
    n_tied = len(tie_sizes)
    tied_text = f"{n_tied} group{'s' if n_tied > 1 else ''} of tied changes"
    if n_tied == 0 and len(a) < R_EXACT_BELOW and len(b) < R_EXACT_BELOW:
        result = stats.mannwhitneyu(b, a, method="exact", alternative="two-sided")
        p = float(result.pvalue)
        return float(result.statistic), p, "exact, no tied changes" + _r_note(p, a, b)
    if n_tied and len(pooled) <= MANN_WHITNEY_EXACT_MAX_PATIENTS:
        p = exact_rank_sum_p(doubled, len(b), doubled_sum_b)
        method = (
            "exact conditional distribution of the mid-ranks over all "
            f"{special.comb(len(pooled), len(b), exact=True)} splits ({tied_text})"
        )
        return u_b, p, method + _r_note(p, a, b)
    p = normal_rank_sum_p(u_b, len(a), len(b), tie_sizes)
    if n_tied:
        method = (
            "normal approximation with tie and continuity correction, as R's wilcox.test "
            f"with tied changes ({tied_text}; the exact conditional distribution is used up "
            f"to {MANN_WHITNEY_EXACT_MAX_PATIENTS} patients in the two subgroups)"
        )
    else:
        method = (
            "normal approximation with continuity correction, as R's wilcox.test when a "
            f"subgroup has {R_EXACT_BELOW} or more patients"
        )
    return u_b, p, method + _r_note(p, a, b)


def _welch(a: GroupSummary, b: GroupSummary, confidence: float) -> dict[str, Any]:
    var_a = (a.sd_change or 0.0) ** 2 / a.n
    var_b = (b.sd_change or 0.0) ** 2 / b.n
    se = math.sqrt(var_a + var_b)
    difference = b.mean_change - a.mean_change
    result: dict[str, Any] = {"difference": difference, "difference_se": se}
    if se == 0:
        missing = dict.fromkeys(("welch_t", "welch_df", "welch_p", "ci_low", "ci_high"))
        note = (
            "Welch t not computed: every patient within each subgroup changed by the same amount."
        )
        return {**result, **missing, "note": note}
    df = (var_a + var_b) ** 2 / (var_a**2 / (a.n - 1) + var_b**2 / (b.n - 1))
    t = difference / se
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df)) * se
    return {
        **result,
        "welch_t": t,
        "welch_df": df,
        "welch_p": float(min(1.0, 2.0 * stats.t.sf(abs(t), df))),
        "ci_low": difference - half,
        "ci_high": difference + half,
        "note": None,
    }


def _pairwise(
    a: GroupSummary, b: GroupSummary, values: dict[str, np.ndarray], confidence: float
) -> PairwiseContrast:
    u, p, method = _mann_whitney(values[a.group], values[b.group])
    return PairwiseContrast(
        group_a=a.group,
        group_b=b.group,
        n_a=a.n,
        n_b=b.n,
        **_welch(a, b, confidence),
        welch_p_holm=None,
        mann_whitney_u=u,
        mann_whitney_p=p,
        mann_whitney_p_holm=None,
        mann_whitney_method=method,
    )


def _holm(contrasts: list[PairwiseContrast]) -> tuple[PairwiseContrast, ...]:
    welch = [c.welch_p for c in contrasts if c.welch_p is not None]
    welch_holm = iter(holm_adjust(np.array(welch)).tolist() if welch else [])
    mw_holm = holm_adjust(np.array([c.mann_whitney_p for c in contrasts])).tolist()
    return tuple(
        replace(
            c,
            welch_p_holm=float(next(welch_holm)) if c.welch_p is not None else None,
            mann_whitney_p_holm=float(mw),
        )
        for c, mw in zip(contrasts, mw_holm, strict=True)
    )


def _grouped_changes(
    changes: Any, groups: Any, patient_ids: Any
) -> tuple[tuple[str, ...], np.ndarray, dict[str, list[int]], tuple[tuple[str, str], ...]]:
    """Patient labels, changes as floats, each subgroup's positions, and who is left out."""
    if np.ndim(changes) != 1 or np.ndim(groups) != 1:
        raise AnalysisError("Changes and subgroups must each be a single column.")
    if len(changes) != len(groups):
        raise AnalysisError(
            f"There are {len(changes)} changes but {len(groups)} subgroup labels; they must match."
        )
    ids = patient_labels(patient_ids, len(changes), changes, groups)
    values = float_array(changes, "change", ids)
    labels = [_group_label(g) for g in (groups.tolist() if hasattr(groups, "tolist") else groups)]
    members, excluded = _assign(values, labels, ids)
    return ids, values, members, excluded


def subgroup_contrast(
    changes: Any,
    groups: Any,
    patient_ids: Any = None,
    confidence: float = 0.95,
    *,
    order: Any = None,
) -> SubgroupResult:
    """Compare the change (follow-up − baseline) between subgroups.

    Parameters
    ----------
    changes : 1-D array-like of float
        One change per patient; NaN for missing.
    groups : 1-D array-like
        Subgroup label per patient (None/NaN/blank: no subgroup).
    patient_ids : 1-D array-like, optional
        Patient labels; default the Series index, else 1..n.
    confidence : float
        Confidence level of every interval.
    order : sequence of str, optional
        Subgroup order; the first is the reference (A) and differences are later −
        earlier. Default: alphabetical.

    Returns
    -------
    SubgroupResult

    Raises
    ------
    AnalysisError
        Fewer than two subgroups with at least 2 patients each; values that are not
        numbers; mismatched lengths.

    Notes
    -----
    Missing data: a patient without a change value or without a subgroup is left out
    and listed in ``excluded``; a subgroup of one patient is shown but listed in
    ``excluded_groups`` and takes part in no contrast.

    Per subgroup: mean change, SD, SE and CI :math:`\\bar d \\pm t_{1-a/2, n-1} s/\\sqrt n`.
    Welch: :math:`t = (\\bar d_B - \\bar d_A)/\\sqrt{s_A^2/n_A + s_B^2/n_B}` on
    Welch–Satterthwaite df
    :math:`(v_A + v_B)^2 / (v_A^2/(n_A-1) + v_B^2/(n_B-1))`, :math:`v = s^2/n`
    (as scipy ``ttest_ind(equal_var=False)``). Mann–Whitney: U for group B
    (:math:`R_B - n_B(n_B+1)/2`). Without tied changes and with fewer than 50 patients
    in each subgroup, scipy's exact p (R's ``wilcox.test`` is exact there too). With
    ties, up to :data:`MANN_WHITNEY_EXACT_MAX_PATIENTS` (50) patients in the two
    subgroups together, the exact permutation distribution of the mid-ranks
    (conditional on the ties), two-sided as :math:`P(|S - E S| \\ge |s - E S|)`.
    Otherwise R's normal approximation:
    :math:`z = (|U - n_A n_B/2| - 1/2)/\\sigma` with
    :math:`\\sigma^2 = \\frac{n_A n_B}{12}(N + 1 - \\sum (t^3 - t)/(N(N-1)))`
    (:math:`t` the tie-group sizes), as ``wilcox.test(correct = TRUE)`` and scipy
    ``mannwhitneyu(method="asymptotic")``; the method string says which ran, and what R
    prints when that differs. Changes equal to within 1e-9 of the data's scale count as
    tied: R's default (``digits.rank = Inf``) ranks the raw doubles, so floating-point
    noise is not a tie there; with ``digits.rank = 7`` R ties them as here. With more
    than two subgroups every pair is contrasted and Holm-adjusted within the named
    family; no Welch ANOVA is given.
    """
    confidence = check_level(confidence, "confidence level")
    ids, values, members, excluded = _grouped_changes(changes, groups, patient_ids)
    summaries = [
        _summarise_group(g, values[members[g]], tuple(ids[i] for i in members[g]), confidence)
        for g in _ordered(list(members), order)
    ]
    usable = [s for s in summaries if s.n >= 2]
    excluded_groups = tuple(
        (s.group, "only 1 patient; at least 2 are needed to compare") for s in summaries if s.n < 2
    )
    if len(usable) < 2:
        described = ", ".join(f"{s.group} (n = {s.n})" for s in summaries) or "none"
        raise AnalysisError(
            "Comparing the change between subgroups needs at least two subgroups with 2 or "
            f"more patients each; subgroups found: {described}."
        )
    by_group = {g: values[members[g]] for g in members}
    pairwise = _holm([_pairwise(a, b, by_group, confidence) for a, b in combinations(usable, 2)])
    count = len(pairwise)
    family = (
        f"{count} pairwise Welch contrast{'s' if count > 1 else ''} "
        f"among {len(usable)} subgroups (Holm)"
    )
    two = pairwise[0] if len(usable) == 2 else None
    return SubgroupResult(
        confidence=confidence,
        n_patients=len(ids),
        excluded=excluded,
        groups=tuple(summaries),
        excluded_groups=excluded_groups,
        **{field: getattr(two, name) if two else None for field, name in _TWO_GROUP_FIELDS},
        pairwise=pairwise,
        family=family,
    )
