"""AppTest of the Data page with dated results: the windows shown, the timeline chart,
editing a window changes the cohort, the questions the page asks (date order, a file of
start dates), and every other page working on the windowed cohort."""

from __future__ import annotations

import json

import pytest
from app_session import sidebar_text, started_app
from dated_export import demo_like_results, export_csv
from streamlit.testing.v1 import AppTest
from test_dated_loader import STARTS, _csv

from analytics.reading.loader import load_cohort
from ui.shell import DEMO_FILE


def _upload(at: AppTest, name: str, data: bytes, key: str = "upload") -> None:
    at.file_uploader(key=key).set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _timeline_specs(at: AppTest) -> list[dict]:
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    return [s for s in specs if "Days since the start date" in json.dumps(s)]


def test_dated_upload_shows_the_windows_the_timeline_and_the_outcomes():
    at = started_app()
    _upload(at, "results.csv", _csv())
    assert [e.value for e in at.error] == []
    assert "Visit windows" in [s.value for s in at.subheader]
    assert "3 of 3 patients" in sidebar_text(at)
    rules = next(d.value for d in at.dataframe if "target day" in d.value.columns)
    assert rules[["time point", "target day", "from day", "to day"]].values.tolist() == [
        ["month 0", 0, -30, 0],
        ["month 2", 61, 46, 76],
        ["month 6", 183, 168, 198],
    ]
    assert (_metric(at, "Result rows"), _metric(at, "Used at a time point")) == ("18", "8")
    (timeline,) = _timeline_specs(at)
    assert "Hemoglobin" in timeline["title"]["text"]
    assert at.selectbox(key="win_lab").value == "hgb"
    reproduce = " ".join(c.value for c in at.code)
    assert "--anchor 'Sirolimus start' --times 0,2,6 --window-days 15 --baseline-days 30" in (
        reproduce
    )


def test_editing_a_window_reads_the_file_again_and_changes_the_cohort():
    at = started_app()
    _upload(at, "results.csv", _csv())
    at.number_input(key="win_window_days").set_value(14).run()
    at.button(key="win_apply").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []
    # month 2 becomes day 47..75: the MCV of day 46 is no longer used
    assert _metric(at, "Used at a time point") == "7"
    rules = next(d.value for d in at.dataframe if "target day" in d.value.columns)
    assert rules["from day"].tolist() == [-30, 47, 169]
    assert "--window-days 14" in " ".join(c.value for c in at.code)
    at.text_input(key="win_times").set_value("0, soon").run()
    at.button(key="win_apply").click().run()
    assert any("'soon' is not a time point" in e.value for e in at.error)
    assert _metric(at, "Used at a time point") == "7"  # the cohort in use is kept


def test_ambiguous_dates_are_asked_on_the_page():
    at = started_app()
    data = b"MRN,Test,Result,Collected,Sirolimus start\nP1,HGB,11,03/01/2023,05/01/2023\n"
    _upload(at, "ambiguous.csv", data)
    (error,) = [e.value for e in at.error]
    assert "could not be used" in error and "nothing in the file tells which" in error
    at.selectbox(key="ask_date_order").set_value("dmy").run()
    at.button(key="ask_apply").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []
    assert "ambiguous.csv" in sidebar_text(at)
    assert "Visit windows" in [s.value for s in at.subheader]
    assert at.selectbox(key="win_date_order").value == "dmy"


def test_missing_start_dates_ask_for_a_second_file():
    at = started_app()
    _upload(at, "results.csv", _csv(starts=False))
    assert any("no start date per patient" in e.value for e in at.error)
    starts = "MRN,Start date\n" + "".join(f"{p},{d}\n" for p, d in STARTS.items())
    _upload(at, "starts.csv", starts.encode(), key="anchor_upload")
    assert [e.value for e in at.error] == []
    assert "results.csv" in sidebar_text(at)
    assert _metric(at, "Used at a time point") == "8"
    assert "--anchor-file starts.csv" in " ".join(c.value for c in at.code)


@pytest.fixture(scope="module")
def demo_export() -> bytes:
    demo = load_cohort(DEMO_FILE.read_bytes(), DEMO_FILE.name)
    results, starts = demo_like_results(demo)
    attributes = {str(p): {"Cohort": demo.patients.loc[p, "cohort"]} for p in demo.patients.index}
    return export_csv(results, starts, attributes=attributes)


@pytest.mark.parametrize(
    "path",
    ["pages/cohort.py", "pages/paired_tests.py", "pages/power.py", "pages/charts.py"],
)
def test_every_page_works_on_the_windowed_cohort(demo_export, path):
    at = started_app()
    _upload(at, "hospital.csv", demo_export)
    at.text_input(key="win_times").set_value("0, 2w, 1, 2, 6").run()
    at.button(key="win_apply").click().run()
    assert "25 of 25 patients" in sidebar_text(at)
    at.switch_page(path).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []


def test_the_start_date_column_can_be_picked_when_it_is_not_recognised():
    at = started_app()
    data = _csv().replace(b"Sirolimus start\n", b"Tx date\n", 1)
    _upload(at, "results.csv", data)
    assert any("no start date per patient" in e.value for e in at.error)
    assert at.selectbox(key="fix_role_5").value == "attribute"  # 'Tx date'
    at.selectbox(key="fix_role_5").set_value("anchor").run()
    at.button(key="fix_apply").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []
    assert _metric(at, "Used at a time point") == "8"
    assert "--map 'Tx date=anchor'" in " ".join(c.value for c in at.code)


def test_the_window_editor_shows_the_windows_in_use_after_another_page():
    at = started_app()
    _upload(at, "results.csv", _csv())
    at.number_input(key="win_window_days").set_value(10).run()
    at.button(key="win_apply").click().run()
    at.switch_page("pages/cohort.py").run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="win_times").value == "0, 2, 6"
    assert at.number_input(key="win_window_days").value == 10
    assert at.number_input(key="win_baseline_days").value == 30
