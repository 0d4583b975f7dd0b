"""Tests for analytics.stats.mixed: golden values from R's lmerTest, theory, refusals.

The data sets, the R calls and the golden values are in ``tests/mixed_goldens.py``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from mixed_goldens import CASES, GOLDEN, HEPCIDIN, MCV, MCV_COMPLETE, NAN, REL, SLEEP

from analytics.errors import AnalysisError
from analytics.stats import mixed_fit
from analytics.stats.mixed import mixed_model
from analytics.stats.paired import paired_change
from analytics.stats.timecourse import timecourse


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    table, baseline, confidence, levels = CASES[request.param]
    result = mixed_model(table, baseline=baseline, confidence=confidence)
    return result, GOLDEN[request.param], levels


def test_variance_components_match_lmertest(case):
    result, golden, _ = case
    assert result.fitted and not result.boundary and result.note is None
    assert (result.sd_patient, result.sd_residual) == pytest.approx(golden["sd"], rel=REL)


def test_omnibus_f_matches_lmertest_anova(case):
    result, golden, _ = case
    f, df_num, df_den, p = golden["omnibus"]
    assert result.omnibus.df_num == df_num
    assert result.omnibus.f == pytest.approx(f, rel=REL)
    assert result.omnibus.df_den == pytest.approx(df_den, rel=REL)
    assert result.omnibus.p == pytest.approx(p, rel=REL)


def test_means_match_lmertest_contest(case):
    result, golden, levels = case
    by_time = {mean.time: mean for mean in result.means}
    assert sorted(by_time) == sorted(levels)
    for time, expected in zip(levels, golden["means"], strict=True):
        mean = by_time[time]
        got = (mean.estimate, mean.se, mean.df, mean.ci_low, mean.ci_high)
        assert got == pytest.approx(expected, rel=REL), time


def test_contrasts_match_lmertest_contest_and_holm(case):
    result, golden, levels = case
    assert [c.time for c in result.contrasts] == levels[1:]
    for contrast, expected in zip(result.contrasts, golden["contrasts"], strict=True):
        got = (contrast.estimate, contrast.se, contrast.df, contrast.t, contrast.p,
               contrast.p_holm, contrast.ci_low, contrast.ci_high)  # fmt: skip
        assert got == pytest.approx(expected, rel=REL), contrast.time


# ------------------------------------------------------------------------ boundary


def test_boundary_fit_is_said_in_words_not_tested():
    # R: d <- data.frame(patient = rep(LETTERS[1:5], each = 3), time = rep(0:2, 5),
    #   value = c(10, 12, 9, 12, 9, 11, 9, 11, 12, 11, 10, 10, 12, 11, 9))[-6, ]
    # m <- lmer(value ~ factor(time) + (1 | patient), d): "boundary (singular) fit",
    # isSingular(m) TRUE, getME(m, "theta") 0, sigma(m) 1.27920429813366
    values = np.array([10, 12, 9, 12, 9, 11, 9, 11, 12, 11, 10, 10, 12, 11, 9], float)
    table = pd.DataFrame(values.reshape(5, 3), index=list("ABCDE"), columns=[0.0, 1.0, 2.0])
    table.loc["B", 2.0] = NAN
    result = mixed_model(table)
    assert result.boundary and not result.fitted
    assert result.sd_patient == 0.0
    assert result.sd_residual == pytest.approx(1.27920429813366, rel=REL)
    assert "estimated as zero (a boundary fit)" in result.note
    assert result.means == () and result.contrasts == ()
    assert result.omnibus.f is None and result.n_values == 14
    assert result.to_dict()["omnibus"] == {"f": None, "df_num": None, "df_den": None, "p": None}


# ------------------------------------------------------------------------ theory


def _rm_error(table: pd.DataFrame) -> tuple[float, int]:
    """Mean square and df of the patient × time error of a complete table."""
    matrix = table.to_numpy(float)
    n, k = matrix.shape
    centred = matrix - matrix.mean(axis=1, keepdims=True) - matrix.mean(axis=0) + matrix.mean()
    df = (n - 1) * (k - 1)
    return float(np.sum(centred**2)) / df, df


COMPLETE = {
    "demo MCV": MCV_COMPLETE,
    "demo hepcidin": HEPCIDIN.fillna({1.0: 25.1}),  # P03's month-1 value restored
}


@pytest.mark.parametrize("name", list(COMPLETE))
def test_complete_data_give_the_rm_anova_f_and_pooled_error_contrasts(name):
    # Complete, balanced data, sigma_patient > 0: REML equals the ANOVA estimators, so
    # the F for time is the sphericity-assumed RM-ANOVA F on (k - 1, (n - 1)(k - 1)) df,
    # and each contrast is a t with the pooled RM error: (mean_j - mean_0) /
    # sqrt(2 MSE / n) on (n - 1)(k - 1) df (not the paired t, which uses only 2 times).
    table = COMPLETE[name]
    result = mixed_model(table)
    anova = timecourse(table)
    mse, df_error = _rm_error(table)
    n = len(table)
    assert result.fitted and result.n_complete == n
    assert result.omnibus.f == pytest.approx(anova.anova_f, rel=1e-9)
    assert result.omnibus.df_num == anova.anova_df1
    assert result.omnibus.df_den == pytest.approx(df_error, rel=1e-9)
    assert result.omnibus.p == pytest.approx(anova.anova_p, rel=1e-8)
    means = table.mean()
    for contrast in result.contrasts:
        difference = means[contrast.time] - means[0.0]
        assert contrast.estimate == pytest.approx(difference, rel=1e-10)
        assert contrast.se == pytest.approx(math.sqrt(2 * mse / n), rel=1e-9)
        assert contrast.df == pytest.approx(df_error, rel=1e-9)
    # each time's mean is the observed mean when nothing is missing
    assert [m.estimate for m in result.means] == pytest.approx(means.tolist(), rel=1e-12)


def test_two_complete_time_points_give_the_paired_t():
    # with k = 2 the pooled RM error is var(change) / 2, so the contrast is the paired t
    two = MCV_COMPLETE[[0.0, 6.0]]
    result = mixed_model(two)
    paired = paired_change(two[0.0], two[6.0], n_bootstrap=99)
    contrast = result.contrasts[0]
    assert contrast.t == pytest.approx(paired.t, rel=1e-9)
    assert contrast.df == pytest.approx(paired.df, rel=1e-9)
    assert contrast.p == pytest.approx(paired.p_two_sided, rel=1e-8)
    assert (contrast.ci_low, contrast.ci_high) == pytest.approx(
        (paired.ci_low, paired.ci_high), rel=1e-9
    )
    assert result.omnibus.f == pytest.approx(paired.t**2, rel=1e-9)


def test_units_and_order_do_not_change_the_inference():
    # value -> 10 value + 500 and patients shuffled: estimates follow, t, df and p stay
    base = mixed_model(HEPCIDIN)
    moved = mixed_model((HEPCIDIN * 10 + 500).iloc[[3, 0, 4, 2, 1]])
    assert moved.sd_residual == pytest.approx(10 * base.sd_residual, rel=1e-9)
    for a, b in zip(base.contrasts, moved.contrasts, strict=True):
        assert b.estimate == pytest.approx(10 * a.estimate, rel=1e-9)
        assert (b.t, b.df, b.p) == pytest.approx((a.t, a.df, a.p), rel=1e-9)
    assert moved.means[0].estimate == pytest.approx(10 * base.means[0].estimate + 500)
    assert moved.omnibus.df_den == pytest.approx(base.omnibus.df_den, rel=1e-9)


# ------------------------------------------------------------------ numerical core


def _design(table: pd.DataFrame) -> mixed_fit.Design:
    present = table.notna().to_numpy()
    rows, cols = np.nonzero(present)
    values = table.to_numpy(float)[rows, cols]
    return mixed_fit.make_design(values, rows, cols, table.shape[1], 0)


def _full_deviance(design: mixed_fit.Design, theta: float, sigma: float) -> float:
    # lmerTest's devfun_vp: log|V_theta| + log|A| + r²/sigma² + (N - p) log(2 pi sigma²)
    _, quadratic, _, a = mixed_fit._profiled(design, theta)
    pieces = mixed_fit._pieces(design, theta)
    dof = design.n_values - design.n_fixed
    log_a = np.linalg.slogdet(a)[1]
    return (
        pieces.logdet_v[0] + log_a + quadratic / sigma**2 + dof * math.log(2 * math.pi * sigma**2)
    )


def test_analytic_hessian_and_jacobian_agree_with_finite_differences():
    design = _design(SLEEP)
    fit = mixed_fit.fit_reml(design)
    point = np.array([fit.theta, fit.sigma])
    step = 1e-4

    def deviance(x):
        return _full_deviance(design, x[0], x[1])

    numeric = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * step, np.eye(2)[j] * step
            numeric[i, j] = (
                deviance(point + e_i + e_j) - deviance(point + e_i - e_j)
                - deviance(point - e_i + e_j) + deviance(point - e_i - e_j)
            ) / (4 * step**2)  # fmt: skip
    assert fit.hessian == pytest.approx(numeric, rel=1e-5)

    def covariance(theta, sigma):
        a = mixed_fit._profiled(design, theta)[3]
        return sigma**2 * np.linalg.inv(a)

    d_theta = covariance(fit.theta + step, fit.sigma) - covariance(fit.theta - step, fit.sigma)
    d_sigma = covariance(fit.theta, fit.sigma + step) - covariance(fit.theta, fit.sigma - step)
    assert fit.jacobian[0] == pytest.approx(d_theta / (2 * step), rel=1e-5, abs=1e-9)
    assert fit.jacobian[1] == pytest.approx(d_sigma / (2 * step), rel=1e-5, abs=1e-9)


def test_the_fit_is_the_minimum_of_the_reml_deviance():
    design = _design(MCV)
    fit = mixed_fit.fit_reml(design)
    best = fit.deviance
    for theta in (fit.theta * 0.99, fit.theta * 1.01, 0.0, 10 * fit.theta):
        assert mixed_fit._deviance(design, theta) > best
    assert abs(mixed_fit._slope(design, fit.theta)) < 1e-8


def test_doolittle_rows_are_lmertest_type_1_contrasts():
    # R, for the sleep data above (days 0-4 with 15, 16, 15, 15, 15 values):
    # m <- lmer(value ~ factor(time) + (1 | patient), d); show_tests(anova(m))
    rows = mixed_fit.type1_rows(_design(SLEEP).xtx)
    expected = [
        [0, 1, -0.25, -0.25, -0.25],
        [0, 0, 1, -0.333333333333333, -0.333333333333333],
        [0, 0, 0, 1, -0.5],
        [0, 0, 0, 0, 1],
    ]
    assert rows == pytest.approx(np.array(expected), rel=1e-12)


@pytest.mark.parametrize(
    ("nu", "expected"),
    [
        ([7.5], 7.5),  # one statistic: its df
        ([10.0, 10.0 + 1e-10], 10.0 + 5e-11),  # all equal: their mean
        ([3.0, 1.5], 2.0),  # any at or below 2: 2
        ([10.0, 20.0], 13.0769230769231),  # R: lmerTest:::get_Fstat_ddf(c(10, 20))
    ],
)
def test_f_denominator_df_follows_lmertest(nu, expected):
    assert mixed_fit.fstat_ddf(np.array(nu)) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------ what is used


def test_no_complete_patient_is_said_in_words():
    # the demo's MCV: 20 patients without 2-week and month-1 values, 5 without month 6
    table = MCV_COMPLETE.reindex(columns=[0.0, 0.5, 1.0, 2.0, 6.0])
    table = pd.concat([table, COMPLETE["demo hepcidin"].reindex(columns=[0.0, 0.5, 1.0, 2.0, 6.0])])
    sentence = mixed_model(table).sentence()
    assert "25 of them with values missing: 20 with missing 2-week and month-1 values " in sentence
    assert "(R01, R02, R03, R04, R05 and 15 more), 5 with a missing month-6 value " in sentence
    assert sentence.endswith("need at least 2 patients with every time point, and 0 have them.")


def test_partial_patients_are_listed_and_said_in_words():
    result = mixed_model(HEPCIDIN)
    assert (result.n_patients, result.n_values, result.n_complete) == (5, 19, 4)
    assert result.patients_partial == (("P03", ("month 1",)),)
    assert result.sentence() == (
        "The mixed model uses 19 values from 5 patients, 1 of them (P03) with a missing "
        "month-1 value; the complete-case tests (Friedman, repeated-measures ANOVA) use "
        "only the 4 patients with every time point."
    )
    complete = mixed_model(MCV_COMPLETE)
    assert complete.sentence() == (
        "The mixed model uses 60 values from 20 patients, none with a missing value."
    )


def test_patients_without_values_are_named_and_single_values_count():
    table = MCV.copy()
    table.loc["R99"] = NAN
    result = mixed_model(table)
    assert result.patients_without_values == ("R99",)
    assert result.n_patients == 20 and result.n_values == 54  # R15's one value counts
    assert ("R15", ("month 2", "month 6")) in result.patients_partial
    assert result.sentence() == (
        "The mixed model uses 54 values from 20 patients, 5 of them with values missing: "
        "1 with a missing month-2 value (R03), 2 with a missing month-6 value (R07, R19), "
        "1 with a missing month-0 value (R11), 1 with missing month-2 and month-6 values "
        "(R15); the complete-case tests (Friedman, repeated-measures ANOVA) use only the 15 "
        "patients with every time point."
    )


def test_json_has_the_issue_keys():
    out = json.loads(json.dumps(mixed_model(HEPCIDIN).to_dict(), allow_nan=False))
    assert {"method", "df_method", "n_patients", "n_values", "sd_patient", "sd_residual",
            "omnibus", "means", "contrasts"} <= set(out)  # fmt: skip
    assert out["df_method"] == "Satterthwaite"
    assert set(out["omnibus"]) == {"f", "df_num", "df_den", "p"}
    assert all(
        set(m) == {"time", "estimate", "se", "df", "ci_low", "ci_high"} for m in out["means"]
    )
    assert all(
        set(c) == {"time", "estimate", "se", "df", "t", "p", "p_holm", "ci_low", "ci_high"}
        for c in out["contrasts"]
    )
    assert out["patients_partial"] == [{"patient": "P03", "missing": ["month 1"]}]


def test_frames_for_display_and_export():
    result = mixed_model(HEPCIDIN)
    frame = result.to_frame()
    assert list(frame["months"]) == [0.0, 0.5, 1.0, 2.0]
    assert pd.isna(frame.loc[0, "p"])  # the baseline has no contrast
    assert frame.loc[2, "mean"] == pytest.approx(GOLDEN["hepcidin"]["means"][2][0], rel=REL)
    summary = result.summary_frame().set_index("quantity")["value"]
    assert summary["n_values"] == 19 and summary["patients_partial"] == "P03 (no month 1)"


# ------------------------------------------------------------------ refusals


def _table(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=[0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (_table({"A": [1, 2, 3], "B": [2, NAN, NAN], "C": [NAN, 3, NAN]}),
         "at least 2 patients with 2 or more values of this lab; here 1 has"),
        (_table({"A": [1, NAN, 3], "B": [2, NAN, 4], "C": [3, NAN, 4]}),
         "no patient has a month 1 value"),
        (_table({"A": [1, 2, NAN], "B": [NAN, 3, 5]}),
         "leave no within-patient variation"),
        (_table({"A": [5, 5, 5], "B": [5, 5, 5], "C": [5, NAN, 5]}),
         "every value is the same"),
        (_table({"A": [1, 2, 3], "B": [1, 2, 3], "C": [1, 2, 3]}),
         "explain the values exactly"),
        (_table({"A": [1, 2, 3], "B": [11, 12, 13.0001], "C": [21, 22, 23]}),
         "hardly at all within patients"),
    ],
)  # fmt: skip
def test_models_that_cannot_be_fitted_say_why(table, message):
    result = mixed_model(table)
    assert not result.fitted and result.means == () and result.omnibus.p is None
    assert message in result.note
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("frame", "baseline", "message"),
    [
        (HEPCIDIN[[0.0]], None, "at least 2 time columns"),
        (HEPCIDIN, 3.0, "not one of the time points"),
        (HEPCIDIN.set_axis(["0", "x", "1", "2"], axis=1), None, "time in months"),
        (HEPCIDIN.astype(object).mask(HEPCIDIN == 38.0, "ND"), None, "'ND' for patient P01"),
        (HEPCIDIN.set_axis(["P1", "P1", "P3", "P4", "P5"], axis=0), None, "more than once"),
    ],
)
def test_malformed_tables_are_refused(frame, baseline, message):
    with pytest.raises(AnalysisError, match=message):
        mixed_model(frame, baseline=baseline)


def test_many_patients_fit_from_per_patient_sums():
    # 2,000 copies of the hepcidin patients (38,000 values): the differences between
    # two times every patient has are the same as in the 5 patients (they do not depend
    # on the variance components), and the df grow with the values
    big = pd.concat([HEPCIDIN.set_axis([f"{p}-{i}" for p in HEPCIDIN.index]) for i in range(2000)])
    small, large = mixed_model(HEPCIDIN), mixed_model(big)
    assert large.fitted and large.n_values == 19 * 2000 and large.n_patients == 10_000
    for time in (0.5, 2.0):
        [a] = [c for c in small.contrasts if c.time == time]
        [b] = [c for c in large.contrasts if c.time == time]
        assert b.estimate == pytest.approx(a.estimate, rel=1e-9)
        assert b.df > 1000 * a.df
    assert large.sd_residual == pytest.approx(small.sd_residual, rel=0.15)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        # R: p.adjust(c(0.01, 0.04, 0.03, 0.2), "holm") -> 0.04 0.09 0.09 0.20
        ([0.01, 0.04, 0.03, 0.2], [0.04, 0.09, 0.09, 0.2]),
        # R: p.adjust(c(0.5, 0.6), "holm") -> 1.0 1.0
        ([0.5, 0.6], [1.0, 1.0]),
        ([0.02], [0.02]),
    ],
)
def test_holm_matches_r_p_adjust(p, expected):
    from analytics.stats.mixed import _holm

    assert _holm(np.array(p)).tolist() == pytest.approx(expected, rel=1e-12)
