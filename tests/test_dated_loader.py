"""Dated results read from a file: a small hospital export whose every row is checked by
hand (as ISO text, day/month and month/day text, and real Excel dates), start dates in a
column, on another sheet and in a second file, the questions asked when the data cannot
tell, and the demo cohort exported as dated results giving back the demo's numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import xlsxwriter
from dated_export import anchors_csv, demo_like_results, export_csv, export_xlsx

from analytics.analysis import paired_for, select
from analytics.errors import InputError, NeedsAnswer
from analytics.filters import CohortFilter
from analytics.pseudonyms import pseudonymise
from analytics.reading.loader import load_cohort
from analytics.reading.window_rules import VisitWindows
from analytics.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
D = dt.datetime

# One hospital export, row by row (the header is row 1). Start dates: P1 2023-01-10,
# P2 2023-02-05, P3 none. Windows: 0, 2, 6 (baseline day −30..0; month 2 day 46..76
# around 61; month 6 day 168..198 around 183).
ROWS = [
    ("P1", "HGB", "12.0", "g/dL", D(2023, 1, 1, 8, 0), "P1"),  # 2: day −9, not the last
    ("P1", "HGB", "11.8", "g/dL", D(2023, 1, 10, 7, 30), "P1"),  # 3: day 0, baseline
    ("P1", "HGB", "11.0", "g/dL", D(2023, 3, 12, 9, 0), "P1"),  # 4: day 61, month 2
    ("P1", "HGB", "10.8", "g/dL", D(2023, 3, 12, 14, 0), "P1"),  # 5: day 61, later that day
    ("P1", "HGB", "11.1", "g/dL", D(2023, 3, 15, 9, 0), "P1"),  # 6: day 64, farther
    ("P1", "HGB", "10.2", "g/dL", D(2023, 7, 12, 9, 0), "P1"),  # 7: day 183, month 6
    ("P1", "HGB", "10.9", "g/dL", D(2022, 12, 10, 9, 0), "P1"),  # 8: day −31, before baseline
    ("P1", "MCV", "82", "fL", D(2022, 12, 11, 9, 0), "P1"),  # 9: day −30, baseline (first day)
    ("P1", "MCV", "79", "fL", D(2023, 2, 24, 9, 0), "P1"),  # 10: day 45, outside every window
    ("P1", "MCV", "78", "fL", D(2023, 2, 25, 9, 0), "P1"),  # 11: day 46, month 2 (first day)
    ("P2", "HEMOGLOBIN", "13.1", "g/dL", D(2023, 2, 5, 10, 0), "P2"),  # 12: day 0, baseline
    ("P2", "HEMOGLOBIN", "12.4", "g/dL", D(2023, 4, 2, 10, 0), "P2"),  # 13: day 56, month 2 (tie)
    ("P2", "HEMOGLOBIN", "12.6", "g/dL", D(2023, 4, 12, 10, 0), "P2"),  # 14: day 66, as close
    ("P2", "HEMOGLOBIN", "12.4", "g/dL", D(2023, 4, 2, 10, 0), "P2"),  # 15: row 13 again
    ("P2", "MCV", "", "fL", D(2023, 4, 2, 10, 0), "P2"),  # 16: no value
    ("P2", "% SATURATION", "18", "%", None, "P2"),  # 17: no collection date
    ("P2", "FERRITIN, SERUM", "<10", "ng/mL", D(2023, 4, 3, 10, 0), "P2"),  # 18: day 57, month 2
    ("P3", "HGB", "9.0", "g/dL", D(2023, 5, 30, 9, 0), ""),  # 19: no start date
]
STARTS = {"P1": dt.date(2023, 1, 10), "P2": dt.date(2023, 2, 5)}

#: (patient, lab, month) -> (value, day since the start, row): counted by hand above
USED = {
    ("P1", "hgb", 0.0): (11.8, 0, 3),
    ("P1", "hgb", 2.0): (11.0, 61, 4),
    ("P1", "hgb", 6.0): (10.2, 183, 7),
    ("P1", "mcv", 0.0): (82.0, -30, 9),
    ("P1", "mcv", 2.0): (78.0, 46, 11),
    ("P2", "hgb", 0.0): (13.1, 0, 12),
    ("P2", "hgb", 2.0): (12.4, 56, 13),
    ("P2", "ferritin", 2.0): (10.0, 57, 18),
}
EXCLUDED = {
    2: "a later value was used for month 0: Hemoglobin on day -9, row 3 (day 0) was used",
    5: "an earlier value of the same day was used for month 2: Hemoglobin on day 61, row 4 "
    "(day 61) was used",
    6: "a closer value was used for month 2: Hemoglobin on day 64, row 4 (day 61) was used",
    8: "before the baseline window: Hemoglobin on day -31",
    10: "outside every window: MCV on day 45",
    14: "an earlier value as close was used for month 2: Hemoglobin on day 66, row 13 (day 56) "
    "was used",
    15: "same lab value as row 13",
    16: "no lab value (empty or N/A)",
    17: "no collection date",
    19: "no start date for patient 'P3'",
}


def _text(moment: dt.datetime | dt.date | None, style: str) -> str:
    if moment is None:
        return ""
    if style == "serial":  # Excel's day number, as a CSV saved from unformatted cells has it
        whole = dt.datetime.combine(moment, dt.time()) if type(moment) is dt.date else moment
        days = (whole - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        return f"{days:.6f}".rstrip("0").rstrip(".")
    fmt = {"iso": "%Y-%m-%d", "dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}[style]
    return moment.strftime(fmt + (" %H:%M" if isinstance(moment, dt.datetime) else ""))


def _csv(style: str = "iso", *, starts: bool = True, rows=ROWS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["MRN", "Test", "Result", "Units", "Collection Date", "Sirolimus start"][
            : 6 if starts else 5
        ]
    )
    for patient, test, value, unit, when, start in rows:
        row = [patient, test, value, unit, _text(when, style)]
        if starts:
            row.append(_text(STARTS.get(start), style))
        writer.writerow(row)
    return out.getvalue().encode()


def _xlsx(*, anchor: str = "column") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    stamp = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet = book.add_worksheet("Lab results")
    header = ["MRN", "Test", "Result", "Units", "Collection Date"]
    sheet.write_row(0, 0, header + (["Sirolimus start"] if anchor == "column" else []))
    for i, (patient, test, value, unit, when, start) in enumerate(ROWS, start=1):
        sheet.write_row(i, 0, [patient, test])
        try:
            sheet.write_number(i, 2, float(value))
        except ValueError:
            sheet.write_string(i, 2, value) if value else None
        sheet.write_string(i, 3, unit)
        if when is not None:
            sheet.write_datetime(i, 4, when, stamp)
        if anchor == "column" and start:
            sheet.write_datetime(i, 5, dt.datetime.combine(STARTS[start], dt.time()), day)
    if anchor == "sheet":
        patients = book.add_worksheet("Patients")
        patients.write_row(0, 0, ["MRN", "Sex", "Tx date"])
        for i, (patient, start) in enumerate(STARTS.items(), start=1):
            patients.write_row(i, 0, [patient, "F" if patient == "P1" else "M"])
            patients.write_datetime(i, 2, dt.datetime.combine(start, dt.time()), day)
    book.close()
    return buffer.getvalue()


def _used(cohort) -> dict:
    return {
        (r.patient_id, r.analyte, r.time): (r.value, r.day, r.row)
        for r in cohort.labs.itertuples(index=False)
    }


def _excluded(cohort) -> dict:
    return {e.row: e.reason for e in cohort.report.excluded if not e.sheet}


def _check(cohort) -> None:
    assert _used(cohort) == USED
    assert _excluded(cohort) == EXCLUDED
    report = cohort.report
    assert report.n_rows_in == report.n_rows_used + len(report.excluded)
    assert cohort.windowed.n_rows == len(ROWS) == 18
    assert cohort.windowed.n_used == len(USED)
    assert cohort.source.layout == "dated long"


@pytest.mark.parametrize("style", ["iso", "dmy", "mdy", "serial"])
def test_csv_export_gives_the_hand_counted_table(style):
    cohort = load_cohort(_csv(style), "results.csv")
    _check(cohort)
    expected_order = {"iso": "", "dmy": "dmy", "mdy": "mdy", "serial": ""}[style]
    assert cohort.windowed.date_order == expected_order
    assert cohort.analytes["hgb"].times == (0.0, 2.0, 6.0)
    assert cohort.labs.loc[cohort.labs["analyte"] == "ferritin", "censored"].tolist() == ["<"]


def test_workbook_with_excel_dates_gives_the_same_table():
    cohort = load_cohort(_xlsx(), "results.xlsx")
    _check(cohort)
    assert cohort.windowed.anchor_text() == "column 'Sirolimus start'"


def test_start_dates_on_another_sheet_named_with_anchor():
    workbook = _xlsx(anchor="sheet")
    with pytest.raises(NeedsAnswer) as raised:  # 'Tx date' is not recognised by itself
        load_cohort(workbook, "results.xlsx")
    assert raised.value.question == "anchor"
    cohort = load_cohort(workbook, "results.xlsx", windows=VisitWindows(anchor="Tx date"))
    assert _used(cohort) == USED
    assert cohort.windowed.anchor_text() == "column 'Tx date' of sheet 'Patients'"
    assert cohort.patients.loc["P1", "sex"] == "F"  # the sheet's attributes come along
    report = cohort.report
    assert report.n_rows_in == report.n_rows_used + len(report.excluded)
    assert report.n_rows_in == 18 + 2  # the results and the two patients' rows


def test_start_dates_from_a_second_file():
    starts = anchors_csv(STARTS, style="dmy")
    # the results settle day first (24/02/2023), which reads the start dates too
    data = _csv("dmy", starts=False)
    cohort = load_cohort(data, "results.csv", anchor_file=("starts.csv", starts))
    assert _used(cohort) == USED
    assert cohort.windowed.anchor_text() == "column 'Start Date' of file 'starts.csv'"
    assert cohort.windowed.args()[:4] == ["--anchor", "Start Date", "--anchor-file", "starts.csv"]


def test_without_start_dates_the_user_is_asked_where_they_are():
    with pytest.raises(NeedsAnswer) as raised:
        load_cohort(_csv(starts=False), "results.csv")
    assert raised.value.question == "anchor"
    assert "--anchor COLUMN" in str(raised.value) and "--anchor-file FILE" in str(raised.value)


def test_a_second_file_without_a_start_date_column_is_refused_with_its_columns():
    with pytest.raises(InputError, match="its columns: MRN, Notes"):
        load_cohort(
            _csv(starts=False), "results.csv", anchor_file=("starts.csv", b"MRN,Notes\nP1,x\n")
        )


def test_ambiguous_dates_are_asked_and_read_as_answered():
    # every day of these dates is 12 or less: nothing in the file tells the order
    rows = [
        ("P1", "HGB", "11.8", "g/dL", D(2023, 1, 10, 8, 0), "P1"),
        ("P1", "HGB", "11.0", "g/dL", D(2023, 3, 12, 9, 0), "P1"),
    ]
    data = _csv("dmy", rows=rows)
    with pytest.raises(NeedsAnswer) as raised:
        load_cohort(data, "results.csv")
    assert raised.value.question == "date_order"
    assert raised.value.column == "Collection Date"
    dmy = load_cohort(data, "results.csv", windows=VisitWindows(date_order="dmy"))
    assert _used(dmy) == {("P1", "hgb", 0.0): (11.8, 0, 2), ("P1", "hgb", 2.0): (11.0, 61, 3)}
    # read the other way, 10/01 is October 1 and 12/03 December 3: day 63 is month 2
    mdy = load_cohort(data, "results.csv", windows=VisitWindows(date_order="mdy"))
    assert _used(mdy) == {("P1", "hgb", 0.0): (11.8, 0, 2), ("P1", "hgb", 2.0): (11.0, 63, 3)}


def test_unreadable_dates_are_excluded_with_a_warning_naming_row_and_column():
    rows = [*ROWS[:3], ("P1", "HGB", "11.1", "g/dL", "2023-02-30", "P1")]
    out = _csv(rows=[r if isinstance(r[4], dt.datetime) else (*r[:4], None, r[5]) for r in rows])
    data = out.replace(b"\nP1,HGB,11.1,g/dL,,", b"\nP1,HGB,11.1,g/dL,2023-02-30,")
    cohort = load_cohort(data, "results.csv")
    assert _excluded(cohort)[5] == (
        "collection date not readable: '2023-02-30' is not a date (no such day or time)"
    )
    (warning,) = [w for w in cohort.report.warnings if w.kind == "date_not_recognised"]
    assert (warning.row, warning.column) == (5, "Collection Date")


def test_a_patient_with_two_start_dates_is_named_and_the_rest_is_read():
    data = _csv().replace(b"2023-02-25 09:00,2023-01-10", b"2023-02-25 09:00,2023-01-11")
    cohort = load_cohort(data, "results.csv")
    (conflict,) = [w for w in cohort.report.warnings if w.kind == "start_date_conflict"]
    assert conflict.message == (
        "patient 'P1' has different start dates (2023-01-10, 2023-01-11): their results are "
        "not used until one is kept"
    )
    assert {key for key in _used(cohort) if key[0] == "P1"} == set()
    assert {k: v for k, v in _used(cohort).items() if k[0] == "P2"} == {
        k: v for k, v in USED.items() if k[0] == "P2"
    }
    assert _excluded(cohort)[2] == "no start date for patient 'P1'"


def test_edited_windows_change_the_table():
    cohort = load_cohort(
        _csv(), "results.csv", windows=VisitWindows(times=("0", "2"), window_days=14)
    )
    used = _used(cohort)
    # month 2 is now day 47..75: MCV on day 46 is outside, so no month-2 MCV
    assert ("P1", "mcv", 2.0) not in used
    assert _excluded(cohort)[11] == "outside every window: MCV on day 46"
    # no month 6: the day-183 hemoglobin is outside every window
    assert _excluded(cohort)[7] == "outside every window: Hemoglobin on day 183"


def test_window_options_for_a_file_without_dates_are_refused():
    with pytest.raises(InputError, match="apply to dated results"):
        load_cohort(DEMO.read_bytes(), DEMO.name, windows=VisitWindows())


def test_per_result_columns_are_kept_out_of_the_patients():
    data = _csv().replace(b"Sirolimus start\n", b"Sirolimus start,Flag\n", 1)
    lines = data.split(b"\n")
    lines = [lines[0]] + [
        line + (b",H" if i % 2 else b",") for i, line in enumerate(lines[1:]) if line
    ]
    cohort = load_cohort(b"\n".join(lines) + b"\n", "results.csv")
    assert "Flag" not in cohort.patients.columns
    assert any(i.kind == "per_result_column" and i.column == "Flag" for i in cohort.report.notes)


def test_pseudonymised_patients_are_relabelled_in_the_windows_too():
    data = _csv()
    cohort = pseudonymise(load_cohort(data, "results.csv"), "yes")
    assert set(cohort.windowed.results["patient_id"]) == {"P01", "P02", "P03"}
    assert "no start date for patient 'P03'" in cohort.windowed.results["reason"].tolist()


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo():
    return load_cohort(DEMO.read_bytes(), DEMO.name)


def _attributes(demo):
    return {
        str(p): {"Cohort": demo.patients.loc[p, "cohort"], "Sex": demo.patients.loc[p, "sex"]}
        for p in demo.patients.index
    }


@pytest.mark.parametrize("variant", ["csv dmy", "xlsx sheet"])
def test_demo_exported_as_dated_results_gives_back_the_demo(demo, variant):
    results, starts = demo_like_results(demo)
    if variant == "csv dmy":
        data, name = export_csv(results, starts, style="dmy", attributes=_attributes(demo)), "x.csv"
    else:
        data, name = (
            export_xlsx(results, starts, anchor="sheet", attributes=_attributes(demo)),
            "x.xlsx",
        )
    windowed = load_cohort(data, name, windows=VisitWindows(times=("0", "2w", "1", "2", "6")))
    for key in demo.analytes:
        assert windowed.analytes[key].times == demo.analytes[key].times
        assert windowed.lab_matrix(key).equals(demo.lab_matrix(key)), key
    # every result the chart review passes over is accounted for by reason
    assert dict(windowed.windowed.outcomes) == {
        "used": 216,  # the demo's 216 values
        "closer_value_used": 152,  # one decoy 11 days off each follow-up value
        "later_value_used": 64,  # one earlier baseline value per baseline value
        "before_baseline_window": 25,  # an MCV on day −60 per patient
        "outside_every_window": 25,  # a hemoglobin on day 120 per patient
        "duplicate_row": 1,
    }


@pytest.mark.parametrize(
    ("cohort_name", "lab", "follow_up"),
    [
        ("retrospective", "mcv", "2"),
        ("retrospective", "hgb", "6"),
        ("prospective", "hepcidin", "2w"),
    ],
)
def test_windowed_demo_reproduces_the_wide_demos_paired_numbers(demo, cohort_name, lab, follow_up):
    results, starts = demo_like_results(demo)
    data = export_csv(results, starts, attributes=_attributes(demo))
    windowed = load_cohort(data, "x.csv", windows=VisitWindows(times=("0", "2w", "1", "2", "6")))
    numbers = []
    for cohort in (demo, windowed):
        chosen = CohortFilter(cohort=cohort_name).apply(cohort).cohort
        selection = select(chosen, lab, "0", follow_up)
        result = paired_for(chosen, selection, AnalysisSettings())
        numbers.append(
            (result.n_pairs, result.mean_change, result.sd_change, result.t, result.p_two_sided)
        )
    assert numbers[0] == numbers[1]
