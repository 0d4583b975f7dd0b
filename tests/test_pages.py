"""AppTest smoke tests: every page renders on the demo cohort and after an upload."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from app_session import XLSX_MIME, sidebar_text, started_app
from streamlit.testing.v1 import AppTest

from ui.shell import PAGES

ROOT = Path(__file__).resolve().parent.parent
DEMO_XLSX = ROOT / "data" / "sirolimus_demo.xlsx"


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_renders_on_demo(spec):
    at = started_app(page=None if spec.default else spec.path)
    assert not at.exception, at.exception
    assert at.title[0].value == spec.title
    assert "25 of 25 patients" in sidebar_text(at)


def test_upload_replaces_demo_and_every_page_follows():
    at = started_app()
    at.file_uploader(key="upload").set_value(
        ("my cohort.xlsx", DEMO_XLSX.read_bytes(), XLSX_MIME)
    ).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "my cohort.xlsx" in sidebar_text(at)
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
        assert at.title[0].value == spec.title
        assert "my cohort.xlsx" in sidebar_text(at)


def test_bad_upload_is_explained_and_demo_stays():
    at = started_app()
    at.file_uploader(key="upload").set_value(("bad.csv", b"sex,MCV 0\nF,80\n", "text/csv")).run()
    assert not at.exception, at.exception
    assert any("No patient ID column" in e.value for e in at.error)
    assert "Demo cohort" in sidebar_text(at)


def test_filters_persist_across_pages():
    at = started_app()
    at.selectbox(key="flt_sex").set_value("Female").run()
    assert "12 of 25 patients" in sidebar_text(at)
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
        assert at.selectbox(key="flt_sex").value == "Female"
        assert "12 of 25 patients" in sidebar_text(at)


def test_cohort_page_shows_characteristics_of_filtered_patients():
    at = started_app()
    at.selectbox(key="flt_cohort").set_value("prospective").run()
    at.switch_page("pages/cohort.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    # thesis Table 4: 5 prospective patients, 2 female, mean age 15.8
    assert table.loc["Patients, n", "All patients"] == "5"
    assert table.loc["Female, n (%)", "All patients"] == "2 (40 %)"
    assert table.loc["Age, years, mean ± SD", "All patients"].startswith("15.8")


def test_filter_with_no_patients_says_so():
    at = started_app()
    at.selectbox(key="flt_cohort").set_value("prospective").run()
    at.selectbox(key="flt_age_group").set_value("Adult").run()
    at.switch_page("pages/cohort.py").run()
    assert not at.exception, at.exception
    assert any("No patient matches" in w.value for w in at.warning)


def test_analytics_never_imports_streamlit():
    offenders = []
    for path in (ROOT / "analytics").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "streamlit" for name in names):
                offenders.append(path.name)
    assert offenders == []


def test_project_never_reads_outside_its_folder():
    outside = "../" + "shared"
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts:
            continue
        assert outside not in path.read_text(encoding="utf-8"), path


def test_every_limit_is_documented_in_readme():
    from analytics.limits import LIMITS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in LIMITS if f"`{name}`" not in readme]
    assert missing == []


def _study_table(at: AppTest):
    return at.dataframe[0].value.set_index("time")


@pytest.mark.parametrize(
    ("cohort", "lab", "time", "mean", "sd", "p_column", "p"),
    [
        # thesis Table 3 (retrospective MCV, month 2 and month 6 rows)
        ("retrospective", "mcv", "month 2", "86.16", "4.97", "p vs baseline (two-sided)", 0.004),
        ("retrospective", "mcv", "month 6", "84.6", "7.12", "p vs baseline (two-sided)", 0.006),
        # thesis Table 2 (retrospective hemoglobin, month 2 row)
        ("retrospective", "hgb", "month 2", "11.8", "1.75", "p vs baseline (two-sided)", 0.822),
        # thesis Table 5 (prospective % iron saturation and hepcidin at month 2; hepcidin's
        # printed p = 0.01 is the one-sided p for a fall)
        ("prospective", "tsat", "month 2", "14.25", "5.32", "p vs baseline (two-sided)", 0.0425),
        ("prospective", "hepcidin", "month 2", "21.1", "3.6", "p one-sided, for a fall", 0.01),
    ],
)  # fmt: skip
def test_paired_tests_page_reproduces_thesis_tables(cohort, lab, time, mean, sd, p_column, p):
    at = started_app()
    at.selectbox(key="flt_cohort").set_value(cohort).run()
    at.switch_page("pages/paired_tests.py").run()
    at.selectbox(key="sel_lab").set_value(lab).run()
    assert not at.exception, at.exception
    row = _study_table(at).loc[time]
    decimals = len(mean.split(".")[1])
    assert round(float(row["mean"]), decimals) == float(mean)
    assert round(float(row["SD"]), len(sd.split(".")[1])) == float(sd)
    p_decimals = len(str(p).split(".")[1])
    assert round(float(row[p_column]), p_decimals) == p


def test_paired_tests_page_reads_out_the_result():
    at = started_app()
    at.selectbox(key="flt_cohort").set_value("retrospective").run()
    at.switch_page("pages/paired_tests.py").run()
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    # demo means 88.655 -> 86.16 (thesis Table 3): a fall of 2.495 fL over 20 pairs
    assert "MCV fell by 2.49 fL on average" in text
    assert "df = 19" in text
    assert at.metric[0].value == "20"  # pairs


def test_power_page_planning_mode():
    at = started_app()
    at.switch_page("pages/power.py").run()
    at.selectbox(key="power_mode").set_value("plan").run()
    at.number_input(key="plan_n").set_value(20).run()
    at.number_input(key="plan_sd").set_value(1.0).run()
    at.number_input(key="delta_plan_the lab").set_value(0.7).run()
    assert not at.exception, at.exception
    # d_z = 0.7 needs 19 pairs for 80 % power (two-sided alpha 0.05; statistics guide)
    assert at.metric[3].value == "19"


def test_failed_upload_can_be_corrected_and_retried():
    at = started_app()
    data = b"Subj,MCV start,MCV 2 months\nA,80,78\nB,82,79\nC,85,80\n"
    at.file_uploader(key="upload").set_value(("odd.csv", data, "text/csv")).run()
    assert any("No patient ID column" in e.value for e in at.error)
    at.selectbox(key="fix_role_0").set_value("patient_id").run()
    at.button(key="fix_apply").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "odd.csv" in sidebar_text(at)
    assert "3 of 3 patients" in sidebar_text(at)


def test_censored_values_rule_is_offered_and_kept():
    at = started_app()
    data = b"id,MCV 0,MCV 2\nA,80,<70\nB,82,79\nC,85,80\n"
    at.file_uploader(key="upload").set_value(("cens.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="censored_choice").value == "limit"
    at.selectbox(key="censored_choice").set_value("exclude").run()
    at.switch_page("pages/paired_tests.py").run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "2"  # the pair with '<70' left out
    assert "Censored values (e.g. <5) left out" in sidebar_text(at)


HOSTILE = (
    b"id,sex,cohort,Hepcidin (![u](http://example.invalid/u.png)) 0,"
    b"Hepcidin (![u](http://example.invalid/u.png)) 2\n"
    b"![p](http://example.invalid/p.png),F,**x**,40,0\nB,M,**x**,30,20\nC,F,**x**,35,25\n"
)


def test_file_strings_are_never_rendered_as_markdown():
    """A hostile upload (Markdown images in IDs and units) shows them only as text."""
    at = started_app()
    at.file_uploader(key="upload").set_value(("h.csv", HOSTILE, "text/csv")).run()
    assert not at.error, [e.value for e in at.error]
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
        kinds = ("markdown", "caption", "info", "warning", "error", "success", "header",
                 "subheader", "title", "metric")  # fmt: skip
        for kind in kinds:
            for element in at.get(kind):
                text = str(getattr(element, "value", "")) + str(getattr(element, "label", ""))
                assert "](http" not in text, (spec.title, kind, text)
        for widget in ("number_input", "selectbox", "text_area"):
            for element in at.get(widget):
                assert "](http" not in str(element.label), (spec.title, widget, element.label)


def test_power_page_survives_a_huge_sd():
    at = started_app()
    at.switch_page("pages/power.py").run()
    at.selectbox(key="power_mode").set_value("plan").run()
    at.number_input(key="plan_sd").set_value(1000.0).run()
    assert not at.exception, at.exception
    assert int(at.metric[3].value) > 100_000  # pairs needed for 3 units at SD 1000
