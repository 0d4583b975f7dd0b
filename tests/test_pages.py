"""AppTest smoke tests: every page renders on the demo cohort and after an upload."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.shell import PAGES

ROOT = Path(__file__).resolve().parent.parent
DEMO_XLSX = ROOT / "data" / "sirolimus_demo.xlsx"
TIMEOUT = 60
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _app() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def _sidebar_text(at: AppTest) -> str:
    return " ".join(str(getattr(el, "value", "")) for el in at.sidebar)


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_renders_on_demo(spec):
    at = _app()
    if not spec.default:
        at.switch_page(spec.path).run()
    assert not at.exception, at.exception
    assert at.title[0].value == spec.title
    assert "25 of 25 patients" in _sidebar_text(at)


def test_upload_replaces_demo_and_every_page_follows():
    at = _app()
    at.file_uploader(key="upload").set_value(
        ("my cohort.xlsx", DEMO_XLSX.read_bytes(), XLSX_MIME)
    ).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "my cohort.xlsx" in _sidebar_text(at)
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
        assert at.title[0].value == spec.title
        assert "my cohort.xlsx" in _sidebar_text(at)


def test_bad_upload_is_explained_and_demo_stays():
    at = _app()
    at.file_uploader(key="upload").set_value(("bad.csv", b"sex,MCV 0\nF,80\n", "text/csv")).run()
    assert not at.exception, at.exception
    assert any("No patient ID column" in e.value for e in at.error)
    assert "Demo cohort" in _sidebar_text(at)


def test_filters_persist_across_pages():
    at = _app()
    at.selectbox(key="flt_sex").set_value("Female").run()
    assert "12 of 25 patients" in _sidebar_text(at)
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
        assert at.selectbox(key="flt_sex").value == "Female"
        assert "12 of 25 patients" in _sidebar_text(at)


def test_cohort_page_shows_characteristics_of_filtered_patients():
    at = _app()
    at.selectbox(key="flt_cohort").set_value("prospective").run()
    at.switch_page("pages/cohort.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    # thesis Table 4: 5 prospective patients, 2 female, mean age 15.8
    assert table.loc["Patients, n", "All patients"] == "5"
    assert table.loc["Female, n (%)", "All patients"] == "2 (40 %)"
    assert table.loc["Age, years, mean ± SD", "All patients"].startswith("15.8")


def test_filter_with_no_patients_says_so():
    at = _app()
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
