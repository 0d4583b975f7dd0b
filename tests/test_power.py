"""Tests for analytics.stats.power: pwr golden values, MDE table, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import TTestPower

from analytics.errors import AnalysisError
from analytics.stats import power
from analytics.stats.power import (
    OBSERVED_POWER_CAVEAT,
    mde_dz,
    n_required,
    observed_power,
    power_at,
    power_curve_effect,
    power_curve_n,
    power_summary,
)


@pytest.mark.parametrize(
    ("dz", "alternative", "expected"),
    [
        # R: pwr::pwr.t.test(d = 0.5, n = 20, sig.level = 0.05, type = "paired")
        #    power = 0.5645044
        (0.5, "two-sided", 0.5645044),
        (-0.5, "two-sided", 0.5645044),
        # R: pwr::pwr.t.test(d = 0.5, n = 20, sig.level = 0.05, type = "paired",
        #    alternative = "greater")  power = 0.6951493
        (0.5, "greater", 0.6951493),
        # Same test in the other direction: a fall of d_z = 0.5, alternative "less".
        (-0.5, "less", 0.6951493),
    ],
)
def test_power_matches_pwr(dz, alternative, expected):
    assert power_at(20, dz, 0.05, alternative) == pytest.approx(expected, abs=1e-7)


def test_one_sided_power_against_the_effect_is_below_alpha():
    assert power_at(20, 0.5, 0.05, "less") < 0.05
    assert power_at(20, -0.5, 0.05, "greater") < 0.05


@pytest.mark.parametrize(
    ("n", "expected"),
    # statistics.md: MDE d_z at 80 % power, alpha = 0.05 two-sided (TTestPower.solve_power;
    # R: pwr::pwr.t.test(n = n, power = 0.8, type = "paired")$d gives the same).
    [(5, 1.682), (10, 0.996), (20, 0.660)],
)
def test_minimum_detectable_effect_table(n, expected):
    assert mde_dz(n) == pytest.approx(expected, abs=5e-4)
    assert power_at(n, mde_dz(n)) == pytest.approx(0.8, abs=1e-8)


def test_mde_sign_follows_the_alternative():
    assert mde_dz(20, alternative="less") < 0 < mde_dz(20, alternative="greater")
    assert mde_dz(20, alternative="less") == pytest.approx(-mde_dz(20, alternative="greater"))
    assert mde_dz(20, alternative="greater") < mde_dz(20)  # one-sided needs less


def test_dz_0_7_needs_19_pairs():
    # statistics.md / thesis-tables.md: at d_z = 0.7, about 19 pairs for 80 % power.
    # R: pwr::pwr.t.test(d = 0.7, power = 0.8, type = "paired")$n = 18.03 -> 19.
    assert n_required(0.7) == 19
    assert n_required(-0.7) == 19


@pytest.mark.parametrize("dz", [0.3, 0.5, 0.7, 1.0, 1.7, -0.9])
@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_n_required_is_the_smallest_n_reaching_the_power(dz, alternative):
    if (alternative == "less" and dz > 0) or (alternative == "greater" and dz < 0):
        with pytest.raises(AnalysisError, match="one-sided"):
            n_required(dz, alternative=alternative)
        return
    n = n_required(dz, 0.8, 0.05, alternative)
    assert power_at(n, dz, 0.05, alternative) >= 0.8
    if n > 2:
        assert power_at(n - 1, dz, 0.05, alternative) < 0.8
        sm = {"two-sided": "two-sided", "less": "smaller", "greater": "larger"}[alternative]
        continuous = TTestPower().solve_power(
            effect_size=dz, nobs=None, alpha=0.05, power=0.8, alternative=sm
        )
        assert n == math.ceil(continuous)


def test_huge_effect_needs_only_two_pairs():
    # statsmodels' TTestPower returns NaN here (nct tail underflow at df = 1); the
    # scipy fallback gives P(T' > t_crit) for T' ~ nct(1, 50 sqrt 2) = 0.99999997.
    assert TTestPower().power(50.0, 2, 0.05) != TTestPower().power(50.0, 2, 0.05)  # NaN
    assert power_at(2, 50.0) == pytest.approx(0.9999999710872, abs=1e-9)
    assert n_required(50.0) == 2
    assert mde_dz(2) == pytest.approx(11.549889754978, rel=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: power_at(1, 0.5), "at least 2 pairs"),
        (lambda: power_at(2.5, 0.5), "whole number"),
        (lambda: power_at(10, 0.5, alpha=0.0), "alpha"),
        (lambda: power_at(10, 0.5, alpha=1.0), "alpha"),
        (lambda: mde_dz(10, power=1.0), "power"),
        (lambda: mde_dz(10, power=0.04), "larger than alpha"),
        (lambda: n_required(0.0), "zero"),
        (lambda: power_at(10, 0.5, alternative="smaller"), "alternative"),
        (lambda: power_summary(10, 0.0, 3.0), "SD of change"),
        (lambda: power_summary(10, -1.0, 3.0), "SD of change"),
        (lambda: power_summary(1, 1.0, 3.0), "at least 2"),
        (lambda: power_summary(10, 2.0, 0.0), "must not be zero"),
        (lambda: power_summary(10, 2.0, 3.0, alternative="less"), "one-sided"),
    ],
)
def test_unusable_requests_are_refused(call, message):
    with pytest.raises(AnalysisError, match=message):
        call()


def test_power_summary_fields():
    # The thesis' retrospective MCV 0 -> 2: n = 20, implied SD of change 3.47 fL;
    # a meaningful change of 3 fL (LABS["mcv"].meaningful_change in analytics.labs).
    result = power_summary(20, 3.47, -3.0, alpha=0.05, power=0.8)
    dz = -3.0 / 3.47
    assert result.power_at_delta == pytest.approx(power_at(20, dz))
    assert result.n_required == n_required(dz)
    assert result.mde_dz == pytest.approx(0.660, abs=5e-4)
    assert result.mde == pytest.approx(result.mde_dz * 3.47)
    assert result.mde_dz_90 == pytest.approx(mde_dz(20, 0.9))
    assert result.mde_90 == pytest.approx(result.mde_dz_90 * 3.47)
    assert result.mde_dz_90 > result.mde_dz
    # Hand: t(0.975, 19) = 2.093024; 2.093024 * 3.47 / sqrt(20) = 1.624013
    assert result.ci_half_width == pytest.approx(2.093024 * 3.47 / math.sqrt(20), rel=1e-6)
    data = result.to_dict()
    assert set(data) == {
        "n",
        "sd_change",
        "delta",
        "alpha",
        "power",
        "alternative",
        "power_at_delta",
        "n_required",
        "mde",
        "mde_dz",
        "mde_90",
        "mde_dz_90",
        "ci_half_width",
    }
    assert list(result.to_frame().columns) == ["quantity", "label", "value"]


def test_ci_half_width_matches_the_paired_t_interval():
    # R: t.test(extra ~ group, data = sleep, paired = TRUE): CI -2.4598858 to -0.7001142,
    # so the half width is 0.8798858 with SD of change 1.2299955 and n = 10.
    result = power_summary(10, 1.2299955, 1.0)
    assert result.ci_half_width == pytest.approx((-0.7001142 + 2.4598858) / 2, abs=1e-6)


def test_power_curves():
    by_n = power_curve_n(0.7)
    assert list(by_n.columns) == ["n", "cohen_dz", "power"]
    assert by_n["n"].tolist() == list(range(2, 41))
    assert by_n["power"].is_monotonic_increasing
    assert (
        by_n.loc[by_n["n"] == 19, "power"].item() >= 0.8 > by_n.loc[by_n["n"] == 18, "power"].item()
    )
    by_effect = power_curve_effect(10, sd_change=3.0)
    assert by_effect["power"].is_monotonic_increasing
    assert by_effect["power"].iloc[0] == pytest.approx(0.05)  # no effect: power = alpha
    assert by_effect["change"].tolist() == pytest.approx((by_effect["cohen_dz"] * 3.0).tolist())
    falls = power_curve_effect(10, alternative="less")
    assert (falls["cohen_dz"] <= 0).all() and falls["power"].is_monotonic_increasing


def test_observed_power_carries_the_caveat():
    docstring = " ".join(observed_power.__doc__.split())
    assert OBSERVED_POWER_CAVEAT in docstring
    assert "Hoenig & Heisey (2001)" in OBSERVED_POWER_CAVEAT
    assert "one-to-one function of the p-value" in OBSERVED_POWER_CAVEAT
    assert observed_power(10, 0.8) == power_at(10, 0.8)


def test_power_agrees_with_noncentral_t_by_hand():
    # Two-sided power = P(T' > t_crit) + P(T' < -t_crit), T' ~ nct(df = 9, ncp = 0.8 sqrt 10).
    crit = stats.t.ppf(0.975, 9)
    ncp = 0.8 * np.sqrt(10)
    expected = stats.nct.sf(crit, 9, ncp) + stats.nct.cdf(-crit, 9, ncp)
    assert power.power_at(10, 0.8) == pytest.approx(expected, rel=1e-9)
