"""Tests for analytics.stats.rcv: the log-normal reference change value per patient."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from analytics import load_cohort
from analytics.analysis import paired_for, select
from analytics.cli import main
from analytics.errors import AnalysisError
from analytics.labs import LABS
from analytics.settings import AnalysisSettings
from analytics.stats.rcv import biological_variation_table, rcv_limits, reference_change

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Hand calculation, hemoglobin with CVa 1.4 % and CVi 2.8 %:
#   CVa² + CVi² = 0.014² + 0.028² = 0.000196 + 0.000784 = 0.00098
#   σ = √ln(1.00098) = √0.000979520 = 0.0312973
#   1.96 · √2 · σ = 2.771859 · 0.0312973 = 0.0867518
#   rise: exp(+0.0867518) = 1.090626 → +9.0626 %;  fall: exp(−0.0867518) = 0.916903 → −8.3097 %
HGB_RISE, HGB_FALL = 9.0626, -8.3097


def test_limits_by_hand():
    rise, fall = rcv_limits(1.4, 2.8)
    assert rise == pytest.approx(HGB_RISE, abs=5e-4)
    assert fall == pytest.approx(HGB_FALL, abs=5e-4)
    # asymmetric: the rise and the fall are reciprocal ratios, so the rise is larger
    assert (1 + rise / 100) * (1 + fall / 100) == pytest.approx(1.0)
    assert rise > -fall


@pytest.mark.parametrize(
    ("baseline", "follow_up", "percent", "beyond"),
    [
        # ratio 13.1 / 12 = 1.09167 > 1.090626: a rise beyond the RCV
        (12.0, 13.1, 9.1667, "rise"),
        # ratio 13.0 / 12 = 1.08333: within
        (12.0, 13.0, 8.3333, None),
        # ratio 11.0 / 12 = 0.91667 < 0.916903: a fall beyond the RCV
        (12.0, 11.0, -8.3333, "fall"),
        # ratio 11.01 / 12 = 0.9175: within
        (12.0, 11.01, -8.25, None),
        # a fall of 8.5 %: beyond, though a rise of 8.5 % would not be
        (10.0, 9.15, -8.5, "fall"),
        (10.0, 10.85, 8.5, None),
    ],
)
def test_each_patient_against_the_hand_calculated_limits(baseline, follow_up, percent, beyond):
    result = reference_change([baseline], [follow_up], ["P"], 1.4, 2.8, "hand")
    patient = result.patients[0]
    assert patient.percent_change == pytest.approx(percent, abs=1e-4)
    assert patient.beyond == beyond and patient.judged and patient.note is None


def test_counts_and_sentence():
    result = reference_change(
        [12.0, 12.0, 12.0, 12.0], [13.1, 11.0, 12.2, 10.0], list("ABCD"), 1.4, 2.8, "hand"
    )
    assert (result.n_rise, result.n_fall, result.n_undecided) == (1, 2, 0)
    assert result.sentence().startswith(
        "3 of 4 patients changed by more than biological and analytical variation allow "
        "(1 rose by more than 9.06 %, 2 fell by more than 8.31 %"
    )


# Censored values: ferritin, CVa 7.25 %, CVi 14.5 % → rise limit +56.3 %, fall −36.0 %.
CENSORED = [
    # baseline <5 entered at 5, follow-up 40: the ratio is at least 8 → a rise whatever
    (5.0, 40.0, (("<", 5.0), ("", math.nan)), "rise", True),
    # baseline <5, follow-up 6: the ratio is above 1.2 but may or may not exceed 1.563
    (5.0, 6.0, (("<", 5.0), ("", math.nan)), None, False),
    # under the "half" rule baseline <5 enters as 2.5; the limit still decides
    (2.5, 6.0, (("<", 5.0), ("", math.nan)), None, False),
    # follow-up <5 from 100: the ratio is below 0.05 → a fall whatever
    (100.0, 5.0, (("", math.nan), ("<", 5.0)), "fall", True),
    # baseline >1000 to 300: the ratio is below 0.3 → a fall whatever
    (1000.0, 300.0, ((">", 1000.0), ("", math.nan)), "fall", True),
    # follow-up >1000 from 900: the ratio is above 1.11, undecided
    (900.0, 1000.0, (("", math.nan), (">", 1000.0)), None, False),
    # both censored below: nothing is known about the ratio
    (5.0, 5.0, (("<", 5.0), ("<", 5.0)), None, False),
]


@pytest.mark.parametrize(("baseline", "follow_up", "marks", "beyond", "judged"), CENSORED)
def test_censored_values_are_judged_only_when_the_limit_decides(
    baseline, follow_up, marks, beyond, judged
):
    result = reference_change([baseline], [follow_up], ["P"], 7.25, 14.5, "t", censored=[marks])
    patient = result.patients[0]
    assert (patient.beyond, patient.judged) == (beyond, judged)
    assert "censored" in patient.note
    assert ("not judged" in patient.note) == (not judged)


@pytest.mark.parametrize(("baseline", "follow_up"), [(0.0, 5.0), (5.0, 0.0), (-1.0, 3.0)])
def test_a_value_of_zero_or_below_is_not_judged(baseline, follow_up):
    patient = reference_change([baseline], [follow_up], ["P"], 7.25, 14.5, "t").patients[0]
    assert patient.percent_change is None and patient.beyond is None and not patient.judged
    assert "above 0" in patient.note


@pytest.mark.parametrize(
    ("cv_a", "cv_i", "match"),
    [(0, 0, "cannot both be 0"), (-1, 3, "analytical CV"), (1, math.nan, "within-subject CV"),
     (1, 900, "within-subject CV"), ("1", 2, "analytical CV")],
)  # fmt: skip
def test_bad_cvs_are_refused(cv_a, cv_i, match):
    with pytest.raises(AnalysisError, match=match):
        rcv_limits(cv_a, cv_i)


def test_every_lab_with_a_meaningful_change_has_cvs_and_a_source():
    for lab in LABS.values():
        if lab.meaningful_change is not None:
            assert lab.cv_within and lab.cv_analytical is not None and lab.cv_source, lab.key


def test_readme_biological_variation_table_is_the_catalogue():
    begin = "<!-- biological variation table: begin -->\n"
    end = "\n<!-- biological variation table: end -->"
    assert README.count(begin) == 1 and README.count(end) == 1
    written = README.split(begin)[1].split(end)[0]
    assert written == biological_variation_table(), "paste: python -m analytics.stats.rcv"


def test_readme_states_the_formula():
    assert "σ = √(ln(1 + CVa² + CVi²))" in README
    assert "follow-up / baseline > exp(+1.96·√2·σ)" in README
    assert "follow-up / baseline < exp(−1.96·√2·σ)" in README


# --------------------------------------------------------------------------- from the cohort

CSV = (
    "id,Ferritin (ng/mL) 0,Ferritin (ng/mL) 2,Na 0,Na 2\n"
    "A,<5,40,140,139\nB,50,52,138,141\nC,120,60,142,140\nD,80,<5,139,139\nE,30,31,140,141\n"
)


@pytest.fixture(scope="module")
def ferritin_cohort():
    return load_cohort(CSV.encode(), "ferritin.csv")


def test_paired_for_classifies_with_the_catalogue_cvs_and_censoring(ferritin_cohort):
    result = paired_for(ferritin_cohort, select(ferritin_cohort, "ferritin", 0, 2))
    lab = LABS["ferritin"]
    assert (result.rcv.cv_analytical, result.rcv.cv_within) == (lab.cv_analytical, lab.cv_within)
    assert result.rcv.source == lab.cv_source
    beyond = {p.patient: (p.beyond, p.judged) for p in result.rcv.patients}
    # A: <5 → 40 (a rise whatever); C: 120 → 60 (−50 % < −36.0 %); D: 80 → <5 (a fall)
    assert beyond == {
        "A": ("rise", True),
        "B": (None, True),
        "C": ("fall", True),
        "D": ("fall", True),
        "E": (None, True),
    }


def test_cvs_from_the_settings_are_used_and_named(ferritin_cohort):
    selection = select(ferritin_cohort, "ferritin", 0, 2)
    mine = paired_for(ferritin_cohort, selection, AnalysisSettings(cv_analytical=1, cv_within=2))
    assert mine.rcv.source == "CVa and CVi set by you"
    assert mine.rcv.rise_limit_percent == pytest.approx(rcv_limits(1, 2)[0])
    one = paired_for(ferritin_cohort, selection, AnalysisSettings(cv_analytical=3))
    assert one.rcv.source.startswith("CVa set by you; CVi: day-to-day")
    assert one.rcv.cv_within == LABS["ferritin"].cv_within


def test_a_lab_without_cvs_says_what_to_give(ferritin_cohort):
    result = paired_for(ferritin_cohort, select(ferritin_cohort, "Na", 0, 2))
    assert result.rcv is None
    assert "analytical CV and within-subject CV" in result.rcv_note
    assert "--cv-analytical" in result.rcv_note
    given = AnalysisSettings(cv_analytical=0.5, cv_within=0.6)
    assert paired_for(ferritin_cohort, select(ferritin_cohort, "Na", 0, 2), given).rcv


def test_paired_json_has_the_rcv_keys(capsys):
    args = ["paired", str(DEMO), "--analyte", "mcv", "--baseline", "0", "--follow-up", "2"]
    assert main([*args, "--cohort", "retrospective", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rcv = out["rcv"]
    keys = {"cv_analytical", "cv_within", "source", "rise_limit_percent", "fall_limit_percent"}
    assert keys | {"patients"} <= rcv.keys()
    assert [p["patient"] for p in rcv["patients"]] == out["patient_ids"]
    assert {p["beyond"] for p in rcv["patients"]} <= {"rise", "fall", None}
    for patient, b, f in zip(
        rcv["patients"], out["baseline_values"], out["follow_up_values"], strict=True
    ):
        assert {"patient", "percent_change", "beyond"} <= patient.keys()
        assert patient["percent_change"] == pytest.approx((f / b - 1) * 100)
        expected = (
            "rise"
            if patient["percent_change"] > rcv["rise_limit_percent"]
            else "fall"
            if patient["percent_change"] < rcv["fall_limit_percent"]
            else None
        )
        assert patient["beyond"] == expected


def test_cv_flags_on_the_command_line(capsys):
    args = ["paired", str(DEMO), "--analyte", "mcv", "--baseline", "0", "--follow-up", "2"]
    assert main([*args, "--json", "--cv-analytical", "0.4", "--cv-within", "0.9"]) == 0
    rcv = json.loads(capsys.readouterr().out)["rcv"]
    assert (rcv["cv_analytical"], rcv["cv_within"]) == (0.4, 0.9)
    assert rcv["rise_limit_percent"] == pytest.approx(rcv_limits(0.4, 0.9)[0])
    assert main([*args, "--cv-within", "-2"]) == 2
    assert "within-subject CV" in capsys.readouterr().err


def test_text_output_names_the_patients_beyond(capsys):
    args = ["paired", str(DEMO), "--analyte", "hgb", "--baseline", "0", "--follow-up", "2"]
    assert main([*args, "--cohort", "retrospective"]) == 0
    text = capsys.readouterr().out
    assert "Equivalence: The change lies within ±1 g/dL" in text
    assert "Bayes factor: BF01 = " in text
    assert "Reference change value: " in text and "  CVs: CVi: 39 healthy adults" in text
