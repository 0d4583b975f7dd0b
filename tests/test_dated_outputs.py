"""Dated results on the command line and in the outputs: ``validate --json``'s keys, the
window options on every command that reads a file (read in a child process), the
reproduce commands and settings that carry the window rules, and the timeline chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_dated_loader import STARTS, USED, _csv

from analytics.cli import main
from analytics.errors import NeedsAnswer
from analytics.filters import CohortFilter
from analytics.output.commands import commands, validate_command
from analytics.output.files import settings_dict
from analytics.reading.isolation import load_cohort_isolated
from analytics.reading.loader import load_cohort
from analytics.reading.window_rules import VisitWindows
from analytics.viz.timeline import NOT_USED, timeline_chart
from analytics.viz.timeline import USED as USED_STATUS

WINDOW_OPTIONS = ["--anchor", "Sirolimus start", "--times", "0,2,6", "--window-days", "15"]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "results.csv"
    path.write_bytes(_csv())
    return path


def _json(capsys, argv: list[str]) -> dict:
    status = main(argv)
    out = capsys.readouterr()
    assert status == 0, out.err
    return json.loads(out.out)


def test_validate_json_reports_the_windowed_time_points_rows_and_rules(capsys, export):
    result = _json(
        capsys, ["validate", str(export), *WINDOW_OPTIONS, "--baseline-days", "30", "--json"]
    )
    assert result["layout"] == "dated long"
    assert result["analytes"] == {"hgb": [0.0, 2.0, 6.0], "mcv": [0.0, 2.0], "ferritin": [2.0]}
    assert (result["n_rows_in"], result["n_rows_used"], result["n_rows_excluded"]) == (18, 8, 10)
    assert result["windows"] == [
        {"time": 0.0, "label": "month 0", "rule": "last value",
         "target_day": 0, "from_day": -30, "to_day": 0},
        {"time": 2.0, "label": "month 2", "rule": "closest value",
         "target_day": 61, "from_day": 46, "to_day": 76},
        {"time": 6.0, "label": "month 6", "rule": "closest value",
         "target_day": 183, "from_day": 168, "to_day": 198},
    ]  # fmt: skip
    dated = result["dated_results"]
    assert (dated["n_results"], dated["n_used"], dated["n_excluded"]) == (18, 8, 10)
    assert {g["kind"]: g["count"] for g in dated["by_reason"]} == {
        "closer_value_used": 3,
        "later_value_used": 1,
        "before_baseline_window": 1,
        "outside_every_window": 1,
        "duplicate_row": 1,
        "no_lab_value": 1,
        "no_collection_date": 1,
        "no_start_date": 1,
    }
    assert dated["anchor"] == "Sirolimus start" and dated["default_times"] is False


def test_validate_json_of_a_file_without_dates_has_no_windows(capsys):
    demo = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.csv"
    result = _json(capsys, ["validate", str(demo), "--json"])
    assert result["windows"] is None and result["dated_results"] is None
    assert result["n_rows_excluded"] == result["n_excluded"]


def test_edited_windows_on_the_command_line_change_the_numbers(capsys, export):
    narrow = _json(
        capsys, ["validate", str(export), "--times", "0,2", "--window-days", "14", "--json"]
    )
    assert narrow["analytes"] == {"hgb": [0.0, 2.0], "mcv": [0.0], "ferritin": [2.0]}
    assert narrow["windows"][1]["from_day"] == 47


def test_paired_and_timecourse_take_the_window_options(capsys, export):
    paired = _json(
        capsys,
        ["paired", str(export), *WINDOW_OPTIONS, "--analyte", "hgb", "--baseline", "0",
         "--follow-up", "2", "--json"],
    )  # fmt: skip
    # P1 11.8 -> 11.0, P2 13.1 -> 12.4: changes -0.8 and -0.7 (hand calculation)
    assert paired["n_pairs"] == 2
    assert paired["mean_change"] == pytest.approx(-0.75)
    course = _json(
        capsys, ["timecourse", str(export), *WINDOW_OPTIONS, "--analyte", "hgb", "--json"]
    )
    assert [row["time"] for row in course["table"]] == ["month 0", "month 2", "month 6"]


def test_export_and_report_take_the_window_options(capsys, export, tmp_path):
    table = tmp_path / "paired.csv"
    argv = ["export", str(export), *WINDOW_OPTIONS, "--analyte", "hgb", "--baseline", "0",
            "--follow-up", "2", "-o", str(table)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert b"Complete pairs,2,n_pairs\r\n" in table.read_bytes()
    report = tmp_path / "report.html"
    assert main(["report", str(export), *WINDOW_OPTIONS, "-o", str(report)]) == 0
    assert b"<html" in report.read_bytes()[:200].lower()


def test_both_reports_describe_the_visit_windows(capsys, export, tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("patient_id,MCV 0,MCV 2\nA,80,78\nB,82,81\n", encoding="utf-8")
    for lab in ([], ["--analyte", "hgb", "--baseline", "0", "--follow-up", "2"]):
        report = tmp_path / "report.html"
        argv = ["report", str(export), *WINDOW_OPTIONS, *lab, "-o", str(report)]
        assert main(argv) == 0, capsys.readouterr().err
        html = report.read_text(encoding="utf-8")
        section = html[html.index('<section id="windows">') :]
        section = section[: section.index("</section>")]
        assert "start date (column &#x27;Sirolimus start&#x27;; day 0" in section
        # month 2 = day 61 (round(30.4375 * 2)), ±15 days, as --window-days 15 says
        assert 'month 2</td><td>the closest value</td><td class="num">61</td>' in section
        assert "46 to 76" in section and "−30 to 0" in section  # baseline: last value
        assert "Result rows:" in section and "used at a time point:" in section
    assert main(["report", str(wide), "-o", str(report)]) == 0
    assert 'id="windows"' not in report.read_text(encoding="utf-8")  # no dates, no windows


def test_ambiguous_dates_on_the_command_line_name_the_option(capsys, tmp_path):
    path = tmp_path / "results.csv"
    path.write_bytes(
        b"MRN,Test,Result,Collected,Sirolimus start\nP1,HGB,11,03/01/2023,05/01/2023\n"
    )
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nothing in the file tells which" in err and "--date-order dmy" in err
    result = _json(capsys, ["validate", str(path), "--date-order", "dmy", "--json"])
    assert result["analytes"] == {"hgb": [0.0]}  # 3 January is day −2 from 5 January
    # read month first, 1 March is day −61 from 1 May: before the baseline window
    assert main(["validate", str(path), "--date-order", "mdy"]) == 2
    assert "1 before the baseline window" in capsys.readouterr().err


def test_start_dates_from_a_second_file_on_the_command_line(capsys, tmp_path):
    results = tmp_path / "results.csv"
    results.write_bytes(_csv(starts=False))
    starts = tmp_path / "starts.csv"
    starts.write_text("MRN,Start date\n" + "".join(f"{p},{d}\n" for p, d in STARTS.items()))
    result = _json(capsys, ["validate", str(results), "--anchor-file", str(starts), "--json"])
    assert result["dated_results"]["n_used"] == len(USED)
    assert result["n_rows_used"] == len(USED) + len(STARTS)  # and the second file's rows
    assert result["dated_results"]["anchor_file"] == "starts.csv"
    assert main(["validate", str(results)]) == 2
    assert "--anchor-file FILE" in capsys.readouterr().err


def test_window_options_for_a_wide_file_are_refused(capsys):
    demo = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.csv"
    assert main(["validate", str(demo), "--times", "0,2"]) == 2
    assert "apply to dated results" in capsys.readouterr().err


def test_a_question_keeps_its_kind_across_the_child_process():
    with pytest.raises(NeedsAnswer) as raised:
        load_cohort_isolated(_csv(starts=False), "results.csv")
    assert raised.value.question == "anchor"


def test_reproduce_commands_and_settings_carry_the_window_rules():
    windows = VisitWindows(times=("0", "2"), window_days=10, baseline_days=20, date_order="dmy")
    cohort = load_cohort(_csv("dmy"), "results.csv", windows=windows)
    rules = (
        "--anchor 'Sirolimus start' --times 0,2 --window-days 10 --baseline-days 20 "
        "--date-order dmy"
    )
    assert validate_command(cohort).endswith(f"results.csv {rules} --json")
    assert all(rules in line for line in commands(cohort, CohortFilter()))
    recorded = settings_dict(cohort)["data"]["visit_windows"]
    assert recorded["times"] == ["0", "2"]
    assert (recorded["window_days"], recorded["baseline_days"]) == (10, 20)
    assert recorded["rules"][1] == {
        "time": 2.0, "label": "month 2", "rule": "closest value",
        "target_day": 61, "from_day": 51, "to_day": 71,
    }  # fmt: skip
    assert recorded["date_order"] == "dmy"


def test_reproduce_command_gives_the_same_table(capsys, tmp_path):
    windows = VisitWindows(times=("0", "2"), window_days=10)
    cohort = load_cohort(_csv(), "results.csv", windows=windows)
    (tmp_path / "results.csv").write_bytes(_csv())
    words = validate_command(cohort).split(" ", 3)[3]  # after "python -m analytics"
    import shlex

    argv = shlex.split(words)
    argv[1] = str(tmp_path / argv[1])
    result = _json(capsys, argv)
    assert result["analytes"] == {k: list(v.times) for k, v in cohort.analytes.items()}
    assert result["n_rows_used"] == cohort.report.n_rows_used


def test_timeline_chart_shades_the_windows_and_marks_the_values_used():
    cohort = load_cohort(_csv(), "results.csv")
    spec = timeline_chart(cohort.windowed, "hgb", "Hemoglobin", ["P1", "P2", "P3"]).to_dict()
    layers = spec["layer"]
    marks = [layer["mark"]["type"] for layer in layers]
    assert marks == ["rect", "rule", "text", "point"]
    windows = spec["datasets"][layers[0]["data"]["name"]]
    assert [(w["start"], w["end"], w["label"]) for w in windows] == [
        (-30.5, 0.5, "month 0"),
        (45.5, 76.5, "month 2"),
        (167.5, 198.5, "month 6"),
    ]
    points = spec["datasets"][layers[3]["data"]["name"]]
    # P1's seven hemoglobins and P2's four (P3 has no start date, so no day)
    assert len(points) == 11
    used = sorted((p["patient"], p["day"], p["time"]) for p in points if p["status"] == USED_STATUS)
    assert used == [("P1", 0, "month 0"), ("P1", 61, "month 2"), ("P1", 183, "month 6"),
                    ("P2", 0, "month 0"), ("P2", 56, "month 2")]  # fmt: skip
    assert sum(p["status"] == NOT_USED for p in points) == 6
    assert layers[3]["encoding"]["x"]["field"] == "day"
    assert layers[3]["encoding"]["y"]["sort"] == ["P1", "P2"]


def test_every_window_option_is_documented_in_the_readme():
    from analytics.cli import build_parser

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    validate = build_parser()._subparsers._group_actions[0].choices["validate"]
    group = next(g for g in validate._action_groups if g.title.startswith("dated results"))
    options = [action.option_strings[0] for action in group._group_actions]
    assert options == [
        "--anchor",
        "--anchor-file",
        "--times",
        "--window-days",
        "--baseline-days",
        "--date-order",
    ]
    assert [o for o in options if f"`{o}" not in readme] == []
