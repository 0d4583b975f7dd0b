"""The mixed model through the cohort, the command line, the page, the exports, the report.

Golden values from R's lmerTest: ``tests/mixed_goldens.py`` (the prospective hepcidin
with P03's month-1 value removed).
"""

from __future__ import annotations

import json

import pytest
from mixed_goldens import GOLDEN, REL, demo_without_p03_month_1
from scipy import stats

from analytics import load_cohort
from analytics.analysis import timecourse_for
from analytics.cli import main

# ------------------------------------------------------------------ integration


def test_timecourse_for_carries_the_mixed_model_of_every_value():
    cohort = load_cohort(demo_without_p03_month_1(), "demo.csv")
    prospective = cohort.subset(cohort.patients.index[cohort.patients["cohort"] == "prospective"])
    course = timecourse_for(prospective, "hepcidin")
    assert course.n_complete == 4  # P03 leaves the complete-case tests ...
    mixed = course.mixed_model
    assert mixed.n_patients == 5 and mixed.n_values == 19  # ... but not the model
    golden = GOLDEN["hepcidin"]
    assert mixed.omnibus.df_den == pytest.approx(golden["omnibus"][2], rel=REL)
    assert mixed.contrasts[1].p == pytest.approx(golden["contrasts"][1][4], rel=REL)


def test_two_time_points_say_the_paired_test_is_the_analysis():
    cohort = load_cohort(b"id,MCV 0,MCV 2\nA,80,79\nB,82,80\nC,85,83\n", "mcv.csv")
    mixed = timecourse_for(cohort, "mcv").mixed_model
    assert not mixed.fitted and "3 or more time points" in mixed.note


def test_cli_timecourse_json_has_mixed_model(capsys, tmp_path):
    path = tmp_path / "demo.csv"
    path.write_bytes(demo_without_p03_month_1())
    args = ["timecourse", str(path), "--cohort", "prospective", "--analyte", "hepcidin"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["mixed_model"]
    assert out["method"].startswith("Linear mixed model (REML)")
    assert (out["n_patients"], out["n_values"]) == (5, 19)
    assert out["omnibus"]["f"] == pytest.approx(GOLDEN["hepcidin"]["omnibus"][0], rel=REL)
    assert out["contrasts"][2]["p_holm"] == pytest.approx(
        GOLDEN["hepcidin"]["contrasts"][2][5], rel=REL
    )
    assert [m["time"] for m in out["means"]] == [0.0, 0.5, 1.0, 2.0]
    assert out["sd_patient"] == pytest.approx(GOLDEN["hepcidin"]["sd"][0], rel=REL)
    assert stats.t.sf(abs(out["contrasts"][0]["t"]), out["contrasts"][0]["df"]) * 2 == (
        pytest.approx(out["contrasts"][0]["p"], rel=1e-12)
    )


# ------------------------------------------------------------------ the page (AppTest)


def _paired_page_with(data: bytes, name: str, lab: str, cohort: str | None = None):
    from app_session import open_section, started_app

    at = started_app()
    at.file_uploader(key="upload").set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    if cohort is not None:
        at.selectbox(key="flt_cohort").set_value(cohort).run()
    at.switch_page("pages/paired_tests.py").run()
    at.selectbox(key="sel_lab").set_value(lab).run()
    assert not at.exception, at.exception
    return open_section(at, "times")


def _page_text(at) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.caption]).replace("\\", "")


def test_all_time_points_tab_shows_the_mixed_model():
    at = _paired_page_with(demo_without_p03_month_1(), "demo.csv", "hepcidin", "prospective")
    text = _page_text(at)
    assert "Mixed model on every value" in text
    assert (
        "The mixed model uses 19 values from 5 patients, 1 of them (P03) with a missing "
        "month-1 value; the complete-case tests (Friedman, repeated-measures ANOVA) use only "
        "the 4 patients with every time point." in text
    )
    # golden: lmerTest anova() F 12.3785533973442 on 3 and 11.0465138045592 df
    assert "Time: F(3, 11.0) = 12.38, p = 0.000744." in text
    [table] = [d.value for d in at.dataframe if "model mean (ng/mL) (SE)" in d.value.columns]
    rows = table.set_index("time")
    assert list(rows.index) == ["month 0", "2 weeks", "month 1", "month 2"]
    # lmerTest: mean 27.0664218687256, SE 6.19780279163587; change df 11.1076443999684
    assert rows.loc["month 1", "model mean (ng/mL) (SE)"] == "27.07 (6.20)"
    assert rows.loc["month 1", "df"] == "11.1"
    assert rows.loc["month 1", "p (Holm)"] == "0.00291"  # p.adjust: 0.00291399725710645
    keys = {button.key for button in at.get("download_button")}
    assert "dl_hepcidin_mixed_model_by_time_csv" in keys


def test_all_time_points_tab_says_why_there_is_no_model():
    # the boundary data set of test_boundary_fit_is_said_in_words_not_tested
    data = b"id,MCV 0,MCV 1,MCV 2\nA,80,82,79\nB,82,79,\nC,79,81,82\nD,81,80,80\nE,82,81,79\n"
    at = _paired_page_with(data, "flat.csv", "mcv")
    info = " ".join(i.value for i in at.info).replace("\\", "")
    assert "the between-patient variance is estimated as zero (a boundary fit)" in info
    assert "SD between patients 0.00 fL, within patients (residual) 1.28 fL." in info


# ------------------------------------------------------------------ exports and report


@pytest.fixture(scope="module")
def view():
    from analytics.filters import CohortFilter
    from analytics.output.view import view_outputs

    cohort = load_cohort(demo_without_p03_month_1(), "demo.csv")
    return view_outputs(
        cohort, CohortFilter(cohort="prospective"), analyte="hepcidin", baseline=0,
        follow_up=2, charts=(),
    )  # fmt: skip


def test_bundle_holds_the_mixed_model_tables(view):
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(view.bundle())).namelist()
    assert {"tables/hepcidin_mixed_model.csv", "tables/hepcidin_mixed_model_by_time.csv"} <= set(
        names
    )
    by_time = view.tables["hepcidin_mixed_model_by_time"].set_index("months")
    golden = GOLDEN["hepcidin"]
    assert by_time.loc[1.0, "mean"] == pytest.approx(golden["means"][2][0], rel=REL)
    assert by_time.loc[1.0, "change df"] == pytest.approx(golden["contrasts"][1][2], rel=REL)
    summary = view.tables["hepcidin_mixed_model"].set_index("quantity")["value"]
    assert summary["df_den"] == pytest.approx(golden["omnibus"][2], rel=REL)
    assert summary["patients_partial"] == "P03 (no month 1)"


def test_report_has_the_mixed_model(view):
    html = view.report_html().decode("utf-8")
    section = html[html.index("<h3>Mixed model on every value</h3>") :]
    section = section[: section.index("</section>")]
    assert "1 of them (P03) with a missing month-1 value" in section
    assert "Time: F(3, 11.0) = 12.38, p = 0.000744" in section  # lmerTest anova()
    assert '<td class="num">27.07 (6.20)</td>' in section  # month 1: lmerTest 27.0664 (6.198)
    assert "Satterthwaite degrees of freedom" in section


def test_report_says_why_there_is_no_model():
    from analytics.filters import CohortFilter
    from analytics.output.view import view_outputs

    data = b"id,MCV 0,MCV 1,MCV 2\nA,80,82,79\nB,82,79,\nC,79,81,82\nD,81,80,80\nE,82,81,79\n"
    cohort = load_cohort(data, "flat.csv")
    view = view_outputs(cohort, CohortFilter(), analyte="mcv", charts=())
    html = view.report_html().decode("utf-8")
    assert "estimated as zero (a boundary fit)" in html
    assert "mcv_mixed_model_by_time" not in view.tables  # nothing to tabulate ...
    summary = view.tables["mcv_mixed_model"].set_index("quantity")["value"]
    assert "boundary fit" in summary["note"]  # ... but the export says why
