"""Tests for analytics.stats.paired: golden values from R, properties, refusals."""

from __future__ import annotations

import ast
import itertools
import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from analytics.errors import AnalysisError
from analytics.stats import common, paired, robust
from analytics.stats.paired import leave_one_out, paired_change, ratio_paired_t
from analytics.stats.power import mde_dz, n_required

# Student's sleep data, R `datasets::sleep`, patients 1–10.
SLEEP_GROUP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_GROUP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]

FAST = {"n_bootstrap": 199}


@pytest.fixture(scope="module")
def sleep() -> paired.PairedResult:
    # R computes group 1 − group 2; here change = follow-up − baseline, so group 1 is
    # the follow-up and group 2 the baseline to get R's signs.
    return paired_change(SLEEP_GROUP_2, SLEEP_GROUP_1)


# Golden values, all from R 4.x:
#   with(sleep, t.test(extra[group==1], extra[group==2], paired=TRUE))
#     t = -4.0621, df = 9, p-value = 0.002833
#     95 percent confidence interval: -2.4598858 -0.7001142; mean difference -1.58
#   d <- with(sleep, extra[group==1] - extra[group==2]); sd(d) = 1.2299955
#   t.test(..., paired=TRUE, alternative="less")$p.value = 0.0014164
#   mean(d)/sd(d) = -1.2846 (d_z)
#   with(sleep, cor(extra[group==1], extra[group==2])) = 0.79517
#   shapiro.test(d): W = 0.82987, p-value = 0.03334
SLEEP_GOLDEN = [
    ("t", -4.0621, 1e-4),
    ("df", 9, 0),
    ("p_two_sided", 0.002833, 1e-6),
    ("ci_low", -2.4598858, 1e-7),
    ("ci_high", -0.7001142, 1e-7),
    ("mean_change", -1.58, 1e-12),
    ("sd_change", 1.2299955, 1e-7),
    ("p_less", 0.0014164, 1e-7),
    ("cohen_dz", -1.2846, 1e-4),
    ("r", 0.79517, 1e-5),
    ("shapiro_w", 0.82987, 1e-5),
    ("shapiro_p", 0.03334, 1e-5),
]


@pytest.mark.parametrize(("field", "expected", "tolerance"), SLEEP_GOLDEN)
def test_sleep_matches_r(sleep, field, expected, tolerance):
    assert getattr(sleep, field) == pytest.approx(expected, abs=tolerance)


def test_sleep_descriptives_and_derived(sleep):
    # Hand calculation: SE = SD / sqrt(10); group means 0.75 and 2.33.
    assert sleep.n_pairs == 10
    assert sleep.n_excluded == 0
    assert sleep.se_change == pytest.approx(1.2299955 / math.sqrt(10), abs=1e-7)
    assert sleep.follow_up_mean == pytest.approx(0.75)
    assert sleep.baseline_mean == pytest.approx(2.33)
    assert sleep.p_greater == pytest.approx(1 - 0.0014164, abs=1e-7)


def test_sleep_wilcoxon_uses_documented_exact_method(sleep):
    # scipy.stats.wilcoxon(d) (exact on the 9 non-zero differences) = 0.00390625, and
    # our exact conditional distribution gives the same: all 9 non-zero changes are
    # negative, so only 2 of the 2^9 sign patterns are as extreme: 2 / 512.
    assert sleep.wilcoxon_p == pytest.approx(0.00390625, abs=1e-12)
    assert sleep.wilcoxon_statistic == 0  # R: V = 0
    assert "exact" in sleep.wilcoxon_method
    assert "1 zero difference dropped" in sleep.wilcoxon_method
    assert "tied" in sleep.wilcoxon_method
    # The note gives R's normal approximation: wilcox.test(..., paired=TRUE) p = 0.009091.
    assert "p = 0.009091" in sleep.wilcoxon_note


def test_r_normal_approximation_helper_matches_r():
    # R: with(sleep, wilcox.test(extra[group==1], extra[group==2], paired=TRUE))
    #    V = 0, p-value = 0.009091 (9 non-zero differences, one tie of size 2).
    assert robust.r_normal_approx_p(0.0, 9, [2]) == pytest.approx(0.009091, abs=1e-6)


def test_x_y_small_example_matches_r():
    # R: t.test(c(1,2,3), c(4,6,8), paired=TRUE): t = -6.9282, df = 2, p-value = 0.0202,
    #    95 percent CI -6.484138 -1.515862 (x − y). Here follow-up = x, baseline = y.
    result = paired_change([4, 6, 8], [1, 2, 3])
    assert result.t == pytest.approx(-6.9282, abs=1e-4)
    assert result.df == 2
    assert result.p_two_sided == pytest.approx(0.0202, abs=1e-4)
    assert result.ci_low == pytest.approx(-6.484138, abs=1e-6)
    assert result.ci_high == pytest.approx(-1.515862, abs=1e-6)


def test_wilcoxon_without_ties_is_scipy_exact():
    baseline = np.array([80.0, 82, 85, 79, 90, 88, 84])
    follow_up = baseline + np.array([-1.5, -2.25, 0.5, -3.0, -0.75, -4.0, 1.25])
    result = paired_change(baseline, follow_up, **FAST)
    expected = stats.wilcoxon(follow_up - baseline, method="exact").pvalue
    assert result.wilcoxon_p == pytest.approx(expected, rel=1e-12)
    assert result.wilcoxon_method == "exact, no zero or tied differences"
    # W+ = ranks of the rises 0.5 (1) and 1.25 (3) = 4.
    assert result.wilcoxon_statistic == 4


@pytest.mark.parametrize("magnitudes", [[1, 2, 3, 4, 5, 6], [0.3, 1.1, 2.5, 2.6, 7.0]])
def test_exact_signed_rank_helper_equals_scipy_without_ties(magnitudes):
    signs = np.array([1, -1, 1, 1, -1, -1])[: len(magnitudes)]
    changes = np.array(magnitudes) * signs
    doubled = 2 * stats.rankdata(np.abs(changes)).astype(int)
    w_plus = int(doubled[changes > 0].sum())
    ours = robust.exact_signed_rank_p(doubled, w_plus)
    assert ours == pytest.approx(stats.wilcoxon(changes, method="exact").pvalue, rel=1e-12)


def test_exact_signed_rank_with_ties_equals_brute_force():
    changes = np.array([-1.0, -1.0, 2.0, -3.0, -3.0, -3.0, 4.0])
    doubled = (2 * stats.rankdata(np.abs(changes))).astype(int)
    observed = doubled[changes > 0].sum()
    centre = doubled.sum() / 2
    patterns = list(itertools.product([0, 1], repeat=len(changes)))
    extreme = sum(
        abs(sum(r for r, s in zip(doubled, pattern, strict=True) if s) - centre)
        >= abs(observed - centre)
        for pattern in patterns
    )
    assert robust.exact_signed_rank_p(doubled, int(observed)) == pytest.approx(
        extreme / len(patterns)
    )


def test_floating_point_noise_counts_as_a_tie():
    # 3.3 − 2.2 = 1.0999999999999996 and 2.2 − 1.1 = 1.1 are the same change.
    result = paired_change([1.1, 2.2, 5.0, 7.0], [2.2, 3.3, 4.0, 10.0], **FAST)
    assert "tied" in result.wilcoxon_method


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

values = st.floats(min_value=-50, max_value=150, allow_nan=False).map(lambda v: round(v, 1))


@st.composite
def paired_samples(draw, min_size=2, max_size=12):
    n = draw(st.integers(min_size, max_size))
    baseline = draw(st.lists(values, min_size=n, max_size=n))
    follow_up = draw(st.lists(values, min_size=n, max_size=n))
    changes = np.array(follow_up) - np.array(baseline)
    if np.ptp(changes) < 0.05:  # identical changes are refused; tested separately
        follow_up[0] += 1.0
    return baseline, follow_up


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(paired_samples())
def test_swapping_times_negates_t_and_change_and_keeps_p(sample):
    baseline, follow_up = sample
    forward = paired_change(baseline, follow_up, **FAST)
    backward = paired_change(follow_up, baseline, **FAST)
    assert backward.t == pytest.approx(-forward.t, rel=1e-9, abs=1e-12)
    assert backward.mean_change == pytest.approx(-forward.mean_change, rel=1e-9, abs=1e-12)
    assert backward.p_two_sided == pytest.approx(forward.p_two_sided, rel=1e-9)
    assert backward.p_less == pytest.approx(forward.p_greater, rel=1e-9, abs=1e-15)
    assert backward.cohen_dz == pytest.approx(-forward.cohen_dz, rel=1e-9, abs=1e-12)
    assert backward.wilcoxon_p == pytest.approx(forward.wilcoxon_p, rel=1e-9)
    assert backward.sign_flip_p == pytest.approx(forward.sign_flip_p, rel=1e-9)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(paired_samples(), st.sampled_from([-40.0, 0.5, 3.0, 100.0]))
def test_adding_a_constant_to_both_times_changes_nothing(sample, constant):
    baseline, follow_up = sample
    before = paired_change(baseline, follow_up, **FAST)
    after = paired_change(np.array(baseline) + constant, np.array(follow_up) + constant, **FAST)
    for field in ("mean_change", "sd_change", "t", "p_two_sided", "cohen_dz", "wilcoxon_p"):
        assert getattr(after, field) == pytest.approx(getattr(before, field), rel=1e-6, abs=1e-9)
    assert after.baseline_mean == pytest.approx(before.baseline_mean + constant)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(paired_samples())
def test_one_sided_p_values_sum_to_one(sample):
    result = paired_change(*sample, **FAST)
    assert result.p_less + result.p_greater == pytest.approx(1.0, abs=1e-12)
    assert result.p_two_sided == pytest.approx(2 * min(result.p_less, result.p_greater))
    assert result.dz_ci_low <= result.cohen_dz <= result.dz_ci_high


def test_one_sided_p_opposite_to_the_effect_is_near_one(sleep):
    # The sleep change is a fall: the "rise" one-sided p must be ~1, not ~0.
    assert sleep.p_greater > 0.99
    assert sleep.p_less < 0.01


def test_two_pairs_work_with_one_df():
    result = paired_change([1.0, 2.0], [2.0, 5.0], **FAST)
    assert result.df == 1
    # Hand: changes 1 and 3, mean 2, SD sqrt(2), SE 1, t = 2 on 1 df.
    assert result.t == pytest.approx(2.0)
    assert result.p_two_sided == pytest.approx(2 * stats.t.sf(2.0, 1))
    assert result.shapiro_w is None and result.shapiro_p is None
    assert result.bootstrap_ci_low is None and "Not computed" in result.bootstrap_note
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("baseline", "follow_up"),
    [
        ([10.0, 11.0, 12.0], [12.0, 13.0, 14.0]),  # all +2
        ([1.1, 2.2, 4.4], [2.2, 3.3, 5.5]),  # all +1.1 up to floating-point noise
        ([5.0, 6.0, 7.0], [5.0, 6.0, 7.0]),  # no change at all
    ],
)
def test_identical_changes_are_refused_with_a_message(baseline, follow_up):
    with pytest.raises(AnalysisError, match="SD of change is 0"):
        paired_change(baseline, follow_up)


def test_fewer_than_two_pairs_is_refused_naming_the_dropped():
    with pytest.raises(AnalysisError, match=r"Only 1 patient.*R02 \(no follow-up value\)"):
        paired_change([1.0, 2.0, np.nan], [2.0, np.nan, 3.0], ["R01", "R02", "R03"])
    with pytest.raises(AnalysisError, match="No patient"):
        paired_change([np.nan], [np.nan])


def test_missing_values_are_excluded_and_listed():
    result = paired_change(
        [80.0, np.nan, 84.0, 90.0, None, 85.0],
        [78.0, 81.0, np.nan, 87.0, None, 84.5],
        ["R01", "R02", "R03", "R04", "R05", "R06"],
        **FAST,
    )
    assert result.n_pairs == 3
    assert result.patient_ids == ("R01", "R04", "R06")
    assert result.excluded == (
        ("R02", "no baseline value"),
        ("R03", "no follow-up value"),
        ("R05", "no baseline or follow-up value"),
    )
    assert "3 patients excluded" in result.sentence("MCV", "fL")


@pytest.mark.parametrize(("n", "has_note"), [(2, True), (5, True), (6, False)])
def test_wilcoxon_note_when_p_below_alpha_is_impossible(n, has_note):
    baseline = np.arange(n, dtype=float) * 3
    follow_up = baseline - (np.arange(n) + 1.0)  # distinct falls, no ties
    result = paired_change(baseline, follow_up, **FAST)
    if has_note:
        smallest = 2.0 ** (1 - n)
        assert f"smallest possible two-sided p is {smallest:g}" in result.wilcoxon_note
        assert "cannot be reached" in result.wilcoxon_note
    else:
        assert result.wilcoxon_note is None


def test_wilcoxon_note_at_five_pairs_has_the_documented_wording():
    result = paired_change([84, 86, 80, 90, 85], [82, 85, 77, 86, 80], **FAST)
    assert result.wilcoxon_note == (
        "With 5 pairs the smallest possible two-sided p is 0.0625, so p < 0.05 cannot be reached."
    )


# --------------------------------------------------------------------------------------
# Sign flip, bootstrap, d_z interval, power fields
# --------------------------------------------------------------------------------------


def test_exact_sign_flip_equals_brute_force():
    changes = np.array([-2.0, -1.5, 0.5, -3.0, -0.25, 1.0, -2.5, -1.0])
    observed = abs(changes.sum())
    sums = [
        abs(np.dot(signs, np.abs(changes)))
        for signs in itertools.product([-1, 1], repeat=len(changes))
    ]
    expected = np.mean(np.array(sums) >= observed - 1e-12)
    p, method = robust.sign_flip(changes, 1000, 1)
    assert p == pytest.approx(expected, abs=1e-15)
    assert method == "exact, all 256 sign patterns"


def test_sleep_sign_flip_is_exact(sleep):
    # Only the all-same-sign patterns (x2 for the zero change) reach |sum| = 15.8: 4/1024.
    assert sleep.sign_flip_p == pytest.approx(4 / 1024)
    assert sleep.sign_flip_method == "exact, all 1,024 sign patterns"


def test_monte_carlo_sign_flip_is_seeded_and_close_to_exact(monkeypatch):
    changes = np.array([-2.0, -1.5, 0.5, -3.0, -0.25, 1.0, -2.5, -1.0])
    exact, _ = robust.sign_flip(changes, 1, 1)
    monkeypatch.setattr(robust, "EXACT_SIGN_FLIP_MAX_PAIRS", 5)
    first, method = robust.sign_flip(changes, 20_000, 7)
    again, _ = robust.sign_flip(changes, 20_000, 7)
    assert first == again
    assert method == "Monte Carlo, 20000 permutations, seed 7"
    assert first == pytest.approx(exact, abs=0.01)


def test_bootstrap_is_seeded_and_brackets_the_mean(sleep):
    again = paired_change(SLEEP_GROUP_2, SLEEP_GROUP_1)
    assert (again.bootstrap_ci_low, again.bootstrap_ci_high) == (
        sleep.bootstrap_ci_low,
        sleep.bootstrap_ci_high,
    )
    assert sleep.bootstrap_ci_low < sleep.mean_change < sleep.bootstrap_ci_high
    assert "BCa" in sleep.bootstrap_note and "seed 20130601" in sleep.bootstrap_note


def test_dz_interval_inverts_the_noncentral_t(sleep):
    # By construction the limits are the noncentrality parameters (divided by sqrt n)
    # that put the observed t at the 97.5th and 2.5th percentiles.
    n = sleep.n_pairs
    upper_tail = special.nctdtr(n - 1, sleep.dz_ci_low * math.sqrt(n), sleep.t)
    lower_tail = special.nctdtr(n - 1, sleep.dz_ci_high * math.sqrt(n), sleep.t)
    assert upper_tail == pytest.approx(0.975, abs=1e-9)
    assert lower_tail == pytest.approx(0.025, abs=1e-9)


def test_dz_interval_approaches_large_sample_formula_for_many_pairs():
    rng = np.random.default_rng(3)
    baseline = rng.normal(80, 5, 400)
    follow_up = baseline + rng.normal(-1, 2, 400)
    result = paired_change(baseline, follow_up, n_bootstrap=99, n_permutations=2000)
    d, n = result.cohen_dz, result.n_pairs
    half = 1.959964 * math.sqrt(1 / n + d**2 / (2 * n))  # standard large-sample SE of d_z
    assert result.dz_ci_low == pytest.approx(d - half, abs=0.01)
    assert result.dz_ci_high == pytest.approx(d + half, abs=0.01)
    assert result.sign_flip_method.startswith("Monte Carlo, 2000 permutations")


def test_power_fields_come_from_power_module(sleep):
    assert sleep.mde_dz_80 == pytest.approx(mde_dz(10, 0.8, 0.05))
    assert sleep.mde_dz_80 == pytest.approx(0.996, abs=5e-4)  # statistics.md reference
    assert sleep.n_for_80_power == n_required(abs(sleep.cohen_dz), 0.8, 0.05)


# --------------------------------------------------------------------------------------
# Ratio paired t, leave-one-out
# --------------------------------------------------------------------------------------

HEPCIDIN_BASELINE = [49.0, 70.0, 25.0, 60.0, 41.5]
HEPCIDIN_MONTH_2 = [20.0, 25.0, 17.0, 24.0, 19.5]


def test_ratio_paired_t_is_a_paired_t_on_logs():
    result = ratio_paired_t(HEPCIDIN_BASELINE, HEPCIDIN_MONTH_2)
    logs = stats.ttest_rel(np.log(HEPCIDIN_MONTH_2), np.log(HEPCIDIN_BASELINE))
    assert result.t == pytest.approx(logs.statistic, rel=1e-12)
    assert result.p_two_sided == pytest.approx(logs.pvalue, rel=1e-12)
    low, high = logs.confidence_interval(0.95)
    assert result.ratio_ci_low == pytest.approx(math.exp(low), rel=1e-12)
    assert result.ratio_ci_high == pytest.approx(math.exp(high), rel=1e-12)
    geometric = stats.gmean(HEPCIDIN_MONTH_2) / stats.gmean(HEPCIDIN_BASELINE)
    assert result.ratio == pytest.approx(geometric, rel=1e-12)
    assert result.percent_change == pytest.approx((geometric - 1) * 100)
    assert "geometric mean ratio" in result.sentence("Hepcidin")
    labels = dict(zip(result.to_frame()["quantity"], result.to_frame()["label"], strict=True))
    # worded as the paired t-test's one-sided p-values are
    assert labels["p_less"] == "p, one-sided for a fall (follow-up lower)"
    assert labels["p_greater"] == "p, one-sided for a rise (follow-up higher)"


def test_ratio_paired_t_refuses_non_positive_values_naming_the_patient():
    with pytest.raises(AnalysisError, match="Patient P3 has a follow-up value of 0"):
        ratio_paired_t([5.0, 6.0, 7.0], [4.0, 5.0, 0.0], ["P1", "P2", "P3"])


def test_log_scale_available_attaches_the_ratio_test():
    result = paired_change(HEPCIDIN_BASELINE, HEPCIDIN_MONTH_2, log_scale_available=True, **FAST)
    assert result.ratio is not None
    assert result.ratio.t == ratio_paired_t(HEPCIDIN_BASELINE, HEPCIDIN_MONTH_2).t
    refused = paired_change([1.0, 0.0, 3.0], [2.0, 1.0, 5.0], log_scale_available=True, **FAST)
    assert refused.ratio is None and "above zero" in refused.ratio_note
    assert paired_change([1.0, 2.0, 3.0], [2.0, 1.0, 5.0], **FAST).ratio_note is None


def test_leave_one_out_flags_influential_patient():
    # Without P5 the mean change is +0.25 (a rise), with P5 it is a fall.
    baseline = [80.0, 81.0, 82.0, 83.0, 84.0]
    follow_up = [80.5, 80.9, 82.2, 83.4, 74.0]
    result = paired_change(baseline, follow_up, ["P1", "P2", "P3", "P4", "P5"], **FAST)
    table = leave_one_out(result)
    assert list(table.columns[:6]) == [
        "patient_id",
        "n_pairs",
        "mean_change",
        "p_two_sided",
        "sign_flips",
        "crosses_alpha",
    ]
    row = table.set_index("patient_id").loc["P5"]
    assert row["sign_flips"]
    assert row["mean_change"] == pytest.approx((0.5 - 0.1 + 0.2 + 0.4) / 4)
    assert not table.set_index("patient_id").loc["P1", "sign_flips"]
    assert table.equals(leave_one_out((baseline, follow_up, ["P1", "P2", "P3", "P4", "P5"])))


def test_leave_one_out_crosses_alpha():
    # All falls are similar except P6, whose removal makes the rest nearly identical:
    # the p moves from above 0.05 to below it.
    baseline = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    follow_up = [9.0, 9.1, 8.9, 9.05, 8.95, 13.0]
    result = paired_change(baseline, follow_up, **FAST)
    assert result.p_two_sided > 0.05
    table = leave_one_out(result, alpha=0.05)
    assert bool(table.loc[5, "crosses_alpha"])
    assert not table.loc[0, "crosses_alpha"]


def test_leave_one_out_with_two_pairs_has_no_p():
    table = leave_one_out(paired_change([1.0, 2.0], [2.0, 5.0], **FAST))
    assert table["p_two_sided"].isna().all()
    assert (table["note"] == "only 1 pair remains: no p-value").all()
    assert not table["crosses_alpha"].any()


# --------------------------------------------------------------------------------------
# Output objects and input checks
# --------------------------------------------------------------------------------------


# The field names the brief fixes (the CLI dumps them).
PAIRED_FIELDS = (
    "n_pairs",
    "n_excluded",
    "excluded",
    "baseline_mean",
    "baseline_sd",
    "baseline_se",
    "follow_up_mean",
    "follow_up_sd",
    "follow_up_se",
    "mean_change",
    "sd_change",
    "se_change",
    "confidence",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_two_sided",
    "p_less",
    "p_greater",
    "r",
    "cohen_dz",
    "dz_ci_low",
    "dz_ci_high",
    "wilcoxon_statistic",
    "wilcoxon_p",
    "wilcoxon_method",
    "wilcoxon_note",
    "shapiro_w",
    "shapiro_p",
    "sign_flip_p",
    "sign_flip_method",
    "bootstrap_ci_low",
    "bootstrap_ci_high",
    "mde_dz_80",
    "n_for_80_power",
    "alpha",
    "baseline_values",
    "follow_up_values",
    "patient_ids",
)


def test_to_dict_is_json_ready_and_unrounded(sleep):
    data = sleep.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["p_two_sided"] == sleep.p_two_sided
    for name in PAIRED_FIELDS:
        assert name in data, name
    assert isinstance(data["df"], int) and isinstance(data["t"], float)
    assert data["patient_ids"] == [str(i) for i in range(1, 11)]


def test_to_frame_has_a_label_per_quantity(sleep):
    frame = sleep.to_frame()
    assert list(frame.columns) == ["quantity", "label", "value"]
    assert frame["label"].str.len().gt(0).all()
    assert frame.set_index("quantity").loc["t", "value"] == sleep.t
    assert frame.set_index("quantity").loc["ci_low", "label"].startswith("95 % CI")


def test_sentence_reads_the_direction_in_words(sleep):
    assert sleep.sentence("Extra sleep", "h") == (
        "Extra sleep fell by 1.58 h on average (95 % CI 0.700 to 2.46 h fall; "
        "paired t = −4.06, df = 9, p = 0.00283)."
    )
    rise = paired_change([1.0, 2.0, 3.0, 4.0], [1.5, 1.0, 4.0, 4.5], **FAST)
    assert "rose by" in rise.sentence("Hgb", "g/dL")
    assert "fall to" in rise.sentence("Hgb", "g/dL")  # the CI includes zero


def test_patient_ids_default_to_series_index_and_must_match():
    baseline = pd.Series([80.0, 82.0, 84.0], index=["A", "B", "C"])
    follow_up = pd.Series([79.0, 80.0, 84.5], index=["A", "B", "C"])
    assert paired_change(baseline, follow_up, **FAST).patient_ids == ("A", "B", "C")
    with pytest.raises(AnalysisError, match="different patients"):
        paired_change(baseline, follow_up.set_axis(["A", "C", "B"]))


@pytest.mark.parametrize(
    ("baseline", "follow_up", "ids", "message"),
    [
        ([1.0, "<5", 3.0], [1.0, 2.0, 4.0], ["a", "b", "c"], "'<5' for patient b is not a number"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], None, "2 baseline values but 3 follow-up"),
        ([1.0, 2.0, 3.0], [2.0, 4.0, 1.0], ["a", "a", "b"], "Patient a appears more than once"),
        ([1.0, np.inf, 3.0], [2.0, 4.0, 1.0], None, "infinite"),
    ],
)
def test_unusable_input_is_refused_with_a_message(baseline, follow_up, ids, message):
    with pytest.raises(AnalysisError, match=message):
        paired_change(baseline, follow_up, ids)


@pytest.mark.parametrize(
    "options",
    [{"alpha": 0.0}, {"alpha": 1.5}, {"confidence": 1.0}, {"n_permutations": 0}],
)
def test_bad_options_are_refused(options):
    with pytest.raises(AnalysisError):
        paired_change([1.0, 2.0, 3.0], [2.0, 4.0, 1.0], **options)


@pytest.mark.parametrize("module", ["paired", "power", "timecourse", "subgroups", "prevalence"])
def test_statistics_modules_do_not_import_streamlit(module):
    source = (
        Path(__file__).resolve().parents[1] / "analytics" / "stats" / f"{module}.py"
    ).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "streamlit" not in imported
    assert imported <= {
        "__future__",
        "analytics",
        "collections",
        "dataclasses",
        "itertools",
        "math",
        "numpy",
        "pandas",
        "scipy",
        "statsmodels",
        "typing",
        "warnings",
    }


# --------------------------------------------------------------------------------------
# Large cohorts (uploads of up to 10,000 patients): size caps, speed and memory
# --------------------------------------------------------------------------------------


def _tied_cohort(n: int, seed: int, step: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Integer baselines and changes on a grid of ``step``: many ties and zeros."""
    rng = np.random.default_rng(seed)
    baseline = rng.integers(60, 100, n).astype(float)
    changes = np.round(rng.normal(-0.1, 1.5, n) / step) * step
    return baseline, baseline + changes


def test_wilcoxon_with_3000_tied_pairs_uses_r_normal_approximation():
    # Quarter steps are exact in binary, so scipy sees exactly the same ties and zeros.
    baseline, follow_up = _tied_cohort(3000, seed=11)
    changes = follow_up - baseline
    assert (changes == 0).sum() > 100 and len(np.unique(np.abs(changes))) < 30
    result = paired_change(baseline, follow_up, n_bootstrap=199)
    assert result.wilcoxon_method.startswith(
        "normal approximation with tie and continuity correction (R's method; exact only "
        "up to 50 non-zero differences)"
    )
    assert "zero differences dropped" in result.wilcoxon_method
    assert result.wilcoxon_note is None  # the p already is R's
    expected = stats.wilcoxon(changes, method="approx", correction=True).pvalue
    assert abs(result.wilcoxon_p - expected) < 0.02  # the brief's bound ...
    assert result.wilcoxon_p == pytest.approx(expected, rel=1e-9)  # ... and in fact equal
    # W+ = sum of the mid-ranks of the rises among the non-zero changes.
    nonzero = changes[changes != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    assert result.wilcoxon_statistic == pytest.approx(ranks[nonzero > 0].sum())
    # The other pieces are bounded too, and say so.
    assert "reduced from 100000" in result.sign_flip_method
    assert result.bootstrap_note.startswith("BCa bootstrap, 199 resamples")
    assert result.bootstrap_ci_low < result.mean_change < result.bootstrap_ci_high


def test_wilcoxon_on_data_rounded_to_a_tenth_counts_noisy_ties():
    # Rounded to 0.1, follow-up − baseline carries floating-point noise (e.g. 3.3 − 2.2);
    # the tolerance still ties such changes, as scipy does once the noise is rounded off.
    rng = np.random.default_rng(5)
    baseline = np.round(rng.normal(80, 6, 400), 1)
    follow_up = np.round(baseline + rng.normal(-0.3, 2, 400), 1)
    result = paired_change(baseline, follow_up, n_bootstrap=99, n_permutations=999)
    clean = np.round(follow_up - baseline, 9)
    expected = stats.wilcoxon(clean, method="approx", correction=True).pvalue
    assert result.wilcoxon_p == pytest.approx(expected, rel=1e-9)


def test_wilcoxon_exact_up_to_the_cap_then_normal():
    cap = paired.WILCOXON_EXACT_MAX_PAIRS
    assert cap == 50
    rng = np.random.default_rng(2)
    for m in (cap, cap + 1):
        # Distinct changes: scipy's exact null up to the cap.
        changes = rng.permutation(np.arange(1, m + 1)) * rng.choice([-1.0, 1.0], m)
        result = paired_change(np.zeros(m), changes, **FAST)
        if m <= cap:
            assert result.wilcoxon_method == "exact, no zero or tied differences"
            expected = stats.wilcoxon(changes, method="exact").pvalue
        else:
            assert result.wilcoxon_method == (
                "normal approximation with tie and continuity correction (R's method; "
                "exact only up to 50 pairs)"
            )
            expected = stats.wilcoxon(changes, method="approx", correction=True).pvalue
        assert result.wilcoxon_p == pytest.approx(expected, rel=1e-9)
        # m non-zero changes with ties, plus two zeros (dropped before counting to m):
        # the exact mid-rank distribution up to the cap, then the normal approximation.
        tied = np.append(np.sign(changes) * np.ceil(np.abs(changes) / 4), [0.0, 0.0])
        result = paired_change(np.zeros(m + 2), tied, **FAST)
        assert "2 zero differences dropped" in result.wilcoxon_method
        if m <= cap:
            assert result.wilcoxon_method.startswith("exact conditional distribution")
        else:
            assert result.wilcoxon_method.startswith(
                "normal approximation with tie and continuity correction (R's method; "
                "exact only up to 50 non-zero differences); "
            )
            expected = stats.wilcoxon(tied, method="approx", correction=True).pvalue
            assert result.wilcoxon_p == pytest.approx(expected, rel=1e-9)
            assert result.wilcoxon_note is None


def test_exact_signed_rank_helper_does_not_overflow():
    # 1,100 equal ranks: W+ / rank is Binomial(1100, 1/2); 2**1100 counts would overflow.
    doubled = np.full(1100, 2)
    assert robust.exact_signed_rank_p(doubled, 1100) == pytest.approx(1.0)
    expected = 2 * stats.binom.cdf(500, 1100, 0.5)
    assert robust.exact_signed_rank_p(doubled, 1000) == pytest.approx(expected, rel=1e-9)


def test_tie_helpers_agree_with_rankdata():
    rng = np.random.default_rng(4)
    values = np.round(rng.normal(0, 2, 500), 1)
    doubled, sizes = common.midranks_and_ties(values, 1e-9)
    assert np.array_equal(doubled, (2 * stats.rankdata(values)).astype(int))
    _, counts = np.unique(values, return_counts=True)
    assert sorted(sizes.tolist()) == sorted(counts[counts > 1].tolist())
    groups = common.tie_groups(values, 1e-9)
    assert np.array_equal(common.doubled_midranks(groups, len(values)), doubled)


def test_monte_carlo_sign_flip_is_bounded_and_chunking_does_not_change_it(monkeypatch):
    rng = np.random.default_rng(8)
    changes = np.round(rng.normal(-0.05, 2, 10_000), 1)
    tracemalloc.start()
    try:
        p, method = robust.sign_flip(changes, 100_000, 3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6  # one chunk of signs, not 10,000 × 10,000
    assert method == (
        "Monte Carlo, 5000 permutations, seed 3 (reduced from 100000 to keep "
        "permutations × pairs within 50,000,000 random signs)"
    )
    assert 1 / 5001 <= p <= 1
    # Below the budget nothing is reduced, and the chunk size does not change the draws.
    small = changes[:40]
    full, method = robust.sign_flip(small, 3000, 9)
    assert method == "Monte Carlo, 3000 permutations, seed 9"
    monkeypatch.setattr(robust, "CHUNK_ELEMENTS", 7 * 40)
    assert robust.sign_flip(small, 3000, 9)[0] == full


def test_bootstrap_in_batches_is_unchanged_and_percentile_above_cap(monkeypatch, sleep):
    monkeypatch.setattr(robust, "CHUNK_ELEMENTS", 30)  # batches of 3 resamples
    changes = np.array(SLEEP_GROUP_1) - np.array(SLEEP_GROUP_2)
    low, high, note = robust.bootstrap_bca(changes, 0.95, 9_999, 20130601)
    assert (low, high) == (sleep.bootstrap_ci_low, sleep.bootstrap_ci_high)
    assert note == sleep.bootstrap_note
    monkeypatch.setattr(robust, "BOOTSTRAP_BCA_MAX_PAIRS", 5)
    low, high, note = robust.bootstrap_bca(changes, 0.95, 999, 1)
    assert note.startswith("Percentile bootstrap (not BCa")
    expected = stats.bootstrap(
        (changes,), np.mean, n_resamples=999, method="percentile", rng=np.random.default_rng(1)
    ).confidence_interval
    assert (low, high) == pytest.approx((expected.low, expected.high), rel=1e-12)


def test_dz_interval_inverts_the_noncentral_t_at_10000_pairs():
    n = 10_000
    for t in (0.5, -3.0, 150.0):
        low, high = paired.dz_interval(t, n, 0.95)
        assert special.nctdtr(n - 1, low * math.sqrt(n), t) == pytest.approx(0.975, abs=1e-9)
        assert special.nctdtr(n - 1, high * math.sqrt(n), t) == pytest.approx(0.025, abs=1e-9)


def _leave_one_out_by_hand(changes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means, p_values = [], []
    for index in range(len(changes)):
        rest = np.delete(changes, index)
        means.append(rest.mean())
        p_values.append(stats.ttest_1samp(rest, 0.0).pvalue if np.ptp(rest) > 0 else np.nan)
    return np.array(means), np.array(p_values)


@pytest.mark.parametrize(
    "changes",
    [
        np.round(np.random.default_rng(6).normal(-0.5, 2, 60), 1),
        np.array([1.0, 1.0, 1.0, 1.001, 1e6]),  # one patient is nearly all of the SD
        np.array([2.2, -1.1, -1.1, 0.3]),  # without the last, the mean is exactly 0
    ],
)
def test_vectorised_leave_one_out_equals_refitting_each_time(changes):
    baseline = np.zeros(len(changes))  # so follow-up − baseline is exactly ``changes``
    table = leave_one_out((baseline, baseline + changes))
    means, p_values = _leave_one_out_by_hand(changes)
    assert table["mean_change"].to_numpy() == pytest.approx(means, rel=1e-9, abs=1e-12)
    assert table["p_two_sided"].to_numpy() == pytest.approx(p_values, rel=1e-7, nan_ok=True)
    full_mean = np.mean(changes)
    assert table["sign_flips"].tolist() == [bool(np.sign(m) != np.sign(full_mean)) for m in means]


def test_leave_one_out_of_10000_pairs():
    baseline, follow_up = _tied_cohort(10_000, seed=12, step=0.1)
    table = leave_one_out((baseline, follow_up))
    assert len(table) == 10_000 and (table["n_pairs"] == 9_999).all()
    changes = follow_up - baseline
    for index in range(3):  # spot check against a refit
        rest = np.delete(changes, index)
        assert table.loc[index, "mean_change"] == pytest.approx(rest.mean(), rel=1e-9)
        expected = stats.ttest_1samp(rest, 0.0).pvalue
        assert table.loc[index, "p_two_sided"] == pytest.approx(expected, rel=1e-6)
