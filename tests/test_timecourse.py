"""Tests for analytics.stats.timecourse: cross-checks with scipy and statsmodels, GG epsilon."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.anova import AnovaRM
from statsmodels.stats.multitest import multipletests

from analytics.errors import AnalysisError
from analytics.stats.paired import paired_change
from analytics.stats.timecourse import excel_mode, greenhouse_geisser_epsilon, timecourse

# A small fixed cohort: 6 patients, months 0, 0.5, 1, 2 (ties within P3 and P6).
MATRIX = pd.DataFrame(
    {
        0.0: [84.0, 86.0, 80.0, 90.0, 85.0, 88.0],
        0.5: [83.0, 85.5, 80.0, 88.0, 84.0, 86.0],
        1.0: [82.0, 85.0, 79.0, 88.5, 83.0, 86.0],
        2.0: [81.0, 84.5, 78.0, 87.0, 83.5, 85.0],
    },
    index=pd.Index(["P1", "P2", "P3", "P4", "P5", "P6"], name="patient_id"),
)


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    long = frame.reset_index().melt(id_vars="patient_id", var_name="time", value_name="value")
    long["time"] = long["time"].astype(str)
    return long


@pytest.fixture(scope="module")
def result():
    return timecourse(MATRIX)


def test_friedman_matches_scipy(result):
    expected = stats.friedmanchisquare(*(MATRIX[c] for c in MATRIX.columns))
    assert result.friedman_statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.friedman_p == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.friedman_df == 3
    assert result.n_complete == 6


def test_rm_anova_matches_statsmodels_anovarm(result):
    table = AnovaRM(_long(MATRIX), "value", "patient_id", within=["time"]).fit().anova_table
    row = table.loc["time"]
    assert result.anova_f == pytest.approx(row["F Value"], rel=1e-10)
    assert result.anova_df1 == row["Num DF"] == 3
    assert result.anova_df2 == row["Den DF"] == 15
    assert result.anova_p == pytest.approx(row["Pr > F"], rel=1e-8)


def test_greenhouse_geisser_correction_is_applied(result):
    eps = result.epsilon_gg
    assert 1 / 3 <= eps <= 1
    assert result.anova_df1_gg == pytest.approx(3 * eps)
    assert result.anova_df2_gg == pytest.approx(15 * eps)
    assert result.anova_p_gg == pytest.approx(stats.f.sf(result.anova_f, 3 * eps, 15 * eps))
    assert result.anova_p_gg >= result.anova_p


def test_gg_epsilon_hand_computed_three_times():
    # 4 patients x 3 times:            column means 3, 5, 6
    #   [2, 4, 3]
    #   [3, 5, 7]          sample covariance S = [[2/3,    0,  2/3],
    #   [4, 4, 5]                                 [  0,    2, 10/3],
    #   [3, 7, 9]                                 [2/3, 10/3, 20/3]]
    # Double-centring (row means 4/9, 16/9, 32/9; grand mean 52/27):
    #   Sc = (1/27) [[ 46, -8, -38],
    #                [ -8, 10,  -2],
    #                [-38, -2,  40]]
    # tr(Sc) = 96/27 = 32/9; tr(Sc^2) = sum of squared entries
    #        = (46² + 8² + 38² + 8² + 10² + 2² + 38² + 2² + 40²)/27² = 6840/729 = 760/81
    # epsilon = (32/9)² / (2 · 760/81) = (1024/81) / (1520/81) = 64/95 = 0.673684...
    data = [[2, 4, 3], [3, 5, 7], [4, 4, 5], [3, 7, 9]]
    assert greenhouse_geisser_epsilon(data) == pytest.approx(64 / 95, rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("shape", [(4, 3), (6, 4), (10, 5), (3, 6)])
def test_gg_epsilon_lies_within_its_bounds(seed, shape):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=shape) + rng.normal(size=(shape[0], 1)) * 3
    data[:, -1] += rng.normal(size=shape[0]) * 5  # unequal variances: epsilon < 1
    eps = greenhouse_geisser_epsilon(data)
    assert 1 / (shape[1] - 1) - 1e-12 <= eps <= 1 + 1e-12


def test_gg_epsilon_is_one_under_sphericity():
    # Compound symmetry (patient effect + equal, uncorrelated noise) gives epsilon = 1
    # exactly when the centred covariance is proportional to the centring matrix.
    data = np.array([[0.0, 1, 2], [1, 2, 0], [2, 0, 1]])  # Latin square: Sc = c·C
    assert greenhouse_geisser_epsilon(data) == pytest.approx(1.0)
    assert greenhouse_geisser_epsilon([[1, 2], [3, 5], [2, 2]]) == 1.0


def test_contrasts_are_paired_t_against_baseline_with_holm(result):
    assert [c.time for c in result.contrasts] == [0.5, 1.0, 2.0]
    for contrast in result.contrasts:
        reference = paired_change(MATRIX[0.0], MATRIX[contrast.time], n_bootstrap=99)
        assert contrast.mean_change == pytest.approx(reference.mean_change)
        assert contrast.t == pytest.approx(reference.t)
        assert contrast.p_raw == pytest.approx(reference.p_two_sided)
        assert contrast.ci_low == pytest.approx(reference.ci_low)
        assert contrast.p_holm >= contrast.p_raw
    raw = [c.p_raw for c in result.contrasts]
    assert [c.p_holm for c in result.contrasts] == pytest.approx(
        multipletests(raw, method="holm")[1].tolist()
    )
    assert result.family == "3 paired contrasts against month 0 (Holm)"


def test_missing_values_per_analysis():
    frame = MATRIX.copy()
    frame.loc["P2", 0.5] = np.nan
    frame.loc["P5", 2.0] = np.nan
    out = timecourse(frame)
    assert out.n_complete == 4
    assert out.incomplete == (("P2", "no month 0.5 value"), ("P5", "no month 2 value"))
    assert [d.n for d in out.descriptives] == [6, 5, 6, 5]
    by_time = {c.time: c for c in out.contrasts}
    assert by_time[0.5].n_pairs == 5
    assert by_time[0.5].excluded == (("P2", "no month 0.5 value"),)
    assert by_time[1.0].n_pairs == 6
    complete = frame.dropna()
    expected = stats.friedmanchisquare(*(complete[c] for c in complete.columns))
    assert out.friedman_statistic == pytest.approx(expected.statistic)


def test_two_time_points_reduce_to_the_paired_t():
    two = MATRIX[[0.0, 2.0]]
    out = timecourse(two)
    paired = paired_change(two[0.0], two[2.0], n_bootstrap=99)
    # RM ANOVA with two levels: F = t², epsilon = 1.
    assert out.anova_f == pytest.approx(paired.t**2)
    assert out.anova_p == pytest.approx(paired.p_two_sided)
    assert out.epsilon_gg == 1.0
    # Friedman with two levels and no ties: Q = (n_rise − n_fall)² / n = (0 − 6)² / 6 = 6.
    assert out.friedman_statistic == pytest.approx(6.0)
    assert out.family == "1 paired contrast against month 0 (Holm)"
    assert out.contrasts[0].p_holm == out.contrasts[0].p_raw


def test_descriptives_by_time(result):
    first = result.descriptives[0]
    values = MATRIX[0.0]
    assert first.n == 6
    assert first.mean == pytest.approx(values.mean())
    assert first.sd == pytest.approx(values.std(ddof=1))
    assert first.se == pytest.approx(values.std(ddof=1) / np.sqrt(6))
    assert first.median == pytest.approx(values.median())
    half = stats.t.ppf(0.975, 5) * first.se
    assert (first.ci_low, first.ci_high) == pytest.approx((first.mean - half, first.mean + half))
    assert first.mode is None  # all values unique
    assert isinstance(first.ci_low, float) and isinstance(first.se, float)
    repeated = MATRIX.copy()
    repeated.loc["P6", 1.0] = 79.0  # month 1 now: 82, 85, 79, 88.5, 83, 79
    assert timecourse(repeated).descriptives[2].mode == 79.0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 2.0, 3.0], None),  # all unique: Excel prints #N/A
        ([1.0, 2.0, 2.0, 3.0], 2.0),
        ([3.0, 1.0, 1.0, 3.0], 3.0),  # equally frequent: Excel returns the first one seen
        ([5.0, np.nan, np.nan, 4.0], None),  # NaN is not a value
        ([], None),
    ],
)
def test_excel_mode(values, expected):
    assert excel_mode(values) == expected


def test_contrast_that_cannot_be_tested_is_reported_not_crashed():
    frame = MATRIX[[0.0, 1.0, 2.0]].copy()
    frame.loc[["P1", "P2", "P3", "P4", "P5"], 1.0] = np.nan
    out = timecourse(frame)
    month_1 = out.contrasts[0]
    assert month_1.n_pairs == 1 and month_1.p_raw is None and month_1.p_holm is None
    assert "Not tested" in month_1.note
    assert out.contrasts[1].p_holm == out.contrasts[1].p_raw
    assert out.family == "1 paired contrast against month 0 (Holm)"
    assert out.n_complete == 1
    assert out.friedman_statistic is None and "at least 2" in out.friedman_note
    assert out.anova_f is None and out.anova_note


def test_baseline_can_be_chosen_and_columns_are_sorted():
    shuffled = MATRIX[[2.0, 0.0, 1.0, 0.5]]
    out = timecourse(shuffled, baseline=0.5)
    assert out.times == (0.0, 0.5, 1.0, 2.0)
    assert out.baseline_time == 0.5
    assert [c.time for c in out.contrasts] == [0.0, 1.0, 2.0]
    assert "against month 0.5" in out.family


@pytest.mark.parametrize(
    ("frame", "baseline", "message"),
    [
        (MATRIX[[0.0]], None, "at least 2 time points"),
        (MATRIX, 3.0, "not one of the time points"),
        (MATRIX.set_axis(["0", "0.5", "one", "2"], axis=1), None, "time in months"),
        (MATRIX.set_axis([0, 0.5, 0.5, 2], axis=1), None, "same time point"),
        (MATRIX.set_axis(["P1", "P1", "P3", "P4", "P5", "P6"], axis=0), None, "more than once"),
        (MATRIX.astype(object).mask(MATRIX == 85.5, "ND"), None, "'ND' for patient P2"),
        (MATRIX.to_numpy(), None, "needs a table"),
    ],
)
def test_unusable_tables_are_refused(frame, baseline, message):
    with pytest.raises(AnalysisError, match=message):
        timecourse(frame, baseline=baseline)


def test_outputs_are_json_ready_and_tidy(result):
    json.dumps(result.to_dict(), allow_nan=False)
    frame = result.to_frame()
    assert len(frame) == 4
    assert {"time", "n", "mean", "sd", "se", "median", "mode", "p_raw", "p_holm"} <= set(
        frame.columns
    )
    assert pd.isna(frame.loc[0, "p_raw"])  # the baseline has no contrast with itself
    assert list(result.tests_frame().columns) == ["quantity", "label", "value"]
    assert len(result.contrasts_frame()) == 3
