"""Tests for analytics.stats.prevalence: WHO thresholds by age/sex, exact CIs, exclusions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analytics.errors import AnalysisError
from analytics.stats.prevalence import Thresholds, prevalence, prevalence_by_time


def test_clopper_pearson_3_of_10_matches_r():
    # R: binom.test(3, 10)$conf.int = 0.06673951 0.65245285
    values = [10.0, 11.0, 11.5, 13.0, 14.0, 13.5, 12.5, 15.0, 13.2, 14.1]  # 3 below 12
    result = prevalence(values, [30] * 10, ["F"] * 10, "anemia")
    assert (result.n_assessed, result.n_affected) == (10, 3)
    assert result.proportion == pytest.approx(0.3)
    assert result.ci_low == pytest.approx(0.06673951, abs=1e-8)
    assert result.ci_high == pytest.approx(0.65245285, abs=1e-8)
    assert result.ci_method == "exact Clopper–Pearson"


@pytest.mark.parametrize(
    ("age", "sex", "expected"),
    [
        # clinical.md, WHO 2011 haemoglobin cut-offs (g/dL); bands are half-open.
        (0.3, "F", None),  # under 6 months: no cut-off
        (0.5, None, 11.0),  # 6–59 months, sex not needed
        (4.99, "M", 11.0),
        (5.0, "M", 11.5),  # 5–11 years
        (11.9, "F", 11.5),
        (12.0, "F", 12.0),  # 12–14 years
        (14.9, None, 12.0),
        (15.0, "female", 12.0),  # non-pregnant women ≥ 15
        (15.0, "male", 13.0),  # men ≥ 15
        (62.0, "male", 13.0),
        (20.0, None, None),  # ≥ 15 without sex: no cut-off
    ],
)
def test_anemia_threshold_by_age_and_sex(age, sex, expected):
    normalised = {"F": "female", "M": "male"}.get(sex, sex)
    assert Thresholds().anemia_threshold(age, normalised) == expected


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        # clinical.md, MCV lower limits (fL).
        (0.2, None),
        (0.5, 73.0),
        (1.9, 73.0),
        (2.0, 75.0),
        (5.9, 75.0),
        (6.0, 78.0),
        (11.9, 78.0),
        (12.0, 80.0),
        (17.9, 80.0),
        (18.0, 80.0),
        (75.0, 80.0),
    ],
)
def test_microcytosis_threshold_by_age(age, expected):
    assert Thresholds().microcytosis_threshold(age) == expected


@pytest.mark.parametrize(
    ("value", "age", "sex", "affected"),
    [
        (12.9, 40, "M", True),
        (12.9, 40, "F", False),
        (13.0, 40, "M", False),  # equal to the cut-off is not below it
        (11.4, 8, None, True),  # a child needs no sex
        (11.6, 8, "F", False),
    ],
)
def test_classification(value, age, sex, affected):
    result = prevalence([value], [age], [sex], "anemia")
    assert result.n_affected == int(affected)
    assert result.patients[0].threshold == Thresholds().anemia_threshold(
        age, {"M": "male", "F": "female"}.get(sex)
    )


def test_exclusions_with_reasons():
    ids = ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]
    values = pd.Series([11.0, np.nan, 12.5, 10.0, 12.0, 12.0, 11.0], index=ids)
    ages = pd.Series([62, 39, np.nan, 0.25, 40, 45, 9], index=ids)
    sexes = pd.Series(["Male ", "F", "M", "F", None, "X", None], index=ids)
    result = prevalence(values, ages, sexes, "anemia")
    assert result.excluded == (
        ("R2", "no Hgb value"),
        ("R3", "no age"),
        ("R4", "younger than 6 months: no threshold"),
        ("R5", "no sex recorded, needed from age 15"),
        ("R6", "sex 'X' not recognised, needed from age 15"),
    )
    assert result.n_assessed == 2  # R1 (man, 11.0 < 13) and R7 (child, 11.0 < 11.5)
    assert result.affected_patient_ids == ("R1", "R7")
    assert "5 not assessed" in result.sentence()


def test_series_are_aligned_by_patient():
    values = pd.Series([75.0, 79.0], index=["A", "B"])
    ages = pd.Series([30.0, 4.0], index=["B", "A"])  # A is 4 (limit 75), B is 30 (80)
    result = prevalence(values, ages, None, "microcytosis")
    assert [p.threshold for p in result.patients] == [75.0, 80.0]
    assert result.affected_patient_ids == ("B",)


def test_nobody_assessable_is_refused():
    with pytest.raises(AnalysisError, match="No patient could be assessed"):
        prevalence([np.nan, 12.0], [30, np.nan], ["F", "F"], "anemia")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: prevalence([12.0], [30], ["F"], "iron"), "anemia"),
        (lambda: prevalence([12.0, 11.0], [30], ["F"], "anemia"), "do not match"),
        (lambda: prevalence(["12,5"], [30], ["F"], "anemia"), "not a number"),
        (lambda: Thresholds(anemia_men=-1.0), "positive number"),
    ],
)
def test_unusable_requests_are_refused(call, message):
    with pytest.raises(AnalysisError, match=message):
        call()


def test_thresholds_describe_their_source():
    assert "WHO 2011 haemoglobin cut-offs" in Thresholds().describe("anemia")
    assert "13.0 in men" in Thresholds().describe("anemia")
    assert "80.0 in adults" in Thresholds().describe("microcytosis")
    edited = Thresholds(anemia_men=13.5)
    assert not edited.is_default()
    assert "user-edited" in edited.describe("anemia") and "13.5 in men" in edited.describe()
    result = prevalence([13.2], [50], ["M"], "anemia", edited)
    assert result.n_affected == 1 and "user-edited" in result.thresholds_description


def test_prevalence_by_time():
    ids = ["P1", "P2", "P3", "P4"]
    mcv = pd.DataFrame(
        {0: [84.0, 81.0, 79.0, 90.0], 2: [79.0, 78.0, np.nan, 85.0], 6: [np.nan] * 4},
        index=ids,
    )
    ages = pd.Series([40, 10, 30, 16], index=ids)
    table = prevalence_by_time(mcv, ages, None, "microcytosis")
    assert table["time"].tolist() == [0, 2, 6]
    assert table["n_assessed"].tolist() == [4, 3, 0]
    # Month 0: only P3 (79 < 80). Month 2: P1 (79 < 80); P2 is 10 years old (78 not < 78).
    assert table["n_affected"].tolist() == [1, 1, 0]
    assert table.loc[0, "proportion"] == pytest.approx(0.25)
    assert np.isnan(table.loc[2, "proportion"])
    assert table.loc[1, "excluded"] == "P3 (no MCV value)"
    assert table.loc[0, "thresholds"].startswith("Microcytosis")


def test_outputs_are_json_ready():
    result = prevalence([11.0, 12.5], [30, 40], ["F", "F"], "anemia")
    json.dumps(result.to_dict(), allow_nan=False)
    assert list(result.to_frame().columns) == ["quantity", "label", "value"]
    assert result.patients_frame()["affected"].tolist() == [True, False]
    assert result.sentence().startswith("1 of 2 patients had anemia (50 %")
