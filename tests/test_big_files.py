"""Big and hostile input: linear-time text handling, numbers checked, bounded reports.

Nothing here asserts a time: a test "hangs" when a quadratic pattern meets a long
text, and the ``within_10_seconds`` fixture turns a hang of more than 10 s into a
failure (the patterns these inputs used to meet took 4.5 s for 8,000 characters and
never finished for 100,000). Load times and memory are measured by ``scripts/benchmark_loader.py``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analytics import AnalysisError, load_cohort
from analytics.cli import main, validation_dict
from analytics.cohort import Issue, IssueLog, ValidationReport
from analytics.labs import canonical_lab, normalise_unit, parse_time
from analytics.limits import LIMITS
from analytics.reading.attributes import parse_age, parse_sex, parse_yes_no
from analytics.reading.cells import classify_cell, classify_column
from analytics.reading.headers import recognise_header
from analytics.reading.identifiers import looks_like_identifier
from analytics.reading.loader import header_columns, summary_rows
from analytics.stats.paired import dz_interval, paired_change
from analytics.stats.power import mde_dz

KEPT = int(LIMITS["issues_kept_per_group"].value)
MAX_HEADER = int(LIMITS["max_header_chars"].value)
LONG = 100_000


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


# --------------------------------------------------------------------------- patterns

# Texts that make a backtracking pattern quadratic (or worse) when one is.
ADVERSARIAL = {
    "open brackets": "(" * LONG,
    "open square brackets": "[" * LONG,
    "bracket then letters": "(" + "a" * LONG,
    "spaces": " " * LONG,
    "spaces then x": " " * LONG + "x",
    "digits": "1" * LONG,
    "digits then x": "1" * LONG + "x",
    "1, repeated": "1," * (LONG // 2),
    "1. repeated": "1." * (LONG // 2),
    "dots": "." * LONG,
    "less-than then spaces": "<" + " " * LONG + "x",
    "number then spaces then digit": "1 x" + " " * LONG + "1",
    "exponents": "1e" * (LONG // 2),
    "words": "mcv " * (LONG // 4),
    "month words": "month " * (LONG // 6),
    "underscores and dashes": "_-" * (LONG // 2),
}
CASES = list(ADVERSARIAL.items())
IDS = list(ADVERSARIAL)


@pytest.mark.parametrize(("name", "text"), CASES, ids=IDS)
def test_header_recognition_is_linear(within_10_seconds, name, text):
    role = recognise_header(text)
    assert role.role == "attribute"  # longer than max_header_chars: not a header
    assert not looks_like_identifier(text)
    assert canonical_lab(text) is None


@pytest.mark.parametrize(("name", "text"), CASES, ids=IDS)
def test_cell_reading_is_linear(within_10_seconds, name, text):
    reading = classify_cell(text)
    if len(text.strip()) > int(LIMITS["max_value_chars"].value):
        assert (reading.kind, reading.problem) == ("invalid", "long_text")
        assert f"{len(text.strip()):,} characters" in reading.message
        assert len(reading.message) < 200  # the cell is quoted shortened
    column = classify_column(pd.Series([text, "11.7", text], dtype=object))
    assert list(column["kind"]) == [reading.kind, "number", reading.kind]


@pytest.mark.parametrize(("name", "text"), CASES, ids=IDS)
def test_attribute_and_time_reading_is_linear(within_10_seconds, name, text):
    assert parse_time(text) is None
    value, problem = parse_age(text)
    assert value is None
    assert problem == "" or "not a number of years" in problem
    parse_sex(text)
    parse_yes_no(text, "iron therapy")
    normalise_unit(text)
    summary_rows([text, "P1", text])


@pytest.mark.parametrize(("name", "text"), CASES, ids=IDS)
def test_a_file_with_a_hostile_header_and_cells_loads(within_10_seconds, name, text):
    cell = text.replace('"', "")
    # one long cell per line: the CSV reader's delimiter sniffing stops at 128 KB a line
    data = _csv(f'id,"{cell}",MCV 0,MCV 2\nP1,x,80,"{cell}"\nP2,x,82,81\nP3,y,84,85\n')
    cohort = load_cohort(data, "x.csv")
    assert cohort.n_patients == 3
    header = cohort.mapping[1]
    if len(" ".join(cell.split())) > MAX_HEADER:  # runs of spaces count as one
        assert header.column == "column B" and header.role == "attribute"
        warning = next(w for w in cohort.report.warnings if w.kind == "long_header")
        assert warning.column == "column B"
        assert f"{len(' '.join(cell.split())):,} characters long" in warning.message
    if len(cell.strip()) > int(LIMITS["max_value_chars"].value):
        unreadable = next(w for w in cohort.report.warnings if w.column == "MCV 2")
        assert (unreadable.row, unreadable.kind) == (2, "long_text")
    assert len(header_columns(data, "x.csv")[1]) <= MAX_HEADER


@pytest.mark.parametrize(("extra", "role"), [(0, "lab"), (1, "attribute")])
def test_a_header_up_to_the_limit_is_read(extra, role):
    header = "Hgb (" + "u" * (MAX_HEADER - 8 + extra) + ") 2"
    assert len(header) == MAX_HEADER + extra
    assert recognise_header(header).role == role


# --------------------------------------------------------------------------- numbers

NON_FINITE = [
    # (cell, kind of problem, words the message must contain)
    ("1e309", "non_finite", "'1e309' is infinite"),
    ("-1e309", "non_finite", "'-1e309' is infinite"),
    ("inf", "non_finite", "'inf' is infinite"),
    ("-inf", "non_finite", "'-inf' is infinite"),
    ("Infinity", "non_finite", "'Infinity' is infinite"),
    ("nan", "non_finite", "'nan' is not a number"),
    ("NaN", "non_finite", "'NaN' is not a number"),
    ("<1e309", "non_finite", "'<1e309' is infinite"),
    ("1e13", "too_large", "'1e13' is larger than 1e+12"),
    ("-2e15 g/dL", "too_large", "'-2e15 g/dL' is larger than 1e+12"),
    (float("inf"), "non_finite", "an infinite number"),
    (float("-inf"), "non_finite", "an infinite number"),
    (1e300, "too_large", "the number 1e+300 is larger than 1e+12"),
    (10**400, "non_finite", "an infinite number"),
]


@pytest.mark.parametrize(("cell", "problem", "words"), NON_FINITE)
def test_non_finite_and_huge_numbers_are_unreadable(cell, problem, words):
    reading = classify_cell(cell)
    assert (reading.kind, reading.problem) == ("invalid", problem)
    assert math.isnan(reading.value)
    assert words in reading.message
    column = classify_column(pd.Series([cell, 5.0], dtype=object))
    assert list(column["kind"]) == ["invalid", "number"]
    assert column["message"].iloc[0] == reading.message


def test_the_largest_allowed_value_is_read():
    assert classify_cell("1e12").value == 1e12
    assert classify_cell(-1e12).value == -1e12
    assert classify_column(pd.Series(["1e12", 1e12], dtype=object))["value"].tolist() == [1e12] * 2


@pytest.mark.parametrize(
    ("age", "words"),
    [
        ("inf", "age 'inf' is not a finite number"),
        ("nan", "age 'nan' is not a finite number"),
        ("1e309", "age '1e309' is not a number of years"),
        (float("inf"), "age is an infinite number"),
        (1e300, "age 1e+300 is outside 0-120 years"),
    ],
)
def test_non_finite_ages_are_warned_about(age, words):
    value, problem = parse_age(age)
    assert value is None and words in problem


def test_non_finite_cells_are_warnings_with_row_and_column():
    data = _csv(
        "id,age,MCV 0,MCV 2\n"
        "P1,inf,80,1e309\n"  # row 2
        "P2,40,nan,81\n"  # row 3
        "P3,41,-inf,2e13\n"  # row 4
        "P4,42,84,85\n"
    )
    cohort = load_cohort(data, "x.csv")
    located = {(w.row, w.column, w.kind): w.message for w in cohort.report.warnings}
    assert "'1e309' is infinite" in located[(2, "MCV 2", "non_finite")]
    assert "'nan' is not a number" in located[(3, "MCV 0", "non_finite")]
    assert "'-inf' is infinite" in located[(4, "MCV 0", "non_finite")]
    assert "'2e13' is larger than" in located[(4, "MCV 2", "too_large")]
    assert "age 'inf' is not a finite number" in located[(2, "age", "age_not_finite")]
    values = cohort.labs.set_index(["patient_id", "column"])["value"]
    assert ("P1", "MCV 2") not in values.index and ("P3", "MCV 2") not in values.index
    assert np.isfinite(cohort.labs["value"]).all()
    assert math.isnan(cohort.patients.loc["P1", "age"])


def test_an_infinite_number_from_a_spreadsheet_is_a_warning():
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": False})
    sheet = workbook.add_worksheet()
    rows = [["id", "MCV 0", "MCV 2"], ["P1", 80, 1e300], ["P2", 82, 81], ["P3", 84, 85]]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            sheet.write(r, c, cell)
    workbook.close()
    cohort = load_cohort(buffer.getvalue(), "x.xlsx")
    warning = next(w for w in cohort.report.warnings if w.kind == "too_large")
    assert (warning.row, warning.column) == (2, "MCV 2")
    assert "1e+300" in warning.message


def test_a_long_layout_time_that_is_not_finite_excludes_the_row():
    data = _csv("id,lab,time,value\nP1,MCV,0,80\nP1,MCV,2,81\nP1,MCV,1e309,82\nP2,MCV,0,80\n")
    cohort = load_cohort(data, "x.csv")
    reasons = {e.row: e.reason for e in cohort.report.excluded}
    assert "not recognised" in reasons[4]
    assert list(cohort.analytes["mcv"].times) == [0.0, 2.0]


# --------------------------------------------------------------------------- solvers


@pytest.mark.parametrize(
    ("baseline", "follow_up", "words"),
    [
        ([1e308, -1e308, 1e308], [-1e308, 1e308, -1e308], "too large to compute with"),
        ([1.7e308, 1.0, 2.0], [1.0, 2.0, 3.0], "too large to compute with"),
        ([2e12, 1.0, 2.0], [1.0, 2.0, 3.0], r"\(2e\+12\) is larger than 1e\+12"),
    ],
)
def test_paired_change_on_huge_values_raises_quickly(within_10_seconds, baseline, follow_up, words):
    with pytest.raises(AnalysisError, match=words):
        paired_change(baseline, follow_up, n_permutations=100, n_bootstrap=100)


@pytest.mark.parametrize("t", [math.inf, -math.inf, math.nan])
def test_dz_interval_refuses_a_t_that_is_not_finite(within_10_seconds, t):
    with pytest.raises(AnalysisError, match="not a finite number"):
        dz_interval(t, 10, 0.95)


def test_dz_interval_of_a_huge_t_ends(within_10_seconds):
    low, high = dz_interval(1e300, 5, 0.95)  # the bracket is widened a bounded number of times
    assert low <= high


def test_mde_solver_gives_up_with_a_message(within_10_seconds, monkeypatch):
    import analytics.stats.power as power

    monkeypatch.setattr(power, "power_at", lambda *args, **kwargs: 0.0)  # never reaches
    with pytest.raises(AnalysisError, match="No effect size reaches"):
        mde_dz(10, 0.8, 0.05)
    monkeypatch.setattr(power, "power_at", lambda *args, **kwargs: math.nan)
    with pytest.raises(AnalysisError, match="could not be computed"):
        mde_dz(10, 0.8, 0.05)


@pytest.mark.parametrize("function", ["subgroup", "timecourse", "prevalence"])
def test_other_analyses_refuse_huge_values(function):
    from analytics.stats.common import float_array

    with pytest.raises(AnalysisError, match="too large to compute with"):
        float_array([1.0, 1e300], function)


# --------------------------------------------------------------------------- report


def test_issue_log_keeps_a_few_per_group_and_counts_all():
    log = IssueLog(keep=3)
    for row in range(1, 1001):
        log.record("warning", "not_a_number", f"cell {row}", row, "MCV 2")
    log.add_many("warning", "not_a_number", "MCV 6", list(range(5, 505)), lambda i: f"#{i}")
    log.record("note", "read_as_missing", "'N/A' read as missing", 7, "MCV 2")
    report = ValidationReport(10, 10, (), log.issues(), 1, log.groups())
    assert report.count() == 1501 and report.count("warning") == 1500
    assert len(report.issues) == 7
    groups = [(g.severity, g.column, g.count, g.first_rows) for g in report.issue_groups()]
    assert groups == [
        ("warning", "MCV 2", 1000, (1, 2, 3)),
        ("warning", "MCV 6", 500, (5, 6, 7)),
        ("note", "MCV 2", 1, (7,)),
    ]
    assert report.issue_groups()[1].example == "#0"


def test_a_report_built_from_issues_counts_them():
    issues = (Issue("warning", "a", 2, "x", kind="k"), Issue("warning", "b", 3, "x", kind="k"))
    report = ValidationReport(3, 3, (), issues, 1)
    assert report.count("warning") == 2
    assert [g.count for g in report.issue_groups()] == [2]


def test_a_note_per_distinct_censored_text_the_first_in_text_order_kept():
    # rows 2-16 hold '<1' ... '<15', rows 17-21 '<1' ... '<5' again: 15 distinct texts,
    # one note each; the kept ones are the first 10 in the order of the texts
    # ('<1' < '<10' < ... < '<15' < '<2'), a repeated text naming its rows
    lines = ["id,MCV 0,MCV 2"] + [f"P{i},<{i if i <= 15 else i - 15},80" for i in range(1, 21)]
    report = load_cohort(_csv("\n".join(lines) + "\n"), "censored.csv").report
    group = next(g for g in report.issue_groups() if g.kind == "censored_below")
    assert (group.column, group.count, len(group.issues)) == ("MCV 0", 15, KEPT)
    label = "kept as censored values below the detection limit"
    expected = [f"'<1' {label} (rows 2, 17)"]
    expected += [f"'<{k}' {label}" for k in range(10, 16)]
    expected += [f"'<{k}' {label} (rows {k + 1}, {k + 16})" for k in (2, 3, 4)]
    assert [i.message for i in group.issues] == expected
    assert [i.row for i in group.issues] == [None, 11, 12, 13, 14, 15, 16, None, None, None]


def test_handing_back_pyarrow_memory_changes_nothing_read(monkeypatch):
    import analytics.reading.loader as loader
    import analytics.reading.wide as wide

    data = _odd_file(300)
    kept = load_cohort(data, "odd.csv")
    monkeypatch.setattr(wide, "RELEASE_AFTER_CELLS", 0)  # hand it back after every read
    monkeypatch.setattr(loader, "RELEASE_AFTER_CELLS", 0)
    handed_back = load_cohort(data, "odd.csv")
    pd.testing.assert_frame_equal(kept.labs, handed_back.labs)
    pd.testing.assert_frame_equal(kept.patients, handed_back.patients)
    assert kept.report == handed_back.report and kept.analytes == handed_back.analytes


def _odd_file(n_rows: int) -> bytes:
    """A wide file where most cells are odd, each row differently (seeded, no randomness)."""
    odd = ["abc", "12..5", "1,234", "#DIV/0!", "ND", "1e309", "9999", "11.7 mmol/L", "N/A"]
    lines = ["id,sex,age,Hgb (g/dL) 0,Hgb (g/dL) 2,MCV 0,MCV 2,Ferritin 0,Ferritin 2"]
    for i in range(n_rows):
        cells = [odd[(i + k) % len(odd)] if (i + k) % 4 else f"<{i % 997}" for k in range(6)]
        quoted = ",".join(f'"{c}"' for c in cells)
        lines.append(f"P{i},X{i % 7},about {i % 90},{quoted}")
    return _csv("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def odd_cohort():
    return load_cohort(_odd_file(99_999), "odd.csv")


def test_odd_cells_are_counted_per_column_and_kind(odd_cohort):
    report = odd_cohort.report
    # 99,999 rows: each of the 6 lab columns has 3/4 odd-text cells and 1/4 '<k' cells
    # (one note per distinct k); sex and age are unreadable in every row.
    assert report.count("warning") > 500_000
    groups = {(g.column, g.kind): g for g in report.issue_groups()}
    assert groups[("sex", "sex_not_recognised")].count == 99_999
    assert groups[("age", "age_not_a_number")].count == 99_999
    infinite = groups[("MCV 2", "non_finite")]
    assert infinite.first_rows == tuple(infinite.first_rows) and len(infinite.first_rows) == KEPT
    assert all("'1e309' is infinite" in i.message for i in infinite.issues)
    # memory stays bounded: no group keeps more than a few issues
    assert all(len(g.issues) <= KEPT for g in report.issue_groups())
    assert len(report.issues) <= KEPT * len(report.issue_groups())
    assert report.count() == sum(g.count for g in report.issue_groups())


def test_validate_json_stays_small_and_keeps_its_keys(odd_cohort):
    out = validation_dict(odd_cohort)
    text = json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False)
    assert len(text.encode("utf-8")) < 1_000_000
    for key in ("ok", "file", "excluded", "analytes", "columns", "errors", "warnings", "notes"):
        assert key in out
    assert out["n_warnings"] == odd_cohort.report.count("warning") > 500_000
    assert out["lists_complete"] is False
    assert len(out["warnings"]) <= int(LIMITS["listed_per_report"].value)
    group = next(g for g in out["issue_groups"] if g["column"] == "sex")
    assert group["count"] == 99_999 and group["first_rows"][:3] == [2, 3, 4]


def test_validate_json_is_small_for_the_widest_most_hostile_file(tmp_path, capsys):
    # 1,000 columns (the limit) of long headers, each with several kinds of problems
    # (an XLSX: a CSV line this long stops the CSV reader's delimiter sniffing)
    import xlsxwriter

    width = int(LIMITS["max_columns"].value)
    names = ["id"] + [f"Hgb ({'u' * (MAX_HEADER - 12)}) {i}" for i in range(1, width)]
    odd = ["abc", "1e309", "9999", "#DIV/0!", "ND", "1,234", "N/A", "<5", ">9", "x" * 300]
    path = tmp_path / "wide.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, names)
    for r in range(1, 41):
        sheet.write_row(r, 0, [f"P{r}"] + [odd[(r + c) % len(odd)] for c in range(1, width)])
    workbook.close()
    main(["validate", str(path), "--json"])
    text = capsys.readouterr().out
    assert len(text.encode("utf-8")) < 1_000_000
    out = json.loads(text)
    assert out["n_issue_groups"] > len(out["issue_groups"])  # bounded, and says so
    assert out["n_columns"] == width and not out["lists_complete"]


def test_validate_text_output_names_the_rest_of_each_group(tmp_path, capsys):
    rows = ["id,MCV 0,MCV 2"] + [f"P{i},80,abc" for i in range(KEPT + 5)]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    main(["validate", str(path)])
    out = capsys.readouterr().out
    assert out.count("could not read 'abc' as a number") == KEPT
    assert "... and 5 more like this in column 'MCV 2'" in out


@pytest.mark.parametrize("command", ["report", "export"])
def test_reports_of_too_many_patients_are_refused_at_once(tmp_path, capsys, monkeypatch, command):
    from dataclasses import replace

    limit = replace(LIMITS["max_report_patients"], value=3)
    monkeypatch.setitem(LIMITS, "max_report_patients", limit)
    rows = ["id,MCV 0,MCV 2"] + [f"P{i},80,{81 + i % 3}" for i in range(5)]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    output = tmp_path / ("r.html" if command == "report" else "out.zip")
    assert main([command, str(path), "-o", str(output)]) == 2
    assert "5 patients are selected" in capsys.readouterr().err
    assert not output.exists()
