"""AppTest of the Overview (the home page) and of the excluded patients summarised on the
Paired tests and Charts pages."""

from __future__ import annotations

import json

from app_session import HOME, started_app
from streamlit.testing.v1 import AppTest

from ui.shell import PAGES


def _text(at: AppTest) -> str:
    """Everything the main area says in Markdown, captions, info and warnings (unescaped)."""
    parts = [
        str(element.value)
        for kind in ("markdown", "caption", "info", "warning", "subheader")
        for element in at.main.get(kind)
    ]
    return " ".join(parts).replace("\\", "")


def _chart_titles(at: AppTest) -> list[str]:
    return [json.loads(el.proto.spec)["title"]["text"] for el in at.get("vega_lite_chart")]


def test_overview_is_the_home_page():
    assert PAGES[0].path == "pages/overview.py"
    assert [spec.title for spec in PAGES if spec.default] == ["Overview"]
    at = started_app(page=HOME)
    assert at.title[0].value == "Overview"


def test_overview_shows_both_labs_charts_sentences_and_the_5_pair_caveat():
    at = started_app(page=HOME)
    headings = [h.value.replace("\\", "") for h in at.main.subheader]
    assert headings == ["MCV (fL), month 0 → month 2", "Hepcidin (ng/mL), month 0 → month 2"]
    assert _chart_titles(at) == [
        "Each patient's change, n = 25 patients",
        "Patient flow: 25 of 25 analysed",
        "Each patient's change, n = 5 patients",
        "Patient flow: 5 of 25 analysed",
    ]
    text = _text(at)
    # R: t.test(paired = TRUE) on the demo (see test_flow.py): p = 0.001146 and 0.02154
    assert "MCV fell on average from month 0 to month 2: mean change −2.46 fL" in text
    assert "p = 0.00115, 25 pairs." in text
    assert "Hepcidin fell on average from month 0 to month 2: mean change −28.0 ng/mL" in text
    assert "p = 0.0215, 5 pairs." in text
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert len(warnings) == 1 and warnings[0].startswith("**What 5 pairs can show**")
    assert "With 5 pairs no rank test can reach p < 0.05" in warnings[0]
    assert (
        "Removing any one of 4 patients (P01, P02, P04, P05) moves p across 0.05." in (warnings[0])
    )
    assert "Smallest change 5 pairs can detect with 80 % power: 28.8 ng/mL" in warnings[0]
    assert "Not analysed — 20 patients without hepcidin values: the retrospective cohort." in text
    assert "R01" not in text


def test_overview_follows_the_filter():
    at = started_app(page=HOME)
    at.selectbox(key="flt_cohort").set_value("prospective").run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "p = 0.0215, 5 pairs." in text  # hepcidin: the same 5 patients
    assert "MCV fell on average from month 0 to month 2" in text
    assert "25 pairs" not in text
    assert "Patient flow: 5 of 25 analysed" in _chart_titles(at)
    at.selectbox(key="flt_cohort").set_value("retrospective").run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "None of these patients has a hepcidin value." in text
    assert "20 pairs." in text  # MCV, month 0 -> 2 in the 20 retrospective patients
    assert len(at.get("vega_lite_chart")) == 2  # MCV's change and flow; no hepcidin chart


def test_labs_can_be_added_and_the_choice_survives_other_pages():
    at = started_app(page=HOME)
    at.multiselect(key="ov_labs").set_value(["mcv", "hepcidin", "hgb"]).run()
    assert not at.exception, at.exception
    assert len(at.main.subheader) == 3
    at.switch_page("pages/cohort.py").run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="ov_labs").value == ["mcv", "hepcidin", "hgb"]
    assert at.main.subheader[2].value.startswith("Hemoglobin")
    at.multiselect(key="ov_labs").set_value([]).run()
    assert [i.value for i in at.info] == ["Choose at least one lab above."]


def test_a_labs_detail_opens_paired_tests_with_that_lab_and_times():
    at = started_app(page=HOME)
    at.button(key="ov_detail_hepcidin").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Paired tests"
    assert at.selectbox(key="sel_lab").value == "hepcidin"
    assert at.selectbox(key="sel_t1_hepcidin").value == 2.0
    assert at.metric[0].value == "5"


def test_overview_points_to_the_data_page_for_ones_own_file():
    at = started_app(page=HOME)
    links = at.main.get("page_link")
    assert len(links) == 1
    assert "Use your own file" in links[0].proto.label
    assert links[0].proto.page.endswith("data")


def test_paired_tests_summarises_the_excluded_patients_in_one_line():
    at = started_app()
    at.switch_page("pages/paired_tests.py").run()
    at.selectbox(key="sel_lab").set_value("hepcidin").run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "Not in this comparison — 20 patients without hepcidin values: the retrospective " in (
        text
    )
    headline = next(m.value for m in at.markdown if "Hepcidin fell by" in m.value)
    assert "R01" not in headline and "excluded" not in headline
    # the 20 patients are listed only in the expander, not in a table above the tabs
    listed = [d.value for d in at.dataframe if list(d.value.columns) == ["patient", "reason"]]
    assert len(listed) == 1 and len(listed[0]) == 20
    assert "With 5 pairs no rank test can reach p < 0.05" in text
    assert "Patient flow, Hepcidin (ng/mL), month 0 → month 2: 5 of 25 analysed" in (
        _chart_titles(at)
    )


def test_charts_page_summarises_who_is_not_in_each_chart():
    at = started_app()
    at.switch_page("pages/charts.py").run()
    at.selectbox(key="sel_lab").set_value("hepcidin").run()
    assert not at.exception, at.exception
    lines = [c.value.replace("\\", "") for c in at.caption if "Not in this chart" in c.value]
    assert lines
    assert all("R01" not in line for line in lines)
    assert (
        "Not in this chart — 20 patients without hepcidin values: the retrospective cohort."
        in lines
    )


def test_another_file_brings_its_own_labs_and_says_what_cannot_be_compared():
    at = started_app()
    data = b"id,MCV 0,MCV 2,Hgb 0,Hgb 2\nA,80,,10,11\nB,,79,11,12\nC,81,,12,12.5\n"
    at.file_uploader(key="upload").set_value(("x.csv", data, "text/csv")).run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="ov_labs").value == ["mcv", "hgb"]  # no hepcidin in this file
    text = _text(at)
    assert "no patient here has MCV at both times." in text
    assert "Not analysed — 2 patients without MCV at month 2: A, C; 1 patient without MCV " in text
    assert "Hemoglobin rose on average from month 0 to month 2" in text
    assert "3 pairs." in text
