"""Tests for analytics.stats.subgroups: Welch and Mann–Whitney against scipy, small groups."""

from __future__ import annotations

import itertools
import json
from dataclasses import fields

import numpy as np
import pytest
from scipy import stats

from analytics.errors import AnalysisError
from analytics.stats import subgroups
from analytics.stats.subgroups import (
    MANN_WHITNEY_EXACT_MAX_PATIENTS,
    GroupSummary,
    exact_rank_sum_p,
    subgroup_contrast,
)

# Changes in MCV (fL), retrospective-cohort shape: 5 adults, 5 pediatric.
ADULT = [-3.0, -2.5, -4.0, -1.0, 0.5]
PEDIATRIC = [-2.0, -1.5, -0.5, -2.2, -6.0]


@pytest.fixture(scope="module")
def two_groups():
    return subgroup_contrast(
        ADULT + PEDIATRIC,
        ["adult"] * 5 + ["pediatric"] * 5,
        [f"R{i:02d}" for i in range(1, 11)],
    )


def test_welch_equals_scipy_ttest_ind(two_groups):
    # scipy.stats.ttest_ind(b, a, equal_var=False): difference is pediatric − adult.
    expected = stats.ttest_ind(PEDIATRIC, ADULT, equal_var=False)
    assert two_groups.reference_group == "adult"
    assert two_groups.comparison_group == "pediatric"
    assert two_groups.difference == pytest.approx(np.mean(PEDIATRIC) - np.mean(ADULT))
    assert two_groups.welch_t == pytest.approx(expected.statistic, rel=1e-12)
    assert two_groups.welch_df == pytest.approx(expected.df, rel=1e-12)
    assert two_groups.welch_p == pytest.approx(expected.pvalue, rel=1e-12)
    low, high = expected.confidence_interval(0.95)
    assert two_groups.diff_ci_low == pytest.approx(low, rel=1e-10)
    assert two_groups.diff_ci_high == pytest.approx(high, rel=1e-10)


def test_mann_whitney_without_ties_is_scipy_exact(two_groups):
    expected = stats.mannwhitneyu(PEDIATRIC, ADULT, method="exact")
    assert two_groups.mann_whitney_u == expected.statistic
    assert two_groups.mann_whitney_p == pytest.approx(expected.pvalue, rel=1e-12)
    assert two_groups.mann_whitney_method == "exact, no tied changes"


def test_per_group_rows_with_t_intervals(two_groups):
    adult = two_groups.groups[0]
    assert adult.group == "adult" and adult.n == 5
    assert adult.mean_change == pytest.approx(np.mean(ADULT))
    assert adult.sd_change == pytest.approx(np.std(ADULT, ddof=1))
    low, high = stats.ttest_1samp(ADULT, 0.0).confidence_interval(0.95)
    assert (adult.ci_low, adult.ci_high) == pytest.approx((low, high))
    assert adult.patient_ids == ("R01", "R02", "R03", "R04", "R05")


def test_exact_rank_sum_with_ties_equals_brute_force():
    a = np.array([1.0, 2.0, 2.0, 3.0])
    b = np.array([2.0, 4.0, 5.0])
    pooled = np.concatenate([a, b])
    doubled = (2 * stats.rankdata(pooled)).astype(int)
    observed = int(doubled[len(a) :].sum())
    centre = len(b) * (len(pooled) + 1)
    splits = list(itertools.combinations(range(len(pooled)), len(b)))
    extreme = sum(
        abs(sum(doubled[i] for i in split) - centre) >= abs(observed - centre) for split in splits
    )
    assert exact_rank_sum_p(doubled, len(b), observed) == pytest.approx(extreme / len(splits))
    result = subgroup_contrast(list(a) + list(b), ["A"] * 4 + ["B"] * 3)
    assert result.mann_whitney_p == pytest.approx(extreme / len(splits))
    assert "tied" in result.mann_whitney_method and "35 splits" in result.mann_whitney_method
    # Pooled 1, 2, 2, 2, 3, 4, 5: the three 2s share mid-rank 3. U for B = rank sum of
    # B − n_B(n_B + 1)/2 = (3 + 6 + 7) − 6 = 10.
    assert result.mann_whitney_u == 10


@pytest.mark.parametrize(("n_a", "n_b"), [(3, 4), (5, 5), (2, 6)])
def test_exact_rank_sum_helper_equals_scipy_without_ties(n_a, n_b):
    rng = np.random.default_rng(n_a * 10 + n_b)
    a, b = rng.normal(size=n_a), rng.normal(0.5, size=n_b)
    doubled = (2 * stats.rankdata(np.concatenate([a, b]))).astype(int)
    ours = exact_rank_sum_p(doubled, n_b, int(doubled[n_a:].sum()))
    assert ours == pytest.approx(stats.mannwhitneyu(b, a, method="exact").pvalue, rel=1e-12)


def test_group_of_one_is_listed_not_crashed_on():
    result = subgroup_contrast(
        ADULT + PEDIATRIC + [1.0], ["adult"] * 5 + ["pediatric"] * 5 + ["unknown cause"]
    )
    assert result.excluded_groups == (
        ("unknown cause", "only 1 patient; at least 2 are needed to compare"),
    )
    lone = result.groups[-1]
    assert lone.n == 1 and lone.sd_change is None and lone.ci_low is None
    assert len(result.pairwise) == 1
    assert result.welch_t is not None  # the two real groups are still compared


def test_fewer_than_two_comparable_groups_is_refused():
    with pytest.raises(AnalysisError, match="at least two subgroups"):
        subgroup_contrast([1.0, 2.0, 3.0], ["a", "a", "b"])
    with pytest.raises(AnalysisError, match="at least two subgroups"):
        subgroup_contrast([1.0, 2.0, 3.0], ["a", "a", "a"])


def test_three_groups_give_pairwise_contrasts_with_holm():
    changes = ADULT + PEDIATRIC + [0.5, 1.0, -0.5, 0.0]
    groups = ["adult"] * 5 + ["pediatric"] * 5 + ["teen"] * 4
    result = subgroup_contrast(changes, groups)
    assert [(c.group_a, c.group_b) for c in result.pairwise] == [
        ("adult", "pediatric"),
        ("adult", "teen"),
        ("pediatric", "teen"),
    ]
    assert result.family == "3 pairwise Welch contrasts among 3 subgroups (Holm)"
    for contrast in result.pairwise:
        assert contrast.welch_p_holm >= contrast.welch_p
        assert contrast.mann_whitney_p_holm >= contrast.mann_whitney_p
    assert result.welch_t is None and result.difference is None  # not a two-group result
    assert "not compared between two subgroups" in result.sentence("MCV", "fL")


def test_order_sets_the_reference_group():
    result = subgroup_contrast(
        ADULT + PEDIATRIC, ["adult"] * 5 + ["pediatric"] * 5, order=["pediatric"]
    )
    assert result.reference_group == "pediatric"
    assert result.difference == pytest.approx(np.mean(ADULT) - np.mean(PEDIATRIC))
    with pytest.raises(AnalysisError, match="no patients"):
        subgroup_contrast(ADULT + PEDIATRIC, ["adult"] * 5 + ["pediatric"] * 5, order=["men"])


def test_patients_without_change_or_group_are_excluded_with_reasons():
    result = subgroup_contrast(
        [1.0, np.nan, 2.0, 3.0, 4.0, 0.5, np.nan],
        ["a", "a", None, "a", "b", "b", float("nan")],
        ["P1", "P2", "P3", "P4", "P5", "P6", "P7"],
    )
    assert result.excluded == (
        ("P2", "no change value"),
        ("P3", "no subgroup"),
        ("P7", "no change value and no subgroup"),
    )
    assert [g.n for g in result.groups] == [2, 2]


def test_groups_never_carry_their_own_p_value():
    # Subgroups are compared by the difference in change, never by comparing p-values.
    names = [f.name for f in fields(GroupSummary)]
    assert not [name for name in names if name == "p" or name.startswith("p_") or "pvalue" in name]


def test_identical_changes_within_both_groups_give_no_welch_but_no_crash():
    result = subgroup_contrast([1.0, 1.0, 2.0, 2.0], ["a", "a", "b", "b"])
    assert result.welch_t is None and result.pairwise[0].note
    assert result.difference == 1.0
    assert result.mann_whitney_p is not None


def test_outputs(two_groups):
    json.dumps(two_groups.to_dict(), allow_nan=False)
    assert list(two_groups.to_frame()["group"]) == ["adult", "pediatric"]
    assert two_groups.contrasts_frame().loc[0, "family"] == two_groups.family
    assert "pediatric minus adult" in two_groups.sentence("MCV", "fL")
    assert list(two_groups.summary_frame().columns) == ["quantity", "label", "value"]


# --------------------------------------------------------------------------------------
# Large cohorts (uploads of up to 10,000 patients): exact only up to the cap
# --------------------------------------------------------------------------------------

NORMAL_METHOD = (
    "normal approximation with tie and continuity correction, as R's wilcox.test with tied "
    "changes ("
)
NORMAL_NO_TIES = (
    "normal approximation with continuity correction, as R's wilcox.test when a subgroup "
    "has 50 or more patients"
)


def _tied_groups(n_a: int, n_b: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # Half steps are exact in binary, so scipy sees exactly the same ties.
    rng = np.random.default_rng(seed)
    a = np.round(rng.normal(-0.5, 2, n_a) * 2) / 2
    b = np.round(rng.normal(-0.2, 2, n_b) * 2) / 2
    return a, b


def test_mann_whitney_with_2000_tied_patients_matches_scipy_asymptotic():
    a, b = _tied_groups(1200, 800, seed=3)
    result = subgroup_contrast(np.concatenate([a, b]), ["A"] * 1200 + ["B"] * 800)
    expected = stats.mannwhitneyu(b, a, method="asymptotic", use_continuity=True)
    assert result.mann_whitney_u == expected.statistic
    assert result.mann_whitney_p == pytest.approx(expected.pvalue, abs=1e-6, rel=1e-9)
    assert result.mann_whitney_method.startswith(NORMAL_METHOD)
    assert "groups of tied changes" in result.mann_whitney_method
    assert "R's wilcox.test would" not in result.mann_whitney_method  # it is R's p


def test_mann_whitney_is_exact_up_to_the_cap_then_normal():
    assert MANN_WHITNEY_EXACT_MAX_PATIENTS == 50
    for n_b in (25, 26):  # 50 and 51 patients in all
        a, b = _tied_groups(25, n_b, seed=n_b)
        result = subgroup_contrast(np.concatenate([a, b]), ["A"] * 25 + ["B"] * n_b)
        if n_b == 25:
            assert result.mann_whitney_method.startswith("exact conditional distribution")
        else:
            assert result.mann_whitney_method.startswith(NORMAL_METHOD)
            expected = stats.mannwhitneyu(b, a, method="asymptotic").pvalue
            assert result.mann_whitney_p == pytest.approx(expected, rel=1e-9)
    # Without ties the p is exact while each subgroup has fewer than 50 patients, as in
    # R (60 patients in all here), then R's normal approximation.
    rng = np.random.default_rng(9)
    for n_b in (49, 50):
        a, b = rng.normal(size=30), rng.normal(0.3, size=n_b)
        result = subgroup_contrast(np.concatenate([a, b]), ["A"] * 30 + ["B"] * n_b)
        if n_b == 49:
            assert result.mann_whitney_method == "exact, no tied changes"
            expected = stats.mannwhitneyu(b, a, method="exact").pvalue
        else:
            assert result.mann_whitney_method == NORMAL_NO_TIES
            expected = stats.mannwhitneyu(b, a, method="asymptotic").pvalue
        assert result.mann_whitney_p == pytest.approx(expected, rel=1e-9)


def test_normal_mann_whitney_with_every_change_tied_gives_p_one():
    result = subgroup_contrast([1.5] * 60, ["A"] * 30 + ["B"] * 30)
    assert result.mann_whitney_p == 1.0 and result.mann_whitney_u == 450
    assert result.welch_t is None  # and Welch says why, as before


def test_normal_rank_sum_helper_matches_r_formula():
    # R: wilcox.test(x, y) with ties, correct = TRUE, two-sided, written out by hand.
    a, b = _tied_groups(40, 35, seed=1)
    pooled = np.concatenate([a, b])
    ranks = stats.rankdata(pooled)
    u_b = ranks[40:].sum() - 35 * 36 / 2
    _, ties = np.unique(pooled, return_counts=True)
    n = 75
    sigma = np.sqrt(40 * 35 / 12 * ((n + 1) - np.sum(ties**3 - ties) / (n * (n - 1))))
    z = u_b - 40 * 35 / 2
    z = (z - np.sign(z) * 0.5) / sigma
    expected = 2 * min(stats.norm.cdf(z), stats.norm.sf(z))
    ours = subgroups.normal_rank_sum_p(u_b, 40, 35, ties[ties > 1])
    assert ours == pytest.approx(expected, rel=1e-12)


def test_ten_thousand_patients_in_three_subgroups():
    rng = np.random.default_rng(10)
    changes = np.round(rng.normal(-0.4, 2, 10_000), 1)
    groups = rng.choice(["adult", "pediatric", "teen"], 10_000)
    result = subgroup_contrast(changes, groups)
    assert len(result.pairwise) == 3
    for contrast in result.pairwise:
        assert contrast.mann_whitney_method.startswith(NORMAL_METHOD)
        a = changes[groups == contrast.group_a]
        b = changes[groups == contrast.group_b]
        expected = stats.mannwhitneyu(np.round(b, 9), np.round(a, 9), method="asymptotic")
        assert contrast.mann_whitney_p == pytest.approx(expected.pvalue, abs=1e-6)
