"""A chart-review workbook as a transplant clinic exports it, and its CSV twin. Not a test module.

What a nephrologist's spreadsheet looks like before anyone tidies it for a tool: a title
row, record numbers (``MRN``), initials and birth dates, headers with units, question
marks and ``(M/F)``, ``<5`` and ``n/a`` in the lab cells, and a free-text notes column.
:func:`clinic_xlsx` writes it the way Excel stores it (record numbers and lab values as
numbers, birth dates as dates); :func:`clinic_csv` is Excel's "CSV (semicolon)" export
of it in a European locale: ``;`` between cells, decimal commas, Windows-1252.

The values are made up for the tests; nothing here is patient data.
"""

from __future__ import annotations

import datetime as dt
import io

import xlsxwriter

__all__ = [
    "HEADERS",
    "LAB_COLUMNS",
    "ON_EPO",
    "ON_IRON",
    "PATIENTS",
    "TITLE",
    "clinic_csv",
    "clinic_xlsx",
]

TITLE = "Sirolimus chart review - renal transplant clinic (export 03/2025)"

HEADERS = (
    "MRN",
    "Pt Initials",
    "DOB",
    "Sex (M/F)",
    "Age at start",
    "On oral iron?",
    "EPO",
    "Hgb pre",
    "Hgb 2 mo",
    "MCV pre",
    "MCV 2 mo",
    "Hepcidin (ng/mL) baseline",
    "Hepcidin (ng/mL) 2 mo",
    "Iron Sat % pre",
    "Notes",
)

#: The role each lab column should be read as: (lab key, month, unit).
LAB_COLUMNS = {
    "Hgb pre": ("hgb", 0.0, "g/dL"),
    "Hgb 2 mo": ("hgb", 2.0, "g/dL"),
    "MCV pre": ("mcv", 0.0, "fL"),
    "MCV 2 mo": ("mcv", 2.0, "fL"),
    "Hepcidin (ng/mL) baseline": ("hepcidin", 0.0, "ng/mL"),
    "Hepcidin (ng/mL) 2 mo": ("hepcidin", 2.0, "ng/mL"),
    "Iron Sat % pre": ("tsat", 0.0, "%"),
}

# MRN, initials, birth date, sex, age, oral iron, EPO, Hgb 0, Hgb 2, MCV 0, MCV 2,
# hepcidin 0, hepcidin 2, TSAT 0, notes. None is an empty cell; text cells are as typed.
PATIENTS: tuple[tuple[object, ...], ...] = (
    (
        4410021,
        "J.D.",
        dt.date(1961, 3, 14),
        "M",
        62,
        "Y",
        "no",
        12.4,
        11.7,
        86.2,
        82.1,
        41.0,
        28.5,
        24,
        "switched from tacrolimus",
    ),
    (
        4410388,
        "A.K.",
        dt.date(1975, 11, 2),
        "F",
        48,
        "N",
        "no",
        11.9,
        11.5,
        84.0,
        81.3,
        22.4,
        "<5",
        19,
        None,
    ),
    (
        4411207,
        "M.R.",
        dt.date(1958, 6, 30),
        "M",
        65,
        "Y",
        "yes",
        10.8,
        10.1,
        80.5,
        77.9,
        55.3,
        39.0,
        15,
        "Epo since 2019; oral iron started at switch",
    ),
    (
        4412950,
        "S.P.",
        dt.date(1983, 1, 19),
        "F",
        41,
        "N",
        "no",
        13.1,
        12.6,
        88.7,
        86.0,
        "<5",
        "<5",
        31,
        None,
    ),
    (
        4413314,
        "L.B.",
        dt.date(1969, 8, 8),
        "F",
        54,
        "Y",
        "no",
        11.2,
        "n/a",
        83.3,
        80.2,
        30.1,
        21.7,
        17,
        "2 mo labs drawn late",
    ),
    (
        4414001,
        "T.H.",
        dt.date(1990, 4, 25),
        "M",
        33,
        "N",
        "no",
        14.0,
        13.2,
        90.1,
        85.8,
        18.9,
        12.0,
        "n/a",
        None,
    ),
    (
        4414876,
        "R.G.",
        dt.date(1955, 12, 1),
        "M",
        68,
        "Y",
        "yes",
        10.2,
        9.9,
        79.0,
        76.4,
        62.0,
        48.3,
        12,
        "ferrous sulfate 325 mg",
    ),
    (
        4415532,
        "E.W.",
        dt.date(1978, 2, 11),
        "F",
        46,
        "N",
        "no",
        12.8,
        12.1,
        87.5,
        84.9,
        26.7,
        19.2,
        27,
        "seen by Dr Müller",
    ),
    (
        4416109,
        "K.O.",
        dt.date(1966, 9, 17),
        "M",
        57,
        "N",
        "no",
        13.6,
        12.9,
        89.0,
        85.1,
        35.5,
        24.8,
        29,
        "stopped MMF",
    ),
    (
        4416743,
        "N.S.",
        dt.date(1987, 5, 5),
        "F",
        36,
        "Y",
        "no",
        11.5,
        11.0,
        82.6,
        79.5,
        15.2,
        "<5",
        18,
        None,
    ),
    (
        4417220,
        "P.M.",
        dt.date(1972, 7, 22),
        "M",
        51,
        "N",
        "yes",
        12.0,
        11.4,
        85.4,
        82.7,
        44.8,
        33.1,
        22,
        None,
    ),
    (
        4418095,
        "C.F.",
        dt.date(1960, 10, 9),
        "F",
        63,
        "N",
        "no",
        12.3,
        11.8,
        86.9,
        83.6,
        28.0,
        20.5,
        25,
        "missed 2 mo MCV? repeat drawn",
    ),
    (
        4418661,
        "D.V.",
        dt.date(1981, 3, 28),
        "M",
        42,
        "Y",
        "no",
        13.3,
        12.5,
        88.1,
        84.4,
        20.6,
        14.9,
        21,
        None,
    ),
    (
        4419314,
        "H.T.",
        dt.date(1993, 12, 12),
        "F",
        30,
        "N",
        "no",
        12.6,
        12.2,
        87.8,
        85.5,
        "n/a",
        17.3,
        26,
        None,
    ),
)

#: The patients (MRNs as read) with "Y" under "On oral iron?" and "yes" under "EPO".
ON_IRON = frozenset(str(p[0]) for p in PATIENTS if p[5] == "Y")
ON_EPO = frozenset(str(p[0]) for p in PATIENTS if p[6] == "yes")


def clinic_xlsx() -> bytes:
    """The workbook: title row, then the header in row 2, then one row per patient."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("chart review")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write(0, 0, TITLE)
    for c, header in enumerate(HEADERS):
        sheet.write_string(1, c, header)
    for r, patient in enumerate(PATIENTS, start=2):
        for c, value in enumerate(patient):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), dates)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write_number(r, c, value)
    book.close()
    return buffer.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    text = str(value)
    if ";" in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def clinic_csv() -> bytes:
    """The same sheet as Excel's semicolon CSV: decimal commas, Windows-1252, CRLF."""
    lines = [TITLE + ";" * (len(HEADERS) - 1), ";".join(HEADERS)]
    lines += [";".join(_csv_cell(v) for v in patient) for patient in PATIENTS]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")
