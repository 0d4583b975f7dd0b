"""Chart specifications: fields, sort order, titles, large cohorts and the thesis figures.

Assertions are on the Vega-Lite spec (``chart.to_dict()``), not on pixels; every chart
of :data:`analytics.viz.figures.CHARTS` is also converted to SVG with vl-convert, which
is what the exports do.

Golden values: the thesis's statistical appendix (``thesis.txt``) says MCV rose from
month 0 to 2 only in patients 6 and 17, and from month 0 to 6 only in 10, 12 and 14;
the synthetic demo cohort reproduces that (see ``data/README.md``).
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc

import analytics
from analytics.analysis import select
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter
from analytics.settings import ChartOptions
from analytics.viz.change_charts import HIDE_LABELS_ABOVE, HISTOGRAM_ABOVE, change_bars
from analytics.viz.figures import CHARTS, make_figure
from analytics.viz.paired_charts import before_after, estimation_plot, mean_difference, qq_chart
from analytics.viz.style import OKABE_ITO, ChartTitle
from analytics.viz.summary_charts import forest, power_curve_chart
from analytics.viz.thesis import THESIS_FIGURES, thesis_figure, thesis_figures
from analytics.viz.time_charts import patient_lines, trajectories

DEMO = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.csv"
STEM = re.compile(r"^[a-z0-9_.-]+$")
TITLE = ChartTitle("Change in MCV (fL), month 0 → month 2, n = 4", "All 4 patients (no filter)")


# --------------------------------------------------------------------------------------
# Helpers: walk a Vega-Lite spec
# --------------------------------------------------------------------------------------


def units(spec: dict[str, Any], inherited: Any = None) -> list[dict[str, Any]]:
    """Every unit (single-mark) spec inside layers and concatenations, in order.

    A unit without its own data gets the data of the nearest enclosing spec (Altair
    hoists data shared by all layers to the layer).
    """
    data = spec.get("data", inherited)
    found = [{**spec, "data": data}] if "mark" in spec else []
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for sub in spec.get(key, []):
            found += units(sub, data)
    return found


def mark(unit: dict[str, Any]) -> str:
    return unit["mark"] if isinstance(unit["mark"], str) else unit["mark"]["type"]


def rows(spec: dict[str, Any], unit: dict[str, Any]) -> list[dict[str, Any]]:
    """The records a unit draws (inline data consolidated into ``datasets``)."""
    data = unit["data"]
    return spec["datasets"][data["name"]] if "name" in data else data["values"]


def find(spec: dict[str, Any], mark_type: str, **fields: str) -> dict[str, Any]:
    """The first unit with this mark whose channels encode the given fields."""
    for unit in units(spec):
        encoding = unit.get("encoding", {})
        if mark(unit) == mark_type and all(
            encoding.get(channel, {}).get("field") == field for channel, field in fields.items()
        ):
            return unit
    raise AssertionError(f"no {mark_type} layer with {fields}")


def field_names(node: Any) -> set[str]:
    """Every value of a ``field`` key anywhere in the spec."""
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "field" and isinstance(value, str):
                names.add(value)
            else:
                names |= field_names(value)
    elif isinstance(node, list):
        for item in node:
            names |= field_names(item)
    return names


def subtitle(spec: dict[str, Any]) -> list[str]:
    return spec["title"]["subtitle"]


def svg(chart: Any) -> str:
    return vlc.vegalite_to_svg(chart.to_json())


def pairs(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    baseline = rng.normal(88, 6, n).round(1)
    follow_up = (baseline + rng.normal(-2, 3, n)).round(1)
    return pd.DataFrame(
        {"patient": [f"P{i:05d}" for i in range(n)], "baseline": baseline, "follow_up": follow_up}
    )


@pytest.fixture(scope="module")
def demo() -> analytics.Cohort:
    return analytics.load_cohort(DEMO.read_bytes(), DEMO.name)


SMALL = pd.DataFrame(
    {
        "patient": ["R01", "R02", "R03", "R04"],
        "baseline": [80.0, 90.0, 85.0, 70.0],
        "follow_up": [79.0, 95.0, 80.0, 72.0],
        "sex": ["Male", "Female", None, "Female"],
    }
)
SMALL_CHANGES = [-1.0, 5.0, -5.0, 2.0]


# --------------------------------------------------------------------------------------
# change_bars
# --------------------------------------------------------------------------------------


def test_change_bars_encode_patient_and_change_in_data_order():
    spec = change_bars(SMALL, TITLE, "fL").to_dict()
    bars = find(spec, "bar", x="patient", y="y")
    assert bars["encoding"]["x"]["type"] == "nominal"
    assert bars["encoding"]["y"]["type"] == "quantitative"
    assert bars["encoding"]["x"]["sort"] == ["R01", "R02", "R03", "R04"]
    assert [r["y"] for r in rows(spec, bars)] == SMALL_CHANGES
    assert bars["encoding"]["color"] == {"value": OKABE_ITO[0]}
    # the zero line
    assert [r["zero"] for r in rows(spec, find(spec, "rule", y="zero"))] == [0.0]


def test_waterfall_sorts_patients_by_change_largest_first():
    spec = change_bars(SMALL, TITLE, "fL", sort=True).to_dict()
    bars = find(spec, "bar", x="patient", y="y")
    # changes: R01 -1, R02 +5, R03 -5, R04 +2
    assert bars["encoding"]["x"]["sort"] == ["R02", "R04", "R01", "R03"]
    assert "sorted by change" in bars["encoding"]["x"]["axis"]["title"]


def test_change_computed_from_baseline_and_follow_up_when_no_change_column():
    with_change = SMALL.assign(change=[10.0, 20.0, 30.0, 40.0])
    spec = change_bars(with_change, TITLE, "fL").to_dict()
    assert [r["y"] for r in rows(spec, find(spec, "bar", x="patient"))] == [10, 20, 30, 40]


def test_colour_by_group_has_field_legend_title_and_not_recorded():
    spec = change_bars(SMALL, TITLE, "fL", color_by="sex", color_title="Sex").to_dict()
    colour = find(spec, "bar", x="patient")["encoding"]["color"]
    assert colour["field"] == "group"
    assert colour["type"] == "nominal"
    assert colour["title"] == "Sex"
    assert colour["scale"]["domain"] == ["Female", "Male", "Not recorded"]
    # women vermillion and men blue, as the thesis's Figure 5 (red / blue)
    assert colour["scale"]["range"][:2] == [OKABE_ITO[1], OKABE_ITO[0]]


def test_flip_negates_values_and_says_so_in_the_axis_title():
    plain = change_bars(SMALL, TITLE, "fL").to_dict()
    flipped = change_bars(SMALL, TITLE, "fL", flip=True).to_dict()
    plain_bars = find(plain, "bar", x="patient")
    flipped_bars = find(flipped, "bar", x="patient")
    assert [r["y"] for r in rows(flipped, flipped_bars)] == [-c for c in SMALL_CHANGES]
    assert plain_bars["encoding"]["y"]["title"] == "Change, follow-up − baseline (fL)"
    flipped_title = flipped_bars["encoding"]["y"]["title"]
    assert flipped_title.startswith("Baseline − follow-up (fL)")
    assert "flipped" in flipped_title


def test_band_shades_plus_minus_the_meaningful_change():
    spec = change_bars(SMALL, TITLE, "fL", band=2.5).to_dict()
    shade = find(spec, "rect", y="low", y2="high")
    assert rows(spec, shade) == [{"low": -2.5, "high": 2.5}]
    assert any("± 2.5 fL" in line for line in subtitle(spec))
    with pytest.raises(AnalysisError):
        change_bars(SMALL, TITLE, "fL", band=-1)


def test_patient_labels_hidden_above_the_limit():
    shown = change_bars(pairs(HIDE_LABELS_ABOVE), TITLE, "fL").to_dict()
    hidden = change_bars(pairs(HIDE_LABELS_ABOVE + 1), TITLE, "fL").to_dict()
    assert find(shown, "bar", x="patient")["encoding"]["x"]["axis"].get("labels", True) is True
    axis = find(hidden, "bar", x="patient")["encoding"]["x"]["axis"]
    assert axis["labels"] is False
    assert "IDs hidden" in axis["title"]


def test_above_2000_patients_the_bars_become_a_histogram():
    at_limit = change_bars(pairs(HISTOGRAM_ABOVE), TITLE, "fL").to_dict()
    assert len(rows(at_limit, find(at_limit, "bar", x="patient"))) == HISTOGRAM_ABOVE

    spec = change_bars(pairs(HISTOGRAM_ABOVE + 1), TITLE, "fL").to_dict()
    histogram = find(spec, "bar", x="bin_start", x2="bin_end", y="top", y2="bottom")
    assert sum(r["count"] for r in rows(spec, histogram)) == HISTOGRAM_ABOVE + 1
    assert "patient" not in field_names(spec)
    assert any("histogram" in line for line in subtitle(spec))


def test_histogram_stacks_the_groups_in_legend_order():
    big = pairs(HISTOGRAM_ABOVE + 500).assign(arm=["B", "A"] * ((HISTOGRAM_ABOVE + 500) // 2))
    spec = change_bars(big, TITLE, "fL", color_by="arm", color_title="Arm").to_dict()
    histogram = find(spec, "bar", x="bin_start", y="top")
    assert histogram["encoding"]["color"]["field"] == "group"
    assert histogram["encoding"]["color"]["title"] == "Arm"
    data = rows(spec, histogram)
    assert all(r["top"] - r["bottom"] == r["count"] for r in data)
    by_bin: dict[float, list[dict[str, Any]]] = {}
    for r in data:
        by_bin.setdefault(r["bin_start"], []).append(r)
    for stack in by_bin.values():
        ordered = sorted(stack, key=lambda r: r["bottom"])
        assert ordered[0]["bottom"] == 0
        assert [r["group"] for r in ordered] == sorted(r["group"] for r in ordered)
        assert all(a["top"] == b["bottom"] for a, b in pairwise(ordered))
    assert sum(r["count"] for r in data) == HISTOGRAM_ABOVE + 500


def test_6000_patients_draw_without_row_limit_and_convert():
    big = pairs(6000)
    chart = change_bars(big, TITLE, "fL", flip=True)
    spec = chart.to_dict()  # Altair's MaxRowsError would be raised here
    histogram = find(spec, "bar", x="bin_start")
    assert sum(r["count"] for r in rows(spec, histogram)) == 6000
    assert svg(chart).lstrip().startswith("<svg")
    # per-patient charts keep every row too (12,000 points: above Altair's 5,000)
    slope = before_after(big, TITLE, "fL").to_dict()
    assert len(rows(slope, find(slope, "line", x="x", y="y"))) == 12000


# --------------------------------------------------------------------------------------
# The other builders
# --------------------------------------------------------------------------------------


def test_before_after_lines_per_patient_with_labelled_threshold():
    chart = before_after(
        SMALL,
        TITLE,
        "fL",
        threshold=80,
        threshold_label="Microcytosis: MCV < 80 fL",
        baseline_label="month 0",
        follow_up_label="month 2",
    )
    spec = chart.to_dict()
    lines = find(spec, "line", x="x", y="y")
    assert lines["encoding"]["detail"]["field"] == "patient"
    assert lines["encoding"]["x"]["type"] == "nominal"
    assert lines["encoding"]["x"]["sort"] == ["month 0", "month 2"]
    assert lines["encoding"]["y"]["type"] == "quantitative"
    assert len(rows(spec, lines)) == 8
    directions = {r["patient"]: r["direction"] for r in rows(spec, lines)}
    assert directions == {"R01": "Fell", "R02": "Rose", "R03": "Fell", "R04": "Rose"}
    rule = find(spec, "rule", y="threshold")
    assert rows(spec, rule) == [{"threshold": 80.0, "label": "Microcytosis: MCV < 80 fL"}]
    assert find(spec, "text", y="threshold")["encoding"]["text"]["field"] == "label"


def test_trajectories_per_patient_lines_and_mean_with_ci():
    long = pd.DataFrame(
        {
            "patient": ["A", "A", "A", "B", "B", "B"],
            "time": [0, 0.5, 2, 0, 0.5, 2],
            "value": [40.0, 30.0, 20.0, 50.0, 35.0, 25.0],
        }
    )
    summary = pd.DataFrame(
        {
            "time": [0, 0.5, 2],
            "mean": [45, 32.5, 22.5],
            "ci_low": [0, 1, 2],
            "ci_high": [90, 60, 40],
        }
    )
    spec = trajectories(long, summary, TITLE, "ng/mL").to_dict()
    each = find(spec, "line", x="time", y="value")
    assert each["encoding"]["x"]["type"] == "quantitative"
    assert each["encoding"]["detail"]["field"] == "patient"
    assert each["encoding"]["x"]["axis"]["values"] == [0.0, 0.5, 2.0]
    assert "2 wk" in each["encoding"]["x"]["axis"]["labelExpr"]
    interval = find(spec, "rule", y="ci_low", y2="ci_high")
    assert [r["ci_high"] for r in rows(spec, interval)] == [90, 60, 40]
    mean = find(spec, "line", y="mean")
    assert mean["encoding"]["color"]["scale"]["domain"] == ["Each patient", "Mean ± 95 % CI"]


def test_patient_lines_colour_each_patient():
    long = pd.DataFrame(
        {"patient": ["A", "A", "B", "B"], "time": [0, 1, 0, 1], "value": [1.0, 2.0, 3.0, 4.0]}
    )
    spec = patient_lines(long, TITLE, "ng/mL").to_dict()
    points = find(spec, "point", x="time", y="value")
    assert points["encoding"]["color"]["field"] == "patient"
    assert points["encoding"]["color"]["scale"]["range"] == list(OKABE_ITO[:2])
    assert points["encoding"]["shape"]["field"] == "patient"


def test_estimation_plot_aligns_zero_change_with_the_baseline_mean():
    data = SMALL[["patient", "baseline", "follow_up"]]

    class Result:  # the PairedResult fields the chart reads
        mean_change, ci_low, ci_high, confidence = 0.25, -4.0, 4.5, 0.95

    spec = estimation_plot(data, Result(), TITLE, "fL").to_dict()
    assert len(spec["hconcat"]) == 2
    left = find(spec["hconcat"][0], "line", x="x", y="y")
    right = find(spec["hconcat"][1], "circle", y="change")
    point = find(spec["hconcat"][1], "point", y="mean_change")
    assert rows(spec, point)[0]["mean_change"] == 0.25
    assert sorted(r["change"] for r in rows(spec, right)) == sorted(SMALL_CHANGES)
    left_domain = left["encoding"]["y"]["scale"]["domain"]
    right_domain = right["encoding"]["y"]["scale"]["domain"]
    baseline_mean = float(np.mean(data["baseline"]))  # 81.25
    assert right_domain[0] + baseline_mean == pytest.approx(left_domain[0])
    assert right_domain[1] + baseline_mean == pytest.approx(left_domain[1])
    assert "follow-up − baseline" in right["encoding"]["y"]["title"]


def test_mean_difference_limits_are_mean_plus_minus_196_sd():
    spec = mean_difference(SMALL, TITLE, "fL").to_dict()
    points = find(spec, "circle", x="x", y="y")
    assert [r["x"] for r in rows(spec, points)] == [79.5, 92.5, 82.5, 71.0]
    assert [r["y"] for r in rows(spec, points)] == SMALL_CHANGES
    limits = rows(spec, find(spec, "rule", y="y"))
    mean, sd = np.mean(SMALL_CHANGES), np.std(SMALL_CHANGES, ddof=1)  # 0.25, 4.5735...
    assert [r["y"] for r in limits] == pytest.approx([mean + 1.96 * sd, mean, mean - 1.96 * sd])
    assert limits[1]["label"] == "Mean: 0.25 fL"
    flipped = mean_difference(SMALL, TITLE, "fL", flip=True).to_dict()
    assert [r["y"] for r in rows(flipped, find(flipped, "circle", y="y"))] == [1, -5, 5, -2]
    with pytest.raises(AnalysisError):
        mean_difference(SMALL.head(1), TITLE, "fL")


def test_forest_rows_labelled_with_n_and_zero_line():
    groups = pd.DataFrame(
        {
            "group": ["Female", "Male"],
            "n": [9, 11],
            "mean_change": [-2.0, -3.0],
            "ci_low": [-4.0, -5.0],
            "ci_high": [0.5, -1.0],
        }
    )
    spec = forest(groups, TITLE, "fL").to_dict()
    points = find(spec, "point", x="mean_change", y="label")
    assert points["encoding"]["y"]["type"] == "nominal"
    assert points["encoding"]["y"]["sort"] == ["Female (n = 9)", "Male (n = 11)"]
    interval = find(spec, "rule", x="ci_low", x2="ci_high")
    assert [(r["ci_low"], r["ci_high"]) for r in rows(spec, interval)] == [(-4, 0.5), (-5, -1)]
    assert rows(spec, find(spec, "rule", x="zero")) == [{"zero": 0.0}]
    flipped = forest(groups, TITLE, "fL", flip=True).to_dict()
    interval = find(flipped, "rule", x="ci_low")
    assert [(r["ci_low"], r["ci_high"]) for r in rows(flipped, interval)] == [(-0.5, 4), (1, 5)]


def test_qq_and_power_keep_their_signatures():
    qq = qq_chart([1.0, -2.0, 0.5, 3.0], TITLE, "fL").to_dict()
    assert find(qq, "circle", x="z", y="change")["encoding"]["y"]["title"] == (
        "Observed change (fL)"
    )
    curve = pd.DataFrame({"n": [2, 3, 4], "power": [0.1, 0.2, 0.3]})
    power = power_curve_chart(curve, "n", "Pairs (n)", TITLE, current=3).to_dict()
    assert rows(power, find(power, "rule", x="x"))[0]["x"] == 3.0


# --------------------------------------------------------------------------------------
# Figures from a cohort
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_builds_from_the_demo_cohort_and_converts(demo, name):
    figure = make_figure(name, CohortFilter().apply(demo), select(demo, "mcv", 0, 2))
    assert figure.name == name
    assert "MCV" in figure.title
    assert STEM.match(figure.filename_stem)
    assert figure.filename_stem.startswith("mcv_")
    image = svg(figure.chart)
    assert image.lstrip().startswith("<svg")
    assert "MCV" in image


def test_titles_name_lab_unit_times_n_and_the_filter_sentence(demo):
    filtered = CohortFilter(sex="F").apply(demo)
    figure = make_figure("change", filtered, select(demo, "mcv", 0, 2))
    spec = figure.chart.to_dict()
    # thesis Tables 1 and 4: 10 retrospective and 2 prospective women, all with both values
    assert figure.title == "Change in MCV (fL), month 0 → month 2, n = 12 patients"
    assert spec["title"]["text"] == figure.title
    assert subtitle(spec)[0] == filtered.sentence == "12 of 25 patients: female"


def test_colour_by_in_a_figure_uses_the_attribute_and_its_legend_title(demo):
    figure = make_figure(
        "change",
        CohortFilter(cohort="retrospective").apply(demo),
        select(demo, "mcv", 0, 2),
        options=ChartOptions(color_by="iron"),
    )
    spec = figure.chart.to_dict()
    bars = find(spec, "bar", x="patient")
    assert bars["encoding"]["color"]["title"] == "Iron therapy"
    on_iron = sorted(r["patient"] for r in rows(spec, bars) if r["group"] == "On iron")
    assert on_iron == ["R11", "R12", "R13", "R14", "R15", "R20"]  # thesis Table 1


def test_a_lab_with_unsafe_characters_draws_with_safe_field_names():
    csv = (
        b"patient_id,sex,age,Na+ [mmol/L] 0,Na+ [mmol/L] 2\n"
        b"1,F,40,140,138\n2,M,50,135,137\n3,F,30,141,139.5\n4,M,60,138,133\n"
    )
    cohort = analytics.load_cohort(csv, "x.csv")
    selection = select(cohort, "Na+", 0, 2)
    for name in CHARTS:
        figure = make_figure(name, CohortFilter().apply(cohort), selection)
        spec = figure.chart.to_dict()
        assert field_names(spec), name
        for field in field_names(spec):
            assert not set(field) & set(".[]:"), (name, field)
        assert "Na+" in spec["title"]["text"] and "mmol/L" in spec["title"]["text"]
        assert STEM.match(figure.filename_stem)
    bars = find(
        make_figure("change", CohortFilter().apply(cohort), selection).chart.to_dict(),
        "bar",
        x="patient",
    )
    assert "(mmol/L)" in bars["encoding"]["y"]["title"]
    # and it draws: one bar path per patient in the SVG
    image = svg(make_figure("change", CohortFilter().apply(cohort), selection).chart)
    assert image.count('aria-roledescription="bar"') == 4


def test_missing_lists_patients_without_a_pair(demo):
    figure = make_figure("before-after", CohortFilter().apply(demo), select(demo, "mcv", 0, 6))
    assert figure.missing == tuple((f"P0{i}", "no month 6 MCV") for i in range(1, 6))
    assert figure.title.endswith("n = 20 patients")


def test_a_chart_that_cannot_be_drawn_says_why(demo):
    one = CohortFilter(cohort="prospective", sex="F", iron=True).apply(demo)
    assert one.n == 1
    with pytest.raises(AnalysisError, match="needs at least 2"):
        make_figure("estimation", one, select(demo, "mcv", 0, 2))
    with pytest.raises(AnalysisError, match="Unknown chart"):
        make_figure("pie", one, select(demo, "mcv", 0, 2))
    with pytest.raises(AnalysisError, match="colour by"):
        ChartOptions(color_by="blood group")


def test_filename_stems_name_lab_chart_times_and_filters(demo):
    pediatric_women = CohortFilter(age_group="pediatric", sex="F").apply(demo)
    figure = make_figure("change", pediatric_women, select(demo, "mcv", 0, 2))
    assert figure.filename_stem == "mcv_change_0-2mo_pediatric_female"
    weeks = make_figure(
        "qq", CohortFilter(iron=False).apply(demo), select(demo, "hepcidin", 0, "2w")
    )
    assert weeks.filename_stem == "hepcidin_qq_0-2w_no-iron"
    mixed = make_figure("before-after", CohortFilter().apply(demo), select(demo, "hgb", "2w", 2))
    assert mixed.filename_stem == "hgb_before-after_2w-2mo"


# --------------------------------------------------------------------------------------
# The thesis's figures
# --------------------------------------------------------------------------------------


def _bars(figure) -> dict[str, float]:
    spec = figure.chart.to_dict()
    return {r["patient"]: r["y"] for r in rows(spec, find(spec, "bar", x="patient"))}


@pytest.mark.parametrize(
    ("number", "rose"),
    [(1, {"R06", "R17"}), (2, {"R10", "R12", "R14"})],  # thesis.txt, statistical appendix
)
def test_thesis_mcv_figures_show_a_fall_as_a_positive_bar(demo, number, rose):
    figure = thesis_figure(number, demo)
    bars = _bars(figure)
    assert len(bars) == 20
    assert {patient for patient, value in bars.items() if value < 0} == rose
    assert all(value > 0 for patient, value in bars.items() if patient not in rose)
    spec = figure.chart.to_dict()
    assert "flipped" in find(spec, "bar", x="patient")["encoding"]["y"]["title"]
    assert any("baseline − follow-up" in line for line in subtitle(spec))
    assert subtitle(spec)[0] == "20 of 25 patients: retrospective cohort"


def test_thesis_figure_5_is_coloured_female_and_male(demo):
    spec = thesis_figure(5, demo).chart.to_dict()
    bars = find(spec, "bar", x="patient")
    assert bars["encoding"]["color"]["field"] == "group"
    assert bars["encoding"]["color"]["title"] == "Sex"
    assert {r["group"] for r in rows(spec, bars)} == {"Female", "Male"}
    assert bars["encoding"]["color"]["scale"]["domain"] == ["Female", "Male"]


def test_thesis_figure_6_is_hepcidin_of_5_patients_at_4_times(demo):
    figure = thesis_figure(6, demo)
    spec = figure.chart.to_dict()
    lines = find(spec, "line", x="time", y="value")
    data = rows(spec, lines)
    assert len(data) == 20
    assert {r["patient"] for r in data} == {"P01", "P02", "P03", "P04", "P05"}
    assert sorted({r["time"] for r in data}) == [0.0, 0.5, 1.0, 2.0]
    assert "Hepcidin (ng/mL)" in figure.title
    # Results: hepcidin lower than baseline in every patient at every later visit
    baseline = {r["patient"]: r["value"] for r in data if r["time"] == 0}
    assert all(r["value"] < baseline[r["patient"]] for r in data if r["time"] > 0)


def test_thesis_figures_carry_their_published_captions(demo):
    figures = thesis_figures(demo)
    captions = [caption for _, caption in figures]
    assert captions == [
        "Figure 1: Change in MCV 0 to 2 months.",
        "Figure 2: Difference in MCV at 0 and 6 months.",
        "Figure 3. Difference in Hemoglobin at 0 and 2 months.",
        "Figure 4. Difference in Hemoglobin at 0 and 6 months.",
        "Figure 5. Change in MCV from 0 to 6 months in men and women.",
        "Figure 6. Change in hepcidin levels while on sirolimus.",
    ]
    stems = [figure.filename_stem for figure, _ in figures]
    assert stems[0] == "thesis-fig1_mcv_change_0-2mo_retrospective_flipped"
    assert stems[3].startswith("thesis-fig4_hgb_change_0-6mo")
    assert stems[5] == "thesis-fig6_hepcidin_patient-lines_0-2mo_prospective"
    assert all(STEM.match(stem) for stem in stems)
    assert [spec.number for spec in THESIS_FIGURES] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(AnalysisError):
        thesis_figure(7, demo)
