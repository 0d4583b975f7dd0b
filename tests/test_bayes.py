"""Tests for analytics.stats.bayes: the JZS Bayes factor against R's BayesFactor."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from analytics.cli import main
from analytics.errors import AnalysisError
from analytics.stats.bayes import (
    DEFAULT_PRIOR_SCALE,
    ROBUSTNESS_SCALES,
    bayes_factor,
    evidence_words,
    log_bf10,
)
from analytics.stats.common import t_summary
from analytics.stats.paired import paired_change

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"

DATA = {
    "n5": [-1.2, -2.3, 0.4, -1.9, -0.8],
    # sleep$extra[11:20] - sleep$extra[1:10] (R datasets::sleep)
    "sleep": [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4],
    "n20": [0.3, -0.5, 1.1, 0.2, -0.9, 0.6, 0.4, -0.2, 0.8, -0.1,
            0.5, 0.0, -0.6, 0.9, 0.1, 0.3, -0.4, 0.7, 0.2, -0.3],
    "n2": [-1.0, -3.0],
}  # fmt: skip

# Golden values from R 4.2 with BayesFactor 0.9.12-4.4, for each data set x and each r
# in 0.5, sqrt(2)/2, 1, sqrt(2):
#   library(BayesFactor)
#   extractBF(ttestBF(x = x, rscale = r))$bf
R_BF10 = {
    "n5": (1.73454953307, 1.76666062857, 1.71341240205, 1.56322403111),
    "sleep": (15.0304133086, 17.2588802678, 18.4152097603, 18.0151599155),
    "n20": (0.599324730401, 0.482145168103, 0.371465445463, 0.276758664739),
    "n2": (1.05716881823, 1.04292215868, 1.00598057171, 0.938622006897),
}


@pytest.mark.parametrize("name", sorted(R_BF10))
def test_bf10_matches_bayesfactor_ttestbf(name):
    changes = np.array(DATA[name])
    summary = t_summary(changes, 0.95)
    result = bayes_factor(summary.t, summary.n)
    for (scale, ours), expected in zip(result.robustness, R_BF10[name], strict=True):
        assert ours == pytest.approx(expected, rel=1e-4), scale
    assert result.bf10 == pytest.approx(R_BF10[name][1], rel=1e-4)  # the default r = 0.707
    assert result.bf01 == pytest.approx(1 / R_BF10[name][1], rel=1e-4)


def test_the_robustness_line_uses_the_four_scales():
    assert (0.5, math.sqrt(2) / 2, 1.0, math.sqrt(2)) == ROBUSTNESS_SCALES
    assert math.sqrt(2) / 2 == DEFAULT_PRIOR_SCALE
    line = bayes_factor(4.06212768338204, 10).robustness_line()
    assert line == "r = 0.5: 15.0; r = 0.707: 17.3; r = 1: 18.4; r = 1.414: 18.0"


def _bf10_over_dz(t: float, n: int, r: float) -> float:
    """Independent integration over d_z: ∫ t-density(t; ncp δ√n) Cauchy(δ; r) dδ / t-density(t)."""
    nu = n - 1

    def integrand(delta: float) -> float:
        ratio = stats.nct.logpdf(t, nu, delta * math.sqrt(n)) - stats.t.logpdf(t, nu)
        return math.exp(ratio) * stats.cauchy.pdf(delta, scale=r)

    peak = t / math.sqrt(n)
    points = sorted({0.0, peak / 2, peak, 1.5 * peak, 3 * peak})
    edges = [-math.inf, *points, math.inf]
    return sum(
        integrate.quad(integrand, low, high, limit=500, epsabs=0, epsrel=1e-11)[0]
        for low, high in itertools.pairwise(edges)
    )


@pytest.mark.parametrize(
    ("n", "t", "r_approximation"),
    [
        # BayesFactor switches to an approximation above |t| = 15 ("t is large;
        # approximation invoked"): ttest.tstat(t, n1 = n, rscale = sqrt(2)/2, simple = TRUE)
        (5, 237.0, 802248.279738),
        (20, 40.0, 33549903545383480.0),
        (12, 236.95378999195, 6.95297030227e17),
    ],
)
def test_large_t_is_integrated_not_approximated(n, t, r_approximation):
    ours = math.exp(log_bf10(t, n))
    assert ours == pytest.approx(_bf10_over_dz(t, n, DEFAULT_PRIOR_SCALE), rel=1e-6)
    # R's approximation is within a fifth of the integral, not closer: it is not used
    assert ours == pytest.approx(r_approximation, rel=0.2)


@pytest.mark.parametrize(("n", "t"), [(10_000, 100.0), (3, 1e6), (100_000, 0.5), (2, 1e-9)])
def test_extreme_inputs_stay_finite_in_logs(n, t):
    value = log_bf10(t, n)
    assert math.isfinite(value)
    result = bayes_factor(t, n)
    json.dumps(result.to_dict(), allow_nan=False)  # no inf or nan reaches the JSON
    if value > 709:
        assert result.bf10 is None and "more than 10³⁰⁷" in result.verdict
        assert result.evidence == "extreme evidence for a change"


def test_ten_thousand_pairs_with_no_change_favour_no_change():
    # R: ttest.tstat(0, n1 = 10000, rscale = sqrt(2)/2)$bf = -4.4845878486544 (log BF10)
    assert log_bf10(0.0, 10_000) == pytest.approx(-4.4845878486544, abs=1e-6)
    # BF01 = e^4.4846 = 88.6: between 30 and 100
    assert bayes_factor(0.0, 10_000).evidence == "very strong evidence for no change"


@pytest.mark.parametrize(
    ("bf10", "words"),
    [
        (1.0, "no evidence either way"),
        (2.0, "anecdotal evidence for a change"),
        (3.0, "moderate evidence for a change"),
        (9.9, "moderate evidence for a change"),
        (10.0, "strong evidence for a change"),
        (50.0, "very strong evidence for a change"),
        (150.0, "extreme evidence for a change"),
        (1 / 2.5, "anecdotal evidence for no change"),
        (1 / 4.0, "moderate evidence for no change"),
        (1 / 12.0, "strong evidence for no change"),
        (1 / 40.0, "very strong evidence for no change"),
        (1 / 200.0, "extreme evidence for no change"),
    ],
)
def test_conventional_words_in_either_direction(bf10, words):
    assert evidence_words(math.log(bf10)) == words


def test_verdict_reads_bf01_when_the_data_favour_no_change():
    summary = t_summary(np.array(DATA["n20"]), 0.95)
    result = bayes_factor(summary.t, summary.n)
    assert result.verdict.startswith("BF01 = 2.07: anecdotal evidence for no change")


@pytest.mark.parametrize("scale", [0, -0.7, math.nan, math.inf, 11, "wide", True])
def test_a_prior_scale_that_is_not_a_positive_number_is_refused(scale):
    with pytest.raises(AnalysisError, match="prior scale"):
        bayes_factor(2.0, 10, scale)


def test_every_paired_comparison_has_a_bayes_factor():
    result = paired_change(np.zeros(5), np.array(DATA["n5"]), n_bootstrap=99)
    assert result.bayes.bf10 == pytest.approx(R_BF10["n5"][1], rel=1e-4)
    wide = paired_change(np.zeros(5), np.array(DATA["n5"]), n_bootstrap=99, prior_scale=1.0)
    assert wide.bayes.bf10 == pytest.approx(R_BF10["n5"][2], rel=1e-4)


def test_paired_json_has_the_bayes_keys(capsys):
    args = ["paired", str(DEMO), "--analyte", "mcv", "--baseline", "0", "--follow-up", "2"]
    assert main([*args, "--json", "--prior-scale", "1"]) == 0
    bayes = json.loads(capsys.readouterr().out)["bayes"]
    assert {"bf10", "bf01", "prior_scale", "robustness"} <= bayes.keys()
    assert bayes["prior_scale"] == 1.0
    assert [row["prior_scale"] for row in bayes["robustness"]] == list(ROBUSTNESS_SCALES)
    assert bayes["bf10"] == pytest.approx(bayes["robustness"][2]["bf10"])
    assert bayes["bf01"] == pytest.approx(1 / bayes["bf10"])
