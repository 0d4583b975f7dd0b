"""What a clinician downloads besides figures: tables, settings and the bundle of all.

Every function returns bytes: the pages put them on download buttons, the command
line writes them to files. Nothing here touches the network, the disk or Streamlit.

Figures are made by :mod:`analytics.output.figure_files` (the bundle holds them too). Tables
are written so that opening them in Excel or LibreOffice can never run anything: text
that a spreadsheet would read as a formula is prefixed with ``'`` (OWASP "CSV
injection"), the XLSX writer is told never to turn strings into formulas or links,
and numbers stay numbers. Given the same inputs (and the same ``generated_at``),
every file is byte-for-byte the same.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import altair as alt
import pandas as pd
import xlsxwriter

from analytics import __version__
from analytics.analysis import Selection
from analytics.cohort import CENSORED_RULES, Cohort
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter, FilteredCohort
from analytics.output.figure_files import (
    DEFAULT_PPI,
    PNG_WIDTHS_PX,
    chart_files,
    chart_title,
    figure_size_text,
)
from analytics.output.headers import human_headers
from analytics.plain import export_value, jsonable
from analytics.settings import AnalysisSettings
from analytics.stats.power import PowerResult

__all__ = [
    "FIXED_TIMESTAMP",
    "FORMULA_TRIGGERS",
    "VERSIONED_PACKAGES",
    "bundle_zip",
    "file_stem",
    "safe_cell",
    "safe_frame",
    "settings_dict",
    "settings_json",
    "sheet_name",
    "table_csv",
    "tables_xlsx",
    "versions",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP), with
#: their full-width forms, which some spreadsheet locales also accept.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

#: Timestamp used when none is given, so that files are reproducible
#: (1980-01-01, the earliest date a ZIP file can hold).
FIXED_TIMESTAMP = datetime(1980, 1, 1, tzinfo=UTC)

#: Distributions whose versions every settings file records (read from package
#: metadata, so Streamlit is never imported here).
VERSIONED_PACKAGES = (
    "streamlit",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "altair",
    "vl-convert-python",
    "xlsxwriter",
    "openpyxl",
    "python-calamine",
    "pillow",
)

# --------------------------------------------------------------------------------------
# Formula-safe tables
# --------------------------------------------------------------------------------------


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula; leave everything else.

    Text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or
    the full-width ``＝``, ``＋``, ``－``, ``＠``) gets a leading ``'``, which makes
    Excel and LibreOffice show it as text (OWASP's advice for CSV injection).
    Numbers, negative ones included, booleans, None and NaN are returned unchanged.

    Notes
    -----
    The rule has no exceptions: a lone ``-`` and text such as ``"-2.5"`` are
    escaped too (``'-`` and ``'-2.5``). Text is text; a number the analysis computed
    is a number and is never touched. Exceptions to a security rule are where
    injections slip through, and a visible ``'`` costs less than a guess.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _label(name: Any) -> str:
    if isinstance(name, tuple):
        return " / ".join(str(part) for part in name if str(part) != "")
    return "" if name is None else str(name)


def _index_is_meaningful(frame: pd.DataFrame) -> bool:
    """An index is written when it is named or holds labels, not a bare row count."""
    index = frame.index
    if any(name is not None for name in index.names):
        return True
    return not pd.api.types.is_integer_dtype(index.dtype)


def _cells(frame: pd.DataFrame) -> tuple[list[Any], list[list[Any]]]:
    """Header and rows of plain, formula-safe cells (index first when meaningful).

    Headers are the ones a person reads (:func:`~analytics.output.headers.human_headers`),
    numbers are rounded to :data:`~analytics.plain.EXPORT_DIGITS` significant digits.
    """
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError(f"A table must be a DataFrame, not {type(frame).__name__}.")
    frame = human_headers(frame)
    if _index_is_meaningful(frame):
        names = [_label(name) for name in frame.index.names]
        frame = frame.reset_index(names=[f"__index_{i}" for i in range(len(names))])
        header = names + [_label(c) for c in frame.columns[len(names) :]]
    else:
        header = [_label(c) for c in frame.columns]
    rows = [
        [safe_cell(export_value(value)) for value in row]
        for row in frame.itertuples(index=False, name=None)
    ]
    return [safe_cell(name) for name in header], rows


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text cell and label."""
    out = frame.map(safe_cell)
    out.columns = pd.Index([safe_cell(c) for c in out.columns])
    out.index = out.index.map(safe_cell)
    return out


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def table_csv(frame: pd.DataFrame) -> bytes:
    """A table as CSV that Excel, LibreOffice and R open correctly and safely.

    UTF-8 with a byte-order mark (so Excel shows µ, ≥ and – rightly), ``,`` between
    fields, ``.`` as decimal point, CRLF line ends (RFC 4180), quotes only where
    needed. Numbers are written to 12 significant digits (:func:`~analytics.plain.export_value`), in
    their shortest form; headers are those a person reads; missing
    values and non-finite numbers are empty; booleans are ``TRUE``/``FALSE``; text
    passes through :func:`safe_cell`. The index is written (first) only when it is
    meaningful: named, or made of labels rather than row numbers.
    """
    header, rows = _cells(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", quotechar='"', lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


_SHEET_FORBIDDEN = str.maketrans({"[": "(", "]": ")", ":": "-", "*": "-", "?": "-", "/": "-"})


def sheet_name(name: str, taken: Sequence[str] = ()) -> str:
    """A valid, unique Excel sheet name: ≤ 31 characters, none of ``[]:*?/\\``.

    Brackets become parentheses, the other forbidden characters a hyphen; control
    characters go, leading and trailing apostrophes and spaces are stripped, the
    reserved name "History" gets an underscore, and a name already in ``taken``
    (case-insensitively, as Excel compares) gets `` (2)``, `` (3)``, ...
    """
    text = str(name).translate(_SHEET_FORBIDDEN).replace("\\", "-")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.strip(" '")[:31].strip(" '") or "Sheet"
    if text.lower() == "history":
        text += "_"
    used = {t.lower() for t in taken}
    candidate, number = text, 1
    while candidate.lower() in used:
        number += 1
        suffix = f" ({number})"
        candidate = text[: 31 - len(suffix)].rstrip(" '") + suffix
    return candidate


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, float):
        return min(len(repr(value)), 12)
    return max((len(line) for line in str(value).splitlines()), default=0)


def tables_xlsx(sheets: Mapping[str, pd.DataFrame], *, created: datetime | None = None) -> bytes:
    """Tables as one Excel workbook, one sheet each, that cannot run anything.

    Parameters
    ----------
    sheets : mapping of sheet name to DataFrame
        Names are made valid with :func:`sheet_name`; order is kept.
    created : datetime, optional
        The workbook's "created" property; default :data:`FIXED_TIMESTAMP`, so the
        same tables give the same bytes.

    Notes
    -----
    Written by XlsxWriter in memory with ``strings_to_formulas``,
    ``strings_to_urls`` and ``strings_to_numbers`` off: every number is a number
    cell, every text a text cell, never a formula or a link. Text also passes
    through :func:`safe_cell`, so the workbook stays safe when re-saved as CSV.
    Header bold and frozen, in words (as :func:`table_csv`); columns sized to their
    content (at most 60 wide). Numbers to 12 significant digits; missing and
    non-finite values are empty cells.
    """
    if not sheets:
        raise AnalysisError("There is no table to write.")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    stamp = (created or FIXED_TIMESTAMP).astimezone(UTC).replace(tzinfo=None)
    workbook.set_properties({"created": stamp, "comments": f"sirolimus-dashboard {__version__}"})
    bold = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    taken: list[str] = []
    for name, frame in sheets.items():
        title = sheet_name(name, taken)
        taken.append(title)
        sheet = workbook.add_worksheet(title)
        header, rows = _cells(frame)
        widths = [len(str(h)) for h in header]
        for col, text in enumerate(header):
            sheet.write_string(0, col, str(text), bold)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(r, col, value)
                elif isinstance(value, int | float):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, str(value))
                widths[col] = max(widths[col], _display_width(value))
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(max(width + 2, 8), 60))
        sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


def versions() -> dict[str, str | None]:
    """Versions of the app, Python and the packages that shape the numbers and files."""
    out: dict[str, str | None] = {"app": __version__, "python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def _timestamp(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(UTC)
    return moment.astimezone() if moment.tzinfo is None else moment


def _data_record(cohort: Cohort) -> dict[str, Any]:
    """The file behind a download: name, checksum, how it was read, row counts, and for
    dated results the visit windows that made its time points."""
    report = cohort.report
    source = cohort.source
    return {
        "file": source.filename,
        "sha256": source.sha256,
        "read_as": source.how_read,
        "layout": source.layout,
        "sheet": source.sheet or None,
        "demo": source.is_demo,
        "n_patients": cohort.n_patients,
        "n_rows_in": report.n_rows_in,
        "n_rows_used": report.n_rows_used,
        "n_rows_excluded": len(report.excluded),
        "n_warnings": report.count("warning"),
        "identifiers": cohort.identifiers.to_dict(),
        "visit_windows": cohort.windowed.to_dict() if cohort.windowed is not None else None,
    }


def _filters_record(
    cohort: Cohort, filtered: FilteredCohort | None, cohort_filter: CohortFilter | None
) -> dict[str, Any]:
    """The filter's settings, its sentence and the patients it kept."""
    sentence = None
    if filtered is not None:
        sentence = filtered.sentence
    elif cohort_filter is not None:
        sentence = cohort_filter.describe(cohort.patients)
    return {
        "settings": cohort_filter.to_dict() if cohort_filter is not None else None,
        "sentence": sentence,
        "n_patients": filtered.n if filtered is not None else cohort.n_patients,
        "n_total": filtered.n_total if filtered is not None else cohort.n_patients,
    }


def settings_dict(
    cohort: Cohort,
    *,
    filtered: FilteredCohort | None = None,
    cohort_filter: CohortFilter | None = None,
    selection: Selection | None = None,
    analysis: AnalysisSettings | None = None,
    power: PowerResult | None = None,
    extra: Mapping[str, Any] | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce a download, as a JSON-ready dictionary.

    Parameters
    ----------
    cohort : Cohort
        The whole cohort as loaded (file name, SHA-256, column mapping, validation).
    filtered, cohort_filter
        The patients analysed and the filter that chose them.
    selection : Selection, optional
        The lab and its baseline and follow-up times.
    analysis : AnalysisSettings, optional
        Significance and confidence levels, the rule for values beyond a detection
        limit, and the anemia and microcytosis thresholds. Without it the levels and
        thresholds are None and the censored rule is the default ("limit").
    power : PowerResult, optional
        Its inputs (change worth detecting, target power, SD of change) are recorded.
    extra : mapping, optional
        Anything else the caller wants recorded, under ``"other"``.
    generated_at : datetime, optional
        Time of export; default now (with the local UTC offset for a naive time).

    Returns
    -------
    dict
        Keys ``exported_at``, ``app``, ``data``, ``column_mapping``, ``filters``,
        ``lab``, ``times``, ``alpha``, ``confidence``, ``censored_values``,
        ``thresholds``, ``power``, ``versions`` (and ``other``). Settings not given
        are None.
    """
    censored = analysis.censored if analysis is not None else "limit"
    settings: dict[str, Any] = {
        "exported_at": _timestamp(generated_at).isoformat(timespec="seconds"),
        "app": {"name": "sirolimus-dashboard", "version": __version__},
        "data": _data_record(cohort),
        "column_mapping": [
            {
                "column": role.column,
                "role": role.as_role_string(),
                "reads_as": role.describe(),
                "source": role.source,
            }
            for role in cohort.mapping
        ],
        "filters": _filters_record(cohort, filtered, cohort_filter),
        "lab": None,
        "times": None,
        "alpha": analysis.alpha if analysis is not None else None,
        "confidence": analysis.confidence if analysis is not None else None,
        "censored_values": {"rule": censored, "description": CENSORED_RULES[censored]},
        "thresholds": None,
        "power": None,
        "versions": versions(),
    }
    if selection is not None:
        settings["lab"] = {"key": selection.analyte, "name": selection.name, "unit": selection.unit}
        settings["times"] = {
            "baseline_months": selection.baseline,
            "follow_up_months": selection.follow_up,
            "label": selection.times_label,
        }
    if analysis is not None:
        thresholds = analysis.thresholds
        settings["thresholds"] = {**asdict(thresholds), "description": thresholds.describe()}
    if power is not None:
        settings["power"] = {
            "change_worth_detecting": power.delta,
            "sd_change": power.sd_change,
            "n_pairs": power.n,
            "target_power": power.power,
            "alpha": power.alpha,
            "alternative": power.alternative,
        }
    if extra:
        settings["other"] = dict(extra)
    return jsonable(settings)


def settings_json(*args: Any, **kwargs: Any) -> bytes:
    """:func:`settings_dict` as UTF-8 JSON (indented, no NaN), ending in a newline.

    Accepts either the arguments of :func:`settings_dict` or one ready dictionary.
    """
    if len(args) == 1 and not kwargs and isinstance(args[0], Mapping):
        settings = jsonable(args[0])
    else:
        settings = settings_dict(*args, **kwargs)
    text = json.dumps(settings, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------
# File names and the bundle
# --------------------------------------------------------------------------------------

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(10)
}


def file_stem(*parts: Any) -> str:
    """A safe file-name stem from ``parts``: lower case, only ``a-z 0-9 _ . -``.

    Accents are dropped (``ö`` → ``o``, ``µ`` → ``u``), anything else becomes ``_``
    (runs collapsed), leading and trailing ``. _ -`` are stripped (no hidden files),
    at most 80 characters; "file" when nothing is left. ``file_stem("MCV (fL)", "month 0 → 2",
    "Q–Q")`` is ``"mcv_fl_month_0_2_q_q"``.
    """
    text = "_".join(str(part) for part in parts if part is not None and str(part) != "")
    text = unicodedata.normalize("NFKD", text.replace("µ", "u").replace("μ", "u"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    text = re.sub(r"[^a-z0-9_.-]+", "_", text)
    text = re.sub(r"_{2,}", "_", text)
    text = re.sub(r"\.{2,}", ".", text)
    text = text.strip("._-")[:80].strip("._-")
    if not text:
        return "file"
    if text.split(".")[0] in _WINDOWS_RESERVED:
        text = f"{text}_"
    return text


def _zip_entry(name: str, moment: datetime) -> zipfile.ZipInfo:
    """A member with a fixed time (the wall-clock time of ``moment``), mode and system."""
    stamp = moment.timetuple()[:6] if moment.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever machine writes it
    info.external_attr = 0o644 << 16
    return info


def _readme(
    readme_text: str,
    members: list[tuple[str, str]],
    size: str,
) -> str:
    lines = [readme_text.strip(), ""] if readme_text.strip() else []
    lines += ["Files in this bundle", "====================", ""]
    width = max(len(name) for name, _ in members)
    for name, description in members:
        lines.append(f"{name.ljust(width)}  {description}")
    lines += [
        "",
        f"Figures: all {size}; PNG for documents and slides, SVG (vector, same layout)",
        "for journals and editing. No text in them prints smaller than 6 pt at that width.",
        "Tables: CSV is UTF-8, comma-separated, decimal point, for R, Python or Excel; the",
        "XLSX has the same numbers as number cells and opens the same in every Excel locale.",
        "Numbers are written to 12 significant digits; empty cells are missing values.",
        "Text cells starting with = + - @ got a leading ' so no spreadsheet runs them.",
        "settings.json records the file (name and SHA-256), filters, lab, times, levels,",
        "the censored-value rule and the software versions behind every number here.",
    ]
    return "\n".join(lines) + "\n"


def bundle_zip(
    figures: Sequence[tuple[str, alt.TopLevelMixin | Mapping[str, Any]]],
    tables: Mapping[str, pd.DataFrame],
    settings: bytes,
    readme_text: str,
    *,
    generated_at: datetime | None = None,
    width_px: int = PNG_WIDTHS_PX[0],
    ppi: float = DEFAULT_PPI,
    texts: Mapping[str, str] | None = None,
) -> bytes:
    """Every figure and table of the current view, with settings and a README, as ZIP.

    Parameters
    ----------
    figures : sequence of (stem, chart)
        Each becomes ``figures/<stem>.png`` and ``figures/<stem>.svg``, every one laid
        out at the same printed width (``width_px`` pixels at ``ppi``; default 1200
        px at 300 dpi, 4 inches), the SVG with the PNG's layout.
    tables : mapping of stem to DataFrame
        Each becomes ``tables/<stem>.csv`` and ``tables/<stem>.xlsx``.
    settings : bytes
        The output of :func:`settings_json`, stored as ``settings.json``.
    readme_text : str
        Opening text of ``README.txt`` (what was analysed); the list of every file
        and what it is follows.
    generated_at : datetime, optional
        Timestamp of every member (and the workbooks' "created" property); default
        :data:`FIXED_TIMESTAMP`. Same inputs, same bytes.
    width_px, ppi : int, float
        The figures' width in pixels and their resolution (the size the page chose).
    texts : mapping of file name to text, optional
        Written after ``settings.json`` (``results.txt``, ``methods.txt``: paragraphs).

    Returns
    -------
    bytes
        ZIP (deflated). Members in this order: ``README.txt``, ``settings.json``,
        then figures and tables in the order given.

    Raises
    ------
    AnalysisError
        Two figures or two tables with the same stem (after :func:`file_stem`).
    """
    moment = generated_at or FIXED_TIMESTAMP
    figure_stems = [file_stem(stem) for stem, _ in figures]
    table_stems = [file_stem(stem) for stem in tables]
    for kind, stems in (("figures", figure_stems), ("tables", table_stems)):
        repeated = sorted({stem for stem in stems if stems.count(stem) > 1})
        if repeated:
            raise AnalysisError(
                f"Two files in the bundle would be called {kind}/{repeated[0]}; "
                "give each figure and table its own name."
            )
    files = [(n, t.encode("utf-8"), f"{n[:-4]} paragraph") for n, t in (texts or {}).items()]
    size = figure_size_text(width_px, ppi)
    for safe, (_, chart) in zip(figure_stems, figures, strict=True):
        title = chart_title(chart)
        about = f"figure: {title}" if title else "figure"
        made = chart_files(chart, ("png", "svg"), width_px=width_px, ppi=ppi)
        files.append((f"figures/{safe}.png", made["png"], f"{about} (PNG, {size})"))
        files.append((f"figures/{safe}.svg", made["svg"], f"{about} (SVG, vector)"))
    for safe, (stem, frame) in zip(table_stems, tables.items(), strict=True):
        shape = f"{len(frame)} rows × {len(frame.columns)} columns"
        files.append((f"tables/{safe}.csv", table_csv(frame), f"table '{stem}', {shape} (CSV)"))
        files.append(
            (
                f"tables/{safe}.xlsx",
                tables_xlsx({stem: frame}, created=moment),
                f"table '{stem}', {shape} (Excel workbook)",
            )
        )
    listing = [
        ("README.txt", "this file"),
        ("settings.json", "settings, data file checksum and software versions"),
    ] + [(name, description) for name, _, description in files]
    readme = _readme(readme_text, listing, size).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_zip_entry("README.txt", moment), readme)
        archive.writestr(_zip_entry("settings.json", moment), settings)
        for name, data, _ in files:
            archive.writestr(_zip_entry(name, moment), data)
    return buffer.getvalue()
