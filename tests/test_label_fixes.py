"""Regression tests for labels that did not say what R does or what was left out.

Each test is named after the problem it pins: Mann–Whitney labelled as R's method where
R is exact, Wilcoxon notes silent on R's ``digits.rank``, patients dropped by the time
course without a word, a censored value of two left unnamed, subgroup names
re-capitalised.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from analytics import load_cohort
from analytics.analysis import paired_for, select, split_groups, subgroups_for, timecourse_for
from analytics.cli import main
from analytics.settings import AnalysisSettings
from analytics.stats.characteristics import characteristics
from analytics.stats.paired import paired_change
from analytics.stats.r_ranks import r_rank_sum, r_signed_rank, signif
from analytics.stats.subgroups import subgroup_contrast

# ------------------------------------------------------------------ Mann–Whitney

# R 4.2: set.seed(1); a <- round(rnorm(30), 4); b <- round(rnorm(30, 0.1), 4)
GROUP_A = [
    -0.6265, 0.1836, -0.8356, 1.5953, 0.3295, -0.8205, 0.4874, 0.7383, 0.5758, -0.3054,
    1.5118, 0.3898, -0.6212, -2.2147, 1.1249, -0.0449, -0.0162, 0.9438, 0.8212, 0.5939,
    0.9190, 0.7821, 0.0746, -1.9894, 0.6198, -0.0561, -0.1558, -1.4708, -0.4782, 0.4179,
]  # fmt: skip
GROUP_B = [
    1.4587, -0.0028, 0.4877, 0.0462, -1.2771, -0.3150, -0.2943, 0.0407, 1.2000, 0.8632,
    -0.0645, -0.1534, 0.7970, 0.6567, -0.5888, -0.6075, 0.4646, 0.8685, -0.0123, 0.9811,
    0.4981, -0.5120, 0.4411, -1.0294, 1.5330, 2.0804, -0.2672, -0.9441, 0.6697, -0.0351,
]  # fmt: skip


def test_mann_whitney_on_60_patients_without_ties_is_exact_as_in_r():
    # R: wilcox.test(b, a) -> W = 474, p-value = 0.7301619642 (exact: 30 and 30 < 50,
    # no ties); with exact = FALSE it would be 0.728265296.
    result = subgroup_contrast(GROUP_A + GROUP_B, ["A"] * 30 + ["B"] * 30)
    assert result.mann_whitney_u == 474
    assert result.mann_whitney_p == pytest.approx(0.7301619642, rel=1e-9)
    assert result.mann_whitney_method == "exact, no tied changes"


def test_mann_whitney_with_ties_names_the_p_r_would_print():
    # R: wilcox.test(c(2, 3, 4.5, 3, 5), c(1.5, 2, 2, 3.5, 1, 0.5)) -> W = 26,
    # p-value = 0.05247797897 (normal approximation with continuity correction: ties).
    a, b = [1.5, 2.0, 2.0, 3.5, 1.0, 0.5], [2.0, 3.0, 4.5, 3.0, 5.0]
    result = subgroup_contrast(a + b, ["A"] * 6 + ["B"] * 5)
    assert result.mann_whitney_u == 26
    assert result.mann_whitney_method.startswith("exact conditional distribution")
    assert "R's wilcox.test would report p = 0.05248" in result.mann_whitney_method
    assert r_rank_sum(np.array(a), np.array(b)).p == pytest.approx(0.05247797897, rel=1e-9)


def test_mann_whitney_on_noisy_changes_names_both_digits_rank_settings():
    # Changes of values recorded to 0.1 carry floating-point noise. R 4.2:
    #   ca <- c(11.2, 9.8, 13.1, 12, 9.6, 10) - c(10.9, 9.5, 12, 11.1, 8.7, 10.2)
    #   cb <- c(10.6, 12.9, 11, 13, 9.9, 11) - c(9.9, 11.5, 10.4, 12.3, 9.1, 10.8)
    #   wilcox.test(cb, ca)$p.value                   0.9359624729
    #   wilcox.test(cb, ca, digits.rank = 7)$p.value  0.9358496759
    ca = np.array([11.2, 9.8, 13.1, 12, 9.6, 10]) - np.array([10.9, 9.5, 12, 11.1, 8.7, 10.2])
    cb = np.array([10.6, 12.9, 11, 13, 9.9, 11]) - np.array([9.9, 11.5, 10.4, 12.3, 9.1, 10.8])
    assert r_rank_sum(ca, cb).p == pytest.approx(0.9359624729, rel=1e-9)
    assert r_rank_sum(ca, cb, 7).p == pytest.approx(0.9358496759, rel=1e-9)
    method = subgroup_contrast([*ca, *cb], ["A"] * 6 + ["B"] * 6).mann_whitney_method
    assert "digits.rank = Inf" in method and "p = 0.936" in method
    assert "with digits.rank = 7 it ties them, as this test does: p = 0.9358" in method


def test_mann_whitney_above_the_cap_without_ties_says_why_it_is_approximate():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=50), rng.normal(size=20)
    result = subgroup_contrast([*a, *b], ["A"] * 50 + ["B"] * 20)
    assert result.mann_whitney_method == (
        "normal approximation with continuity correction, as R's wilcox.test when a "
        "subgroup has 50 or more patients"
    )
    assert result.mann_whitney_p == pytest.approx(
        stats.mannwhitneyu(b, a, method="asymptotic").pvalue, rel=1e-9
    )


# ------------------------------------------------------------------ Wilcoxon and digits.rank

NOISY_BASELINE = [10.9, 9.5, 12.0, 11.1, 8.7, 10.2, 9.9, 11.5, 10.4, 12.3, 9.1, 10.8]
NOISY_FOLLOW_UP = [11.2, 9.8, 13.1, 12.0, 9.6, 10.0, 10.6, 12.9, 11.0, 13.0, 9.9, 11.0]


def test_wilcoxon_note_states_rs_digits_rank_behaviour():
    # R 4.2, b and f as above:
    #   wilcox.test(f, b, paired = TRUE)$p.value                   0.003662292785
    #   wilcox.test(f, b, paired = TRUE, digits.rank = 7)$p.value  0.003649195615
    # (11.2 - 10.9 and 9.8 - 9.5 differ in the last bits, so R's default does not tie them)
    result = paired_change(NOISY_BASELINE, NOISY_FOLLOW_UP, n_bootstrap=99)
    assert result.wilcoxon_statistic == 76.5
    note = result.wilcoxon_note
    assert "ranks the raw differences by default (digits.rank = Inf)" in note
    assert "it reports p = 0.003662" in note
    assert "with digits.rank = 7 it ties them, as this test does, and reports p = 0.003649" in note
    changes = np.array(NOISY_FOLLOW_UP) - np.array(NOISY_BASELINE)
    assert r_signed_rank(changes).p == pytest.approx(0.003662292785, rel=1e-9)
    assert r_signed_rank(changes, 7).p == pytest.approx(0.003649195615, rel=1e-9)


def test_wilcoxon_note_is_silent_when_r_prints_the_same_p():
    result = paired_change([0.0] * 6, [1.0, -2.5, 3.25, 4.0, -5.5, 6.0], n_bootstrap=99)
    assert result.wilcoxon_method == "exact, no zero or tied differences"
    assert result.wilcoxon_note is None or "wilcox.test" not in result.wilcoxon_note


def test_signif_is_rs():
    # R: signif(c(123.456789, -0.000123456789, 1e300), 3) -> 123, -0.000123, 1e300
    assert signif(np.array([123.456789, -0.000123456789, 1e300]), 3).tolist() == [
        123.0,
        -0.000123,
        1e300,
    ]


# ------------------------------------------------------------------ what is left out

CENSORED_CSV = (
    "id,cohort,Ferritin 0,Ferritin 2,Ferritin 6\n"
    "A,CBT,<5,<5,12\n"  # both month 0 and month 2 censored
    "B,CBT,50,52,49\n"
    "C,diet1,120,60,70\n"
    "D,diet1,80,75,\n"
    "E,diet1,,,\n"  # no ferritin at all
    "F,CBT,<5,,\n"  # one censored value and nothing else
    "G,diet1,40,38,41\n"
)


@pytest.fixture(scope="module")
def censored():
    return load_cohort(CENSORED_CSV.encode(), "censored.csv")


EXCLUDE = AnalysisSettings(censored="exclude")


def test_paired_exclude_names_both_censored_values_of_a_patient(censored):
    result = paired_for(censored, select(censored, "ferritin", 0, 2), EXCLUDE)
    reasons = dict(result.excluded)
    assert reasons["A"] == "censored values <5 at month 0 and <5 at month 2 left out"
    assert reasons["F"] == "censored value <5 at month 0 left out; no follow-up value"
    assert reasons["E"] == "no baseline or follow-up value"


def test_timecourse_lists_every_patient_it_leaves_out(censored):
    course = timecourse_for(censored, "ferritin", analysis=EXCLUDE)
    assert course.left_out == (
        ("E", "no Ferritin value at any time"),
        ("F", "no Ferritin value at any time; censored value <5 at month 0 left out"),
    )
    incomplete = dict(course.incomplete)
    assert incomplete["A"] == (
        "no month 0, month 2 value; censored values <5 at month 0 and <5 at month 2 left out"
    )
    month_2 = next(c for c in course.contrasts if c.time == 2)
    assert dict(month_2.excluded)["A"].endswith(
        "censored values <5 at month 0 and <5 at month 2 left out"
    )
    at_limit = timecourse_for(censored, "ferritin")
    assert at_limit.left_out == (("E", "no Ferritin value at any time"),)


def test_timecourse_json_has_left_out(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_text(CENSORED_CSV, encoding="utf-8")
    args = ["timecourse", str(path), "--analyte", "ferritin", "--censored", "exclude"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["patient_id"] for row in out["left_out"]] == ["E", "F"]
    assert main(args) == 0
    assert "left out: E (no Ferritin value at any time)" in capsys.readouterr().out


# ------------------------------------------------------------------ group labels


def test_subgroup_names_are_kept_as_written(censored):
    groups = split_groups(censored, "cohort", 18)
    assert set(groups.dropna()) == {"CBT", "diet1"}
    result = subgroups_for(censored, select(censored, "ferritin", 0, 6), "cohort")
    assert {g.group for g in result.groups} == {"CBT", "diet1"}
    assert set(characteristics(censored).groups) == {"CBT", "diet1", "All patients"}
