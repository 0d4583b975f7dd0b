"""A hospital laboratory system's export of dated results, built in code. Not a test module.

One row per result, as a hospital system exports them: the record number, the test as
the laboratory names it (``HGB``, ``MCV``, ``FERRITIN``, ``% SATURATION``,
``HEPCIDIN-25``), the result, its unit, a reference range and a flag that differ from
result to result, the collection date and time, and (in some variants) the date
sirolimus started.

:func:`demo_like_results` turns the demo cohort's lab values into such results: each
value collected a few days off its visit (baseline: 0–5 days before the start; month
m: within 3 days of day round(30.4375·m); 2 weeks: within 3 days of day 14), and
beside them the results a chart review must pass over — an earlier value inside the
baseline window, a value 11 days from each follow-up's target, a hemoglobin on day
120 (outside every window), an MCV on day −60 (before the baseline window) and one
result exported twice. Windowing it with the time points 0, 2w, 1, 2, 6 must give
back exactly the demo's values.

The values are the demo's synthetic ones; nothing here is patient data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import xlsxwriter

from analytics.cohort import Cohort

__all__ = [
    "HOSPITAL_NAMES",
    "DatedResult",
    "anchors_csv",
    "demo_like_results",
    "export_csv",
    "export_xlsx",
    "target_day",
]

HOSPITAL_NAMES = {
    "hgb": "HGB",
    "mcv": "MCV",
    "ferritin": "FERRITIN",
    "tsat": "% SATURATION",
    "hepcidin": "HEPCIDIN-25",
}
UNITS = {"hgb": "g/dL", "mcv": "fL", "ferritin": "ng/mL", "tsat": "%", "hepcidin": "ng/mL"}
RANGES = {
    "hgb": "12.0-16.0",
    "mcv": "80-100",
    "ferritin": "30-400",
    "tsat": "20-50",
    "hepcidin": "",
}
FIRST_START = dt.date(2012, 1, 9)
HEADER = ["MRN", "Test Name", "Result", "Units", "Reference Range", "Flag", "Collected"]


@dataclass(frozen=True)
class DatedResult:
    """One exported result."""

    patient: str
    test: str
    result: str
    unit: str
    collected: dt.datetime
    reference: str = ""
    flag: str = ""


def target_day(months: float) -> int:
    """The window's target day: 7 per week for 2 weeks, else round(30.4375 · m), half up."""
    if months == 0.5:
        return 14
    return int(months * 30.4375 + 0.5)


def _when(start: dt.date, day: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(start + dt.timedelta(days=day), dt.time(7, 0)) + dt.timedelta(
        minutes=minute
    )


def _text(value: float, censored: str) -> str:
    return f"{censored}{value:g}"


def demo_like_results(cohort: Cohort) -> tuple[list[DatedResult], dict[str, dt.date]]:
    """The demo's lab values as dated results (see the module), and each patient's start."""
    results: list[DatedResult] = []
    starts = {
        str(p): FIRST_START + dt.timedelta(days=13 * i) for i, p in enumerate(cohort.patients.index)
    }
    order = {str(p): i for i, p in enumerate(cohort.patients.index)}
    labs = list(HOSPITAL_NAMES)
    for row in cohort.labs.itertuples(index=False):
        patient, key = str(row.patient_id), row.analyte
        p, lab = order[patient], labs.index(key)
        start, name, unit = starts[patient], HOSPITAL_NAMES[key], UNITS[key]
        minute = 37 * ((p + lab) % 5)
        value = _text(row.value, row.censored)
        if row.time == 0:
            day = -((p + lab) % 6)
            decoy = -(20 + p % 5)
        else:
            day = target_day(row.time) + ((p * 7 + lab * 3 + int(row.time * 4) * 5) % 7) - 3
            decoy = target_day(row.time) + (11 if (p + lab) % 2 else -11)
        results.append(
            DatedResult(patient, name, value, unit, _when(start, day, minute), RANGES[key])
        )
        other = _text(row.value + 7, "")
        results.append(
            DatedResult(patient, name, other, unit, _when(start, decoy, minute), "", "H")
        )
    for patient, start in starts.items():
        results.append(DatedResult(patient, "HGB", "10.1", "g/dL", _when(start, 120, 5), "", "L"))
        results.append(DatedResult(patient, "MCV", "91", "fL", _when(start, -60, 5)))
    results.append(results[0])  # exported twice
    return results, starts


def _date_text(moment: dt.date | dt.datetime, style: str) -> str:
    fmt = {"iso": "%Y-%m-%d", "dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}[style]
    if isinstance(moment, dt.datetime):
        fmt += " %H:%M"
    return moment.strftime(fmt)


def export_csv(
    results: list[DatedResult],
    starts: dict[str, dt.date] | None = None,
    *,
    style: str = "iso",
    attributes: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """The results as a CSV export: dates as ``style`` (``iso``, ``dmy``, ``mdy``), the
    start date in a ``Sirolimus Start`` column when ``starts`` is given, and any
    ``attributes`` (patient -> {column: value}) repeated on every row."""
    extra = sorted({c for values in (attributes or {}).values() for c in values})
    header = HEADER + (["Sirolimus Start"] if starts else []) + extra
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for r in results:
        row = [
            r.patient,
            r.test,
            r.result,
            r.unit,
            r.reference,
            r.flag,
            _date_text(r.collected, style),
        ]
        if starts:
            row.append(_date_text(starts[r.patient], style))
        row += [(attributes or {}).get(r.patient, {}).get(c, "") for c in extra]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def anchors_csv(
    starts: dict[str, dt.date], *, style: str = "iso", header: str = "Start Date"
) -> bytes:
    """A second file: one row per patient, ``MRN`` and the start date."""
    lines = [f"MRN,{header}"] + [f"{p},{_date_text(d, style)}" for p, d in starts.items()]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def export_xlsx(
    results: list[DatedResult],
    starts: dict[str, dt.date] | None = None,
    *,
    anchor: str = "column",
    attributes: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """The results as a workbook with real Excel dates (date-time cells).

    ``anchor``: ``"column"`` (a ``Sirolimus Start`` column on the results sheet),
    ``"sheet"`` (a ``Patients`` sheet: MRN, the start date and any ``attributes``), or
    ``"none"``.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    stamp = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet = book.add_worksheet("Results")
    header = HEADER + (["Sirolimus Start"] if anchor == "column" and starts else [])
    sheet.write_row(0, 0, header)
    for i, r in enumerate(results, start=1):
        sheet.write_row(i, 0, [r.patient, r.test])
        number = _number(r.result)
        if number is None:
            sheet.write_string(i, 2, r.result)
        else:
            sheet.write_number(i, 2, number)
        sheet.write_row(i, 3, [r.unit, r.reference, r.flag])
        sheet.write_datetime(i, 6, r.collected, stamp)
        if anchor == "column" and starts:
            sheet.write_datetime(i, 7, dt.datetime.combine(starts[r.patient], dt.time()), day)
    if anchor == "sheet" and starts:
        extra = sorted({c for values in (attributes or {}).values() for c in values})
        patients = book.add_worksheet("Patients")
        patients.write_row(0, 0, ["MRN", "Sirolimus start date", *extra])
        for i, (patient, start) in enumerate(starts.items(), start=1):
            patients.write_string(i, 0, patient)
            patients.write_datetime(i, 1, dt.datetime.combine(start, dt.time()), day)
            values = (attributes or {}).get(patient, {})
            patients.write_row(i, 2, [values.get(c, "") for c in extra])
    book.close()
    return buffer.getvalue()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
