"""Excluded patients in a line, the patient flow, and the overview's numbers and caveats."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analytics import load_cohort
from analytics.analysis import select
from analytics.filters import CohortFilter
from analytics.flow import (
    ExcludedGroup,
    excluded_sentence,
    in_sentence,
    pair_reasons,
    patient_flow,
    summarise_excluded,
)
from analytics.overview import (
    default_labs,
    default_times,
    lab_overview,
    overview_labs,
    rank_test_floor,
)
from analytics.viz.figures import make_figure

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"


@pytest.fixture(scope="module")
def demo():
    return load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)


def _patients(cohorts: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"cohort": list(cohorts.values())}, index=list(cohorts))


# --------------------------------------------------------------------------- the summary line


def test_excluded_patients_of_a_whole_cohort_are_named_by_the_cohort():
    patients = _patients({"R1": "retro", "R2": "retro", "R3": "retro", "R4": "retro", "P1": "pro"})
    excluded = [(pid, "no baseline value") for pid in ("R1", "R2", "R3", "R4")]
    reasons = {pid: "without hepcidin values" for pid in ("R1", "R2", "R3", "R4")}
    groups = summarise_excluded(excluded, patients, reasons)
    assert groups == (
        ExcludedGroup("without hepcidin values", ("R1", "R2", "R3", "R4"), "retro", True),
    )
    assert groups[0].sentence() == "4 patients without hepcidin values: the retro cohort"
    assert excluded_sentence(groups) == (
        "Not analysed — 4 patients without hepcidin values: the retro cohort."
    )


def test_part_of_a_cohort_is_said_to_be_in_it_and_few_patients_are_named():
    patients = _patients({"R1": "retro", "R2": "retro", "R3": "retro", "P1": "pro"})
    groups = summarise_excluded([("R1", "x"), ("R2", "x")], patients, {"R1": "w", "R2": "w"})
    assert groups[0].sentence() == "2 patients w: R1, R2 (all in the retro cohort)"
    many = _patients({f"R{i}": "retro" for i in range(6)} | {"P1": "pro"})
    excluded = [(f"R{i}", "x") for i in range(5)]
    assert summarise_excluded(excluded, many)[0].sentence() == (
        "5 patients (x), all in the retro cohort"
    )


def test_groups_follow_the_reasons_in_order_and_mixed_cohorts_are_not_named():
    patients = _patients({"A": "retro", "B": "pro", "C": "pro", "D": None, "E": "pro"})
    excluded = [("A", "no follow-up value"), ("B", "no baseline value"), ("C", "no subgroup")]
    reasons = {"A": "without MCV at month 2", "B": "without MCV at month 2"}
    groups = summarise_excluded(excluded, patients, reasons)
    assert [g.sentence() for g in groups] == [
        "2 patients without MCV at month 2: A, B",
        "1 patient (no subgroup): C (all in the pro cohort)",
    ]


def test_a_selection_of_one_cohort_does_not_name_it():
    patients = _patients({"A": "retro", "B": "retro", "C": "retro"})
    groups = summarise_excluded([("A", "x"), ("B", "x")], patients)
    assert groups[0].cohort is None
    assert groups[0].sentence() == "2 patients (x): A, B"
    assert summarise_excluded([], patients) == ()
    assert excluded_sentence(()) == ""


def test_pair_reasons_say_which_value_is_missing_and_name_a_censored_one():
    data = (
        b"id,cohort,Hepcidin 0,Hepcidin 1,Hepcidin 2\n"
        b"A,x,10,9,8\n"  # complete
        b"B,x,,,\n"  # no value at all
        b"C,x,,7,\n"  # neither time, a value between
        b"D,x,,7,6\n"  # no baseline
        b"E,x,10,7,\n"  # no follow-up
        b"F,x,10,,<5\n"  # censored follow-up
    )
    cohort = load_cohort(data, "h.csv")
    selection = select(cohort, "hepcidin", 0, 2)
    assert pair_reasons(cohort, selection, "limit") == {
        "B": "without hepcidin values",
        "C": "without hepcidin at month 0 or month 2",
        "D": "without hepcidin at month 0",
        "E": "without hepcidin at month 2",
    }
    assert pair_reasons(cohort, selection, "exclude")["F"] == (
        "with a censored hepcidin value left out"
    )


def test_lab_names_read_in_lower_case_inside_a_sentence_unless_they_are_acronyms():
    assert [in_sentence(n) for n in ("Hemoglobin", "MCV", "TIBC", "Na+", "eGFR")] == [
        "hemoglobin",
        "MCV",
        "TIBC",
        "Na+",
        "eGFR",
    ]


# --------------------------------------------------------------------------- patient flow


def _counts(flow) -> list[int]:
    return [step.n for step in flow.steps]


def test_flow_counts_the_demo_from_the_file_to_the_pairs(demo):
    everyone = CohortFilter().apply(demo)
    # demo: hepcidin only in the 5 prospective patients (thesis Table 5)
    hepcidin = patient_flow(everyone, select(demo, "hepcidin", 0, 2), "limit")
    assert _counts(hepcidin) == [25, 25, 5, 5, 5]
    assert hepcidin.steps[2].left_out == "20 without hepcidin at month 0"
    # MCV at month 6 only in the 20 retrospective patients (thesis Table 3)
    mcv = patient_flow(everyone, select(demo, "mcv", 0, 6), "limit")
    assert _counts(mcv) == [25, 25, 25, 20, 20]
    assert mcv.steps[3].left_out == "5 without MCV at month 6"
    # thesis Tables 1 and 4: 10 retrospective and 2 prospective women
    women = patient_flow(CohortFilter(sex="F").apply(demo), select(demo, "mcv", 0, 2), "limit")
    assert _counts(women) == [25, 12, 12, 12, 12]
    assert women.steps[1].left_out == "13 not matching the filters"


def test_flow_counts_a_censored_value_until_the_rule_leaves_it_out():
    data = b"id,Ferritin 0,Ferritin 2\nA,<5,40\nB,30,\nC,50,45\nD,60,55\n"
    cohort = load_cohort(data, "f.csv")
    everyone = CohortFilter().apply(cohort)
    selection = select(cohort, "ferritin", 0, 2)
    assert _counts(patient_flow(everyone, selection, "limit")) == [4, 4, 4, 3, 3]
    excluded = patient_flow(everyone, selection, "exclude")
    assert _counts(excluded) == [4, 4, 4, 3, 2]
    assert excluded.steps[-1].left_out == "1 with a censored value left out"
    assert excluded.to_frame()["patients"].tolist() == [4, 4, 4, 3, 2]


def test_flow_figure_draws_the_counts_and_follows_the_filter(demo):
    figure = make_figure("flow", CohortFilter(cohort="prospective").apply(demo),
                         select(demo, "hepcidin", 0, 2))  # fmt: skip
    spec = figure.chart.to_dict()
    rows = next(iter(spec["datasets"].values()))
    steps = {row["row"]: row["n"] for row in rows if row["kind"] == "step"}
    assert steps == {
        "In the file": 25,
        "After the filters": 5,
        "With hepcidin at month 0": 5,
        "With hepcidin at month 2 too": 5,
        "Analysed (complete pairs)": 5,
    }
    assert [row["row"] for row in rows if row["kind"] == "left"] == [
        "− 20 not matching the filters"
    ]
    assert figure.title == "Patient flow, Hepcidin (ng/mL), month 0 → month 2: 5 of 25 analysed"
    assert figure.filename_stem == "hepcidin_flow_0-2mo_prospective"
    assert json.dumps(spec)  # a plain spec, as the exports need


# --------------------------------------------------------------------------- the overview


def test_headline_labs_and_default_times_on_the_demo(demo):
    assert default_labs(demo) == ["mcv", "hepcidin"]
    assert overview_labs(demo) == ["hgb", "mcv", "tsat", "ferritin", "hepcidin"]
    assert default_times(demo, "mcv") == (0.0, 2.0)  # 25 pairs at month 2, 20 at month 6
    # hepcidin: 5 pairs at 2 weeks, month 1 and month 2: the latest
    assert default_times(demo, "hepcidin") == (0.0, 2.0)
    retrospective = CohortFilter(cohort="retrospective").apply(demo).cohort
    # 20 pairs at month 2 and at month 6: the whole file breaks the tie (25 at month 2)
    assert default_times(retrospective, "mcv", whole=demo) == (0.0, 2.0)
    assert default_times(retrospective, "mcv") == (0.0, 6.0)


def test_other_labs_are_offered_when_the_headline_labs_are_missing():
    data = b"id,Hgb 0,Hgb 2,TSAT 0,TSAT 2,Ferritin 0\nA,10,11,20,22,50\nB,11,12,25,24,60\n"
    cohort = load_cohort(data, "t.csv")
    assert default_labs(cohort) == ["hgb", "tsat"]
    assert overview_labs(cohort) == ["hgb", "tsat"]


def test_rank_test_floor():
    # exact signed-rank and sign-flip: smallest two-sided p = 2 / 2^n
    assert rank_test_floor(5, 0.05) == 0.0625
    assert rank_test_floor(6, 0.05) is None
    assert rank_test_floor(7, 0.01) == 0.015625
    assert rank_test_floor(8, 0.01) is None


def test_hepcidin_overview_agrees_with_r_and_says_what_5_pairs_cannot_show(demo):
    result = lab_overview(demo, "hepcidin", whole=demo)
    # R: t.test(f, b, paired = TRUE) on the demo's hepcidin at months 0 and 2:
    # mean -28, 95 % CI -49.22719 to -6.772811, p = 0.02153651;
    # pwr.t.test(n = 5, power = 0.8, sig.level = 0.05, type = "one.sample")$d * sd = 28.75509
    assert result.n_pairs == 5
    assert result.summary.mean == pytest.approx(-28.0)
    assert (result.summary.ci_low, result.summary.ci_high) == pytest.approx(
        (-49.22719, -6.772811), abs=1e-5
    )
    assert result.summary.p_two_sided == pytest.approx(0.02153651, rel=1e-6)
    assert result.mde == pytest.approx(28.75509, rel=1e-5)
    # R: t.test(d[-i])$p.value is above 0.05 without P01, P02, P04 or P05, 0.0174 without P03
    assert result.fragile == ("P01", "P02", "P04", "P05")
    assert result.sentence() == (
        "Hepcidin fell on average from month 0 to month 2: mean change −28.0 ng/mL "
        "(95 % CI −49.2 to −6.77 ng/mL), p = 0.0215, 5 pairs."
    )
    caveats = result.caveats()
    assert caveats[0].startswith("Smallest change 5 pairs can detect with 80 % power: 28.8 ng/mL")
    assert caveats[0].endswith(
        "With so few pairs that SD, and so this figure, is itself uncertain."
    )
    assert caveats[1].startswith("With 5 pairs no rank test can reach p < 0.05")
    assert caveats[2] == "Removing any one of 4 patients (P01, P02, P04, P05) moves p across 0.05."
    assert result.is_fragile


def test_mcv_overview_has_no_fragility_at_25_pairs(demo):
    result = lab_overview(demo, "mcv")
    # R: t.test(...) p = 0.001146341; every leave-one-out p stays below 0.0025
    assert result.summary.p_two_sided == pytest.approx(0.001146341, rel=1e-6)
    assert result.rank_floor is None and result.fragile == () and result.reverses == ()
    assert result.caveats()[-1] == "No single patient's removal moves p across 0.05."
    assert result.caveats()[0].endswith("a smaller true change would often be missed.")
    assert not result.is_fragile


def test_two_pairs_say_that_no_rank_test_and_no_leave_one_out_is_possible(demo):
    women = CohortFilter(sex="F").apply(demo).cohort  # thesis Table 4: 2 prospective women
    result = lab_overview(women, "hepcidin", whole=demo)
    assert result.n_pairs == 2
    assert result.rank_floor == 0.5
    assert result.caveats()[1:] == [
        "With 2 pairs no rank test can reach p < 0.05: the smallest two-sided p a signed-rank "
        "or sign-flip test can give is 0.5.",
        "Without either patient a single pair is left: no test remains.",
    ]


def test_a_lab_these_patients_lack_is_a_problem_not_an_error(demo):
    retrospective = CohortFilter(cohort="retrospective").apply(demo).cohort
    result = lab_overview(retrospective, "hepcidin")
    assert result.summary is None
    assert result.problem == "None of these patients has a hepcidin value."
    assert result.caveats() == []
    one = load_cohort(b"id,MCV 0,MCV 2\nA,80,79\nB,82,\n", "one.csv")
    single = lab_overview(one, "mcv")
    assert single.summary is None and single.n_pairs == 1
    assert "needs at least 2" in single.problem


def test_report_leads_with_the_summary_and_draws_the_flow(demo):
    from analytics.output.view import view_outputs

    outputs = view_outputs(demo, CohortFilter(), analyte="hepcidin", baseline=0, follow_up=2)
    html = outputs.report_html().decode("utf-8")
    lead = html.split('<p class="lead">', 1)[1].split("</p>", 1)[0]
    assert lead.endswith(
        "Not analysed — 20 patients without hepcidin values: the retrospective cohort."
    )
    assert "R01" not in lead
    assert "Patient flow, Hepcidin (ng/mL), month 0 → month 2: 5 of 25 analysed" in html
