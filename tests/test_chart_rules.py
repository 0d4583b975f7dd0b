"""Charts that say who they show and what they claim: n at each time point and complete
cases in the trajectories, power for a meaningful change (observed power only on
request), one-sided p for both directions, and thesis figures only from a study file.

Golden values: the demo cohort has 20 retrospective patients measured at months 0, 2 and
6 and 5 prospective patients at months 0, 2 weeks, 1 and 2 (thesis Tables 1-5, see
``data/README.md``); d_z = 0.7 needs 19 pairs for 80 % power at two-sided alpha 0.05
(R ``pwr::pwr.t.test(d = 0.7, power = 0.8, type = "paired")``: n = 18.0 → 19).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from app_session import show_every_chart, started_app

import analytics
from analytics.analysis import paired_for, select, thesis_table, timecourse_for
from analytics.cli import main
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter
from analytics.settings import ChartOptions
from analytics.stats.power import OBSERVED_POWER_CAVEAT
from analytics.viz.figures import make_figure
from analytics.viz.thesis import thesis_figure, thesis_figures, thesis_gaps
from ui.shell import Dataset

DEMO = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.csv"
NOT_A_STUDY = b"id,sex,MCV 0,MCV 2\nA,F,80,79\nB,M,82,80\nC,F,85,83\n"


@pytest.fixture(scope="module")
def demo():
    return analytics.load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)


def _trajectory(demo, cohort: str | None = None, **options):
    filtered = CohortFilter(cohort=cohort).apply(demo)
    return make_figure(
        "trajectory", filtered, select(demo, "mcv", 0, 2), options=ChartOptions(**options)
    )


# --------------------------------------------------------------------------------------
# Trajectories
# --------------------------------------------------------------------------------------


def test_trajectory_shows_n_at_each_time_and_says_the_patients_differ(demo):
    spec = _trajectory(demo).chart.to_dict()
    subtitle = spec["title"]["subtitle"]
    assert (
        "Different patients at each time: 25 at month 0, 5 at 2 weeks, 5 at month 1, "
        "25 at month 2, 20 at month 6."
    ) in subtitle
    label_expr = spec["layer"][0]["encoding"]["x"]["axis"]["labelExpr"]
    for time, n in ((0.0, 25), (0.5, 5), (1.0, 5), (2.0, 25), (6.0, 20)):
        assert f"datum.value == {time!r} ? [" in label_expr
        assert f"'n = {n}']" in label_expr


def test_complete_cases_follow_the_same_patients(demo):
    figure = _trajectory(demo, "retrospective", complete_cases=True)
    subtitle = figure.chart.to_dict()["title"]["subtitle"]
    assert "The same 20 patients at every time (complete cases only)." in subtitle
    assert not any("Different patients" in line for line in subtitle)
    assert figure.filename_stem.endswith("_complete-cases")


def test_complete_cases_list_the_patients_they_leave_out(demo):
    # prospective TSAT: P03 has no TSAT at all, the other 4 have every time
    filtered = CohortFilter(cohort="prospective").apply(demo)
    figure = make_figure(
        "trajectory",
        filtered,
        select(demo, "tsat", 0, 2),
        options=ChartOptions(complete_cases=True),
    )
    assert figure.title.endswith("n = 4 patients")
    assert [pid for pid, _ in figure.missing] == ["P03"]


def test_complete_cases_without_any_patient_is_refused_in_words(demo):
    with pytest.raises(AnalysisError, match="no complete case to draw"):
        _trajectory(demo, complete_cases=True)


def test_complete_cases_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "t.svg"
    common = ["figure", str(DEMO), "--chart", "trajectory", "--analyte", "mcv"]
    common += ["--baseline", "0", "--follow-up", "2", "--format", "svg", "-o", str(out)]
    assert main([*common, "--cohort", "retrospective", "--complete-cases"]) == 0
    assert "complete cases only" in out.read_text(encoding="utf-8")
    assert main([*common, "--complete-cases"]) == 2
    assert "no complete case to draw" in capsys.readouterr().err
    options = ChartOptions(complete_cases=True, observed_power=True)
    assert options.args() == ["--complete-cases", "--observed-power"]


# --------------------------------------------------------------------------------------
# Power: for a meaningful change; observed power only on request
# --------------------------------------------------------------------------------------


def _power(demo, **options):
    filtered = CohortFilter(cohort="retrospective").apply(demo)
    return make_figure(
        "power", filtered, select(demo, "mcv", 0, 2), options=ChartOptions(**options)
    )


def test_power_curve_is_for_the_meaningful_change_by_default(demo):
    spec = _power(demo).chart.to_dict()
    title = spec["title"]["text"]
    assert title.startswith("Power against number of pairs for a change of 3 fL in MCV")
    assert "bserved" not in title
    assert "This is not the power at the observed change." in " ".join(spec["title"]["subtitle"])


def test_power_curve_for_the_band_entered(demo):
    filtered = CohortFilter(cohort="retrospective").apply(demo)
    selection = select(demo, "mcv", 0, 2)
    sd = paired_for(filtered.cohort, selection).sd_change
    spec = _power(demo, band=0.7 * sd).chart.to_dict()
    assert "(d_z = 0.70)" in spec["title"]["text"]
    assert any(line.startswith("19 pairs give 80 % power") for line in spec["title"]["subtitle"])


def test_observed_power_only_on_request_with_its_caveat(demo):
    spec = _power(demo, observed_power=True).chart.to_dict()
    assert spec["title"]["text"].startswith("Observed (post-hoc) power")
    caveat = " ".join(spec["title"]["subtitle"])
    assert " ".join(OBSERVED_POWER_CAVEAT.split()) in caveat


def test_charts_page_hides_observed_power_until_asked():
    at = started_app()
    show_every_chart(at.switch_page("pages/charts.py").run())
    titles = [json.loads(el.proto.spec)["title"]["text"] for el in at.get("vega_lite_chart")]
    assert not any("bserved" in title for title in titles)
    at.checkbox(key="chart_observed_power").check().run()
    assert not at.exception, at.exception
    titles = [json.loads(el.proto.spec)["title"]["text"] for el in at.get("vega_lite_chart")]
    assert any(title.startswith("Observed (post-hoc) power") for title in titles)
    assert any("Hoenig & Heisey" in caption.value for caption in at.caption)


# --------------------------------------------------------------------------------------
# One-sided p for both directions
# --------------------------------------------------------------------------------------


def test_study_table_gives_one_sided_p_for_a_fall_and_for_a_rise():
    # Student's sleep data as baseline (group 2) and follow-up (group 1): R
    # t.test(extra[group == 1], extra[group == 2], paired = TRUE, alternative = "less")
    # gives p = 0.0014164; "greater" gives 1 - 0.0014164.
    group_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    group_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    lines = ["id,Sleep 0,Sleep 2"] + [
        f"S{i},{b},{f}" for i, (b, f) in enumerate(zip(group_2, group_1, strict=True))
    ]
    cohort = analytics.load_cohort("\n".join(lines).encode(), "sleep.csv")
    key = cohort.find_analyte("Sleep")
    table = thesis_table(timecourse_for(cohort, key)).set_index("months")
    assert table.loc[2.0, "p one-sided, for a fall"] == pytest.approx(0.0014164, abs=1e-7)
    assert table.loc[2.0, "p one-sided, for a rise"] == pytest.approx(1 - 0.0014164, abs=1e-7)
    assert not any("observed" in column for column in table.columns)


# --------------------------------------------------------------------------------------
# Thesis figures: only from the demo or a study file
# --------------------------------------------------------------------------------------


def test_thesis_gaps_name_the_missing_cohorts_labs_and_times(demo):
    other = analytics.load_cohort(NOT_A_STUDY, "labs.csv")
    assert thesis_gaps(other) == [
        "a cohort column (the study's retrospective and prospective cohorts)"
    ]
    retrospective = demo.subset(demo.patients.index[demo.patients["cohort"] == "retrospective"])
    assert thesis_gaps(retrospective) == ["patients of the prospective cohort"]
    labs = demo.labs
    no_month_6 = replace(demo, labs=labs[~((labs["analyte"] == "mcv") & (labs["time"] == 6.0))])
    assert thesis_gaps(no_month_6) == ["MCV values at month 6 in the retrospective cohort"]
    with pytest.raises(AnalysisError, match="lacks MCV values at month 6"):
        thesis_figure(2, no_month_6)
    assert thesis_figure(1, no_month_6).name == "change"
    with pytest.raises(AnalysisError, match="cannot be redrawn from this file"):
        thesis_figures(other)
    assert thesis_gaps(demo) == []


def test_thesis_figures_say_where_their_values_come_from(demo):
    subtitle = " ".join(thesis_figure(1, demo).chart.to_dict()["title"]["subtitle"])
    assert "redrawn from the demo cohort's synthetic values" in subtitle
    study = analytics.load_cohort(DEMO.read_bytes(), "my_study.csv")
    subtitle = " ".join(thesis_figure(1, study).chart.to_dict()["title"]["subtitle"])
    assert "redrawn from this file's values" in subtitle


def test_thesis_page_refuses_a_file_without_the_study():
    at = started_app()
    at.session_state["dataset"] = Dataset(NOT_A_STUDY, "labs.csv")
    at.switch_page("pages/thesis_figures.py").run()
    assert not at.exception, at.exception
    assert at.get("vega_lite_chart") == []
    warning = " ".join(w.value for w in at.warning)
    assert "no figure is drawn" in warning
    assert "It lacks" in warning and "a cohort column" in warning


def test_thesis_page_draws_a_study_file_as_its_own_values():
    at = started_app()
    at.session_state["dataset"] = Dataset(DEMO.read_bytes(), "my_study.csv")
    at.switch_page("pages/thesis_figures.py").run()
    assert not at.exception, at.exception
    specs = [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]
    assert len(specs) == 6
    assert all("this file's values" in " ".join(s["title"]["subtitle"]) for s in specs)
