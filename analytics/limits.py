"""Limits and defaults, declared once.

Each entry has a value and the help text shown beside it in the app and listed in
the README (a test checks that every one is documented there).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIMITS", "Limit"]


@dataclass(frozen=True)
class Limit:
    """A named limit with its value, unit and a sentence of help."""

    name: str
    value: float
    unit: str
    help: str


_LIMITS = (
    Limit(
        "max_upload_mb",
        50,
        "MB",
        "Largest file accepted for upload (CSV or XLSX).",
    ),
    Limit(
        "max_rows",
        100_000,
        "rows",
        "Most rows read from one sheet; a larger file is refused before it is analysed.",
    ),
    Limit(
        "max_columns",
        1_000,
        "columns",
        "Most columns read from one sheet.",
    ),
    Limit(
        "max_cells",
        5_000_000,
        "cells",
        "Most cells (rows × columns) read from one sheet; checked before an XLSX sheet is parsed.",
    ),
    Limit(
        "max_xlsx_uncompressed_mb",
        300,
        "MB",
        "Largest total uncompressed size of an XLSX file's parts, checked before parsing "
        "(stops 'zip bombs').",
    ),
    Limit(
        "max_xlsx_compression_ratio",
        200,
        "x",
        "Largest compression ratio of one XLSX part larger than 1 MB uncompressed.",
    ),
    Limit(
        "max_read_memory_mb",
        2_048,
        "MB",
        "Most memory (address space) the reading of one file may take; it runs in a child "
        "process, so a file that needs more is refused and the dashboard carries on.",
    ),
    Limit(
        "max_read_seconds",
        60,
        "s",
        "Longest time the reading of one file may take before it is stopped and refused.",
    ),
    Limit(
        "max_parallel_reads",
        4,
        "files",
        "Files read at the same time (each in its own child process); further uploads wait.",
    ),
    Limit(
        "max_header_chars",
        200,
        "characters",
        "Longest text read as a column header; a longer cell in the header row is not a "
        "header: its column is read as 'column C' (an ordinary attribute) and a warning says so.",
    ),
    Limit(
        "max_value_chars",
        64,
        "characters",
        "Longest cell text read as a lab value, an age or a time; a longer cell is "
        "reported as unreadable without being parsed.",
    ),
    Limit(
        "max_abs_value",
        1e12,
        "",
        "Largest size of a lab value, age or time read; larger values (and infinite "
        "ones such as 1e309) are reported as unreadable, so that no sum or square overflows.",
    ),
    Limit(
        "issues_kept_per_group",
        10,
        "issues",
        "Individual warnings or notes kept per column and kind of problem; the rest are "
        "counted, so a file with a million odd cells still has a short validation report.",
    ),
    Limit(
        "listed_per_report",
        200,
        "entries",
        "Most entries in each list of 'validate --json' (excluded rows, errors, warnings, "
        "notes, issue groups); the counts are always complete.",
    ),
    Limit(
        "max_report_patients",
        20_000,
        "patients",
        "Most patients (after the filters) in a report, export or figure made on the command "
        "line; a larger cohort is refused at once, saying so (filter it, or use the JSON of "
        "'paired' and 'timecourse'), instead of running for minutes.",
    ),
    Limit(
        "header_search_rows",
        30,
        "rows",
        "How far down a sheet the header row is looked for, below title rows.",
    ),
    Limit(
        "parse_cache_entries",
        8,
        "files",
        "Parsed files kept in memory per browser session, so switching pages does not "
        "re-read the file.",
    ),
    Limit(
        "default_age_cutoff",
        18,
        "years",
        "Age below which a patient counts as pediatric when the file has no age-group column.",
    ),
)

#: All limits by name.
LIMITS: dict[str, Limit] = {limit.name: limit for limit in _LIMITS}
