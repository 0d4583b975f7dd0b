"""Values beyond a detection limit (``<5``, ``>100``): drawn hollow with the rule named in
every chart of patient values or changes, flagged in the tables and their exports, and
counted in the paired sentence.

Golden values are worked by hand from the small file below (five patients, hepcidin at
months 0, 2 and 6): A is ``<5`` at months 0 and 2 (a zero change under the "limit"
rule), B is ``<5`` at month 2, E is ``>100`` at month 0.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from test_charts import find, rows, units

import analytics
from analytics.analysis import paired_for, select
from analytics.filters import CohortFilter
from analytics.output.files import table_csv, tables_xlsx
from analytics.output.view import view_outputs
from analytics.settings import AnalysisSettings
from analytics.viz.censored import rule_words
from analytics.viz.figures import make_figure, patient_lines_figure

CSV = (
    b"id,sex,Hepcidin (ng/mL) 0,Hepcidin (ng/mL) 2,Hepcidin (ng/mL) 6\n"
    b"A,F,<5,<5,8\n"
    b"B,M,12,<5,6\n"
    b"C,F,20,15,\n"
    b"D,M,30,22,10\n"
    b"E,F,>100,40,\n"
)
LIMIT_LEGEND = (
    "Hollow: beyond a detection limit (<5 drawn at the limit 5; >100 drawn at the limit 100)"
)


@pytest.fixture(scope="module")
def cohort():
    return analytics.load_cohort(CSV, "censored.csv")


def _figure(cohort, chart: str, rule: str = "limit"):
    selection = select(cohort, "hepcidin", 0, 2)
    return make_figure(
        chart, CohortFilter().apply(cohort), selection, analysis=AnalysisSettings(censored=rule)
    )


def _rings(spec: dict) -> tuple[dict, list[dict]]:
    """The hollow-ring layer (its legend names the rule) and the rows it marks."""
    for unit in units(spec):
        if unit.get("encoding", {}).get("shape", {}).get("field") == "censored_legend":
            return unit, rows(spec, unit)
    raise AssertionError("no hollow marks for censored values")


def test_change_bars_draw_censored_patients_hollow_with_the_rule_named(cohort):
    spec = _figure(cohort, "change").chart.to_dict()
    bars = find(spec, "bar", x="patient")
    # light, outlined bars for a censored patient; solid for a measured one
    opacity = bars["encoding"]["fillOpacity"]
    assert opacity["condition"][0]["test"] == "datum['censored'] != ''"
    assert opacity["condition"][0]["value"] < opacity["value"] == 1.0
    by_patient = {row["patient"]: row for row in rows(spec, bars)}
    assert {p: r["censored"] for p, r in by_patient.items()} == {
        "A": "<5 → <5",
        "B": "to <5",
        "C": "",
        "D": "",
        "E": "from >100",
    }
    ring, marked = _rings(spec)
    assert ring["encoding"]["shape"]["scale"]["domain"] == [LIMIT_LEGEND]
    # A is censored at both times: a zero change, still marked (ring and label at 0)
    assert {r["patient"]: r["y"] for r in marked} == {"A": 0.0, "B": -7.0, "E": -60.0}
    labels = find(spec, "text", text="censored")
    assert [r["censored"] for r in rows(spec, labels)] == ["<5 → <5", "to <5", "from >100"]


def test_half_the_limit_is_named_in_the_legend_and_drawn(cohort):
    spec = _figure(cohort, "change", "half").chart.to_dict()
    ring, marked = _rings(spec)
    assert ring["encoding"]["shape"]["scale"]["domain"] == [
        "Hollow: beyond a detection limit (<5 drawn at half the limit, 2.5; "
        ">100 drawn at the limit 100)"
    ]
    # B: 12 -> 2.5 (half of 5); E: 100 -> 40 (at the limit above)
    assert {r["patient"]: r["y"] for r in marked} == {"A": 0.0, "B": -9.5, "E": -60.0}


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        # one ring per censored value: A twice, B at month 2, E at month 0
        ("before-after", ["<5", "<5", "<5", ">100"]),
        ("estimation", ["<5", "<5", "<5", ">100"]),
        # one ring per patient with a censored value
        ("mean-difference", ["<5 → <5", "to <5", "from >100"]),
        ("qq", ["from >100", "to <5", "<5 → <5"]),  # in the order of the changes
    ],
)
def test_paired_charts_mark_censored_values(cohort, chart, expected):
    spec = _figure(cohort, chart).chart.to_dict()
    ring, marked = _rings(spec)
    assert ring["encoding"]["shape"]["scale"]["domain"] == [LIMIT_LEGEND]
    assert [r["censored"] for r in marked] == expected


def test_trajectories_and_patient_lines_mark_censored_values(cohort):
    trajectory = _figure(cohort, "trajectory").chart.to_dict()
    _, marked = _rings(trajectory)
    assert sorted((r["patient"], r["time"], r["censored"]) for r in marked) == [
        ("A", 0.0, "<5"),
        ("A", 2.0, "<5"),
        ("B", 2.0, "<5"),
        ("E", 0.0, ">100"),
    ]
    lines = patient_lines_figure(CohortFilter().apply(cohort), "hepcidin").chart.to_dict()
    ring, marked = _rings(lines)
    assert ring["encoding"]["shape"]["scale"]["domain"] == [LIMIT_LEGEND]
    assert len(marked) == 4


def test_values_left_out_are_not_drawn_and_are_named(cohort):
    figure = _figure(cohort, "change", "exclude")
    spec = figure.chart.to_dict()
    assert "censored_legend" not in str(spec)
    assert [r["patient"] for r in rows(spec, find(spec, "bar", x="patient"))] == ["C", "D"]
    reasons = dict(figure.missing)
    assert set(reasons) == {"A", "B", "E"}
    assert "(censored value <5, <5 left out)" in reasons["A"]


def test_rule_words_name_each_limit_or_summarise_many():
    assert rule_words(["<5", "", "<5"], "limit") == "<5 drawn at the limit 5"
    many = rule_words(["<1", "<2", "<3", "<4"], "limit")
    assert many == "4 different detection limits, values drawn at their limit"


def test_pairs_table_flags_the_censored_times_in_csv_and_xlsx(cohort):
    view = view_outputs(cohort, CohortFilter(), analyte="hepcidin", baseline=0, follow_up=2)
    table = view.tables["hepcidin_pairs"].set_index("patient")
    assert table["censored"].to_dict() == {
        "A": "month 0 <5; month 2 <5",
        "B": "month 2 <5",
        "C": "",
        "D": "",
        "E": "month 0 >100",
    }
    csv = table_csv(view.tables["hepcidin_pairs"]).decode("utf-8-sig")
    header = csv.splitlines()[0].split(",")
    assert "censored" in header
    assert "month 0 <5; month 2 <5" in csv
    sheet = openpyxl.load_workbook(
        io.BytesIO(tables_xlsx({"pairs": view.tables["hepcidin_pairs"]}))
    )
    values = [[cell.value for cell in row] for row in sheet.worksheets[0].iter_rows()]
    column = values[0].index("censored")
    assert [row[column] for row in values[1:]] == [
        "month 0 <5; month 2 <5",
        "month 2 <5",
        "",
        "",
        "month 0 >100",
    ]


def test_patients_table_flags_every_censored_value(cohort):
    from ui.tables import patients_table

    table = patients_table(cohort)
    assert table["censored"].to_dict() == {
        "A": "Hepcidin month 0 <5; Hepcidin month 2 <5",
        "B": "Hepcidin month 2 <5",
        "C": "",
        "D": "",
        "E": "Hepcidin month 0 >100",
    }


@pytest.mark.parametrize(
    ("rule", "mean_change", "words"),
    [
        # changes 0, -7, -5, -8, -60 (mean -16); at half: 0, -9.5, -5, -8, -60 (mean -16.5)
        (
            "limit",
            -16.0,
            "3 values below the detection limit entered at the limit; "
            "1 value above the detection limit entered at the limit.",
        ),
        (
            "half",
            -16.5,
            "3 values below the detection limit entered at half the limit; "
            "1 value above the detection limit entered at the limit.",
        ),
        (
            "exclude",
            -6.5,  # C and D only: -5, -8
            "3 values below the detection limit left out; "
            "1 value above the detection limit left out.",
        ),
    ],
)
def test_paired_sentence_says_how_many_censored_values_entered_and_how(
    cohort, rule, mean_change, words
):
    selection = select(cohort, "hepcidin", 0, 2)
    result = paired_for(cohort, selection, AnalysisSettings(censored=rule))
    assert result.mean_change == pytest.approx(mean_change)
    assert result.censored_note == words
    assert result.sentence(selection.name, selection.unit).endswith(words)
    assert result.to_dict()["censored_note"] == words


def test_paired_sentence_is_silent_without_censored_values():
    cohort = analytics.load_cohort(b"id,MCV 0,MCV 2\nA,80,79\nB,82,80\nC,85,83\n", "m.csv")
    result = paired_for(cohort, select(cohort, "mcv", 0, 2))
    assert result.censored_note is None
    assert "detection limit" not in result.sentence("MCV", "fL")
