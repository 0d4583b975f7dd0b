"""An upload's bytes to a :class:`~analytics.reading.grid.Grid`: CSV text or a workbook.

Empty and oversized files are refused here; a workbook (or a file that only claims
to be one) goes to :mod:`analytics.reading.xlsx`, everything else to the CSV reader
:mod:`analytics.reading.csv_text`.
"""

from __future__ import annotations

from analytics.errors import InputError
from analytics.limits import LIMITS
from analytics.reading.csv_text import read_csv
from analytics.reading.grid import Grid
from analytics.reading.xlsx import is_workbook, read_workbook

__all__ = ["read_grid"]

_MB = 1024 * 1024


def read_grid(data: bytes, filename: str, sheet: str | None = None) -> Grid:
    """Read an uploaded CSV or XLSX file into a :class:`Grid`.

    Parameters
    ----------
    data
        The file's bytes (never written to disk).
    filename
        Used only for its extension (``.csv``, ``.tsv``, ``.txt``, ``.xlsx``, ``.xlsm``).
    sheet
        XLSX only: the sheet to read; default the first visible worksheet.

    Raises
    ------
    InputError
        Empty, too large, unreadable or unsupported files.
    """
    if not data:
        raise InputError("The file is empty.")
    max_mb = LIMITS["max_upload_mb"].value
    if len(data) > max_mb * _MB:
        raise InputError(f"The file is {len(data) / _MB:.0f} MB; files up to {max_mb:.0f} MB.")
    lowered = filename.lower()
    if is_workbook(data, filename):
        return read_workbook(data, filename, sheet)
    if lowered.endswith((".json", ".parquet", ".sav", ".dta")):
        raise InputError("Unsupported file type: upload a CSV or an Excel .xlsx file.")
    return read_csv(data)
