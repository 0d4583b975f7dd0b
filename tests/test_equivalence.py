"""Tests for analytics.stats.equivalence (TOST) and its use in the paired comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import load_cohort
from analytics.analysis import paired_for, select
from analytics.cli import main
from analytics.errors import AnalysisError
from analytics.settings import AnalysisSettings
from analytics.stats.equivalence import equivalence_test
from analytics.stats.paired import paired_change

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"

# Student's sleep data (R datasets::sleep): change = drug 2 − drug 1.
SLEEP = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
FIVE = [-1.2, -2.3, 0.4, -1.9, -0.8]
TWENTY = [0.3, -0.5, 1.1, 0.2, -0.9, 0.6, 0.4, -0.2, 0.8, -0.1,
          0.5, 0.0, -0.6, 0.9, 0.1, 0.3, -0.4, 0.7, 0.2, -0.3]  # fmt: skip

# Golden values from R 4.2, for each (changes, margin, alpha):
#   lo <- t.test(d, mu = -margin, alternative = "greater")   # t_lower, p_lower
#   up <- t.test(d, mu = margin, alternative = "less")       # t_upper, p_upper
#   t.test(d, conf.level = 1 - 2 * alpha)$conf.int           # ci_low, ci_high
R_TOST = [
    (SLEEP, 1, 0.05, 6.6330945716, 4.77859569555e-05, 1.49116079517, 0.914944114551,
     0.866994732971, 2.29300526703),
    (SLEEP, 3, 0.05, 11.775028348, 4.52269496583e-07, -3.65077298127, 0.00265557029266,
     0.866994732971, 2.29300526703),
    (FIVE, 3, 0.05, 3.9175546983, 0.00864164339341, -8.85708018745, 0.000448667312991,
     -2.16128738178, -0.158712618219),
    (FIVE, 1, 0.05, -0.340656930287, 0.624749136087, -4.59886855887, 0.00501972478669,
     -2.16128738178, -0.158712618219),
    (TWENTY, 1, 0.05, 9.66259693549, 4.56099488196e-09, -7.06917264977, 4.99946042235e-07,
     -0.0516885756118, 0.361688575612),
    (TWENTY, 1, 0.025, 9.66259693549, 4.56099488196e-09, -7.06917264977, 4.99946042235e-07,
     -0.0951856176949, 0.405185617695),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "margin", "alpha", "t_lower", "p_lower", "t_upper", "p_upper", "low", "high"),
    R_TOST,
)
def test_tost_matches_two_one_sided_t_tests_in_r(
    changes, margin, alpha, t_lower, p_lower, t_upper, p_upper, low, high
):
    result = equivalence_test(changes, margin, alpha)
    assert result.t_lower == pytest.approx(t_lower, rel=1e-9)
    assert result.p_lower == pytest.approx(p_lower, rel=1e-8)
    assert result.t_upper == pytest.approx(t_upper, rel=1e-9)
    assert result.p_upper == pytest.approx(p_upper, rel=1e-8)
    assert result.p == max(result.p_lower, result.p_upper)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert result.confidence == pytest.approx(1 - 2 * alpha)
    assert result.equivalent == (result.p < alpha)
    assert result.df == len(changes) - 1 and result.margin == margin


def test_tost_by_hand_on_the_sleep_data():
    # Hand calculation: mean 1.58, SD 1.2299955 (statistics guide), n = 10, so
    # SE = 1.2299955 / sqrt(10) = 0.3889587; margin 1 h:
    # t_L = (1.58 + 1) / 0.3889587 = 6.63310, t_U = (1.58 - 1) / 0.3889587 = 1.49116.
    result = equivalence_test(SLEEP, 1.0)
    se = 1.2299955 / math.sqrt(10)
    assert result.t_lower == pytest.approx(2.58 / se, rel=1e-6)
    assert result.t_upper == pytest.approx(0.58 / se, rel=1e-6)
    assert not result.equivalent  # a rise of 1 h cannot be ruled out


@pytest.mark.parametrize(
    ("changes", "margin", "expected"),
    [
        (TWENTY, 1.0, "The change lies within ±1 h (equivalence p < 0.0001; 90 % CI"),
        (SLEEP, 1.0, "The change cannot be told apart from a rise of 1 h (equivalence p = 0.915"),
        (FIVE, 1.0, "The change cannot be told apart from a fall of 1 h (equivalence p = 0.625"),
        (SLEEP, 0.5, "The change is a rise of more than 0.5 h (90 % CI +0.867 to +2.29 h)."),
        (FIVE, 0.1, "The change is a fall of more than 0.1 h"),
        ([-3.0, 2.5, -1.0, 4.0, 0.5], 1.0, "from a change of 1 h in either direction"),
    ],
)
def test_verdict_in_words(changes, margin, expected):
    assert expected in equivalence_test(changes, margin, unit="h").verdict


@pytest.mark.parametrize("margin", [0, -1, math.nan, math.inf, True, "1"])
def test_a_margin_that_is_not_a_positive_number_is_refused(margin):
    with pytest.raises(AnalysisError, match="margin"):
        equivalence_test(SLEEP, margin)


def test_alpha_of_one_half_or_more_is_refused():
    with pytest.raises(AnalysisError, match=r"below 0\.5"):
        equivalence_test(SLEEP, 1.0, alpha=0.5)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.floats(-20, 20).map(lambda v: round(v, 1)), min_size=2, max_size=15),
    st.floats(0.1, 10),
)
def test_equivalent_exactly_when_the_interval_lies_inside_the_margin(changes, margin):
    if np.ptp(changes) < 0.05:
        changes = [*changes, changes[0] + 1.0]
    result = equivalence_test(changes, margin)
    inside = -margin < result.ci_low and result.ci_high < margin
    assert result.equivalent == inside


def test_paired_change_attaches_the_test_only_with_a_margin():
    baseline, follow_up = np.zeros(10), np.array(SLEEP)
    without = paired_change(baseline, follow_up, n_bootstrap=99)
    assert without.equivalence is None and "No equivalence margin" in without.equivalence_note
    with_margin = paired_change(baseline, follow_up, n_bootstrap=99, margin=3.0, unit="h")
    assert with_margin.equivalence.equivalent and with_margin.equivalence_note is None
    assert with_margin.equivalence.p == equivalence_test(SLEEP, 3.0).p


# --------------------------------------------------------------------------- from the cohort

WIDE = (
    "id,Hb (g/L) 0,Hb (g/L) 2,MCV 0,MCV 2,Na (mmol/L) 0,Na (mmol/L) 2\n"
    "A,120,118,80,78,140,139\nB,131,127,85,84,138,141\nC,110,112,79,76,142,140\n"
    "D,125,119,88,85,139,139\n"
)


@pytest.fixture(scope="module")
def cohort():
    return load_cohort(WIDE.encode(), "units.csv")


def test_default_margin_is_the_labs_meaningful_change_in_the_files_unit(cohort):
    mcv = paired_for(cohort, select(cohort, "mcv", 0, 2))
    assert mcv.equivalence.margin == 3.0  # fL
    hgb = paired_for(cohort, select(cohort, "hgb", 0, 2))
    assert hgb.equivalence.margin == pytest.approx(10.0)  # 1 g/dL = 10 g/L
    assert "±10 g/L" in hgb.equivalence.verdict


def test_a_margin_from_the_settings_wins(cohort):
    result = paired_for(cohort, select(cohort, "hgb", 0, 2), AnalysisSettings(margin=5))
    assert result.equivalence.margin == 5.0


def test_a_lab_without_a_default_margin_says_how_to_give_one(cohort):
    sodium = paired_for(cohort, select(cohort, "Na", 0, 2))
    assert sodium.equivalence is None
    assert "--margin" in sodium.equivalence_note and "mmol/L" in sodium.equivalence_note
    given = paired_for(cohort, select(cohort, "Na", 0, 2), AnalysisSettings(margin=2))
    assert given.equivalence.margin == 2.0


def test_paired_json_has_the_equivalence_keys(capsys):
    args = ["paired", str(DEMO), "--analyte", "hgb", "--baseline", "0", "--follow-up", "2"]
    assert main([*args, "--cohort", "retrospective", "--json", "--margin", "0.5"]) == 0
    equivalence = json.loads(capsys.readouterr().out)["equivalence"]
    keys = {"margin", "p_lower", "p_upper", "p", "ci_low", "ci_high", "confidence", "equivalent"}
    assert keys <= equivalence.keys()
    assert equivalence["margin"] == 0.5 and equivalence["confidence"] == pytest.approx(0.9)
    assert isinstance(equivalence["equivalent"], bool)


@pytest.mark.parametrize("margin", ["0", "-1", "nan"])
def test_a_bad_margin_on_the_command_line_is_one_line(capsys, margin):
    args = ["paired", str(DEMO), "--analyte", "hgb", "--baseline", "0", "--follow-up", "2"]
    assert main([*args, "--margin", margin]) == 2
    assert "margin" in capsys.readouterr().err


def test_margin_without_a_lab_is_refused_for_a_report(tmp_path, capsys):
    assert main(["report", str(DEMO), "--margin", "1", "-o", str(tmp_path / "r.html")]) == 2
    assert "--analyte" in capsys.readouterr().err


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"margin": 0}, "margin"),
        ({"margin": -2.0}, "margin"),
        ({"prior_scale": 0}, "prior scale"),
        ({"cv_within": -1}, "within-subject CV"),
        ({"cv_analytical": float("nan")}, "analytical CV"),
    ],
)
def test_settings_refuse_bad_evidence_options(options, match):
    with pytest.raises(AnalysisError, match=match):
        AnalysisSettings(**options)


def test_reproduce_commands_carry_the_evidence_options(cohort):
    from analytics.filters import CohortFilter
    from analytics.output.commands import commands

    settings = AnalysisSettings(margin=5, prior_scale=1.0, cv_within=3.1)
    lines = commands(cohort, CohortFilter(), selection=select(cohort, "hgb", 0, 2),
                     analysis=settings)  # fmt: skip
    words = "--margin 5 --prior-scale 1 --cv-within 3.1"
    by_command = {line.split()[3]: line for line in lines}
    for command in ("paired", "report", "export"):
        assert words in by_command[command]
    assert "--margin" not in by_command["timecourse"]
    assert AnalysisSettings().evidence_args() == []
