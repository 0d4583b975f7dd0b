"""The command line's options for dated results, and what it prints about their windows.

Every command that reads a file takes ``--anchor COLUMN``, ``--anchor-file PATH``,
``--times LIST``, ``--window-days D``, ``--baseline-days D`` and ``--date-order dmy|mdy``
(see :mod:`analytics.reading.window_rules`); ``validate --json`` adds ``windows`` (each
time point's rule in days) and ``dated_results`` (the result rows used and excluded by
reason).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analytics.errors import AnalysisError
from analytics.reading.window_rules import DEFAULT_TIMES, VisitWindows, parse_times

if TYPE_CHECKING:
    from analytics.cohort import Cohort

__all__ = [
    "add_window_arguments",
    "load_options",
    "print_windows",
    "validation_keys",
    "windows_from_args",
]


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a long file of dated results (``--anchor``, ``--times`` ...)."""
    group = parser.add_argument_group(
        "dated results (a long file with a collection date and no time column)"
    )
    group.add_argument(
        "--anchor",
        metavar="COLUMN",
        help="the column of each patient's start date (day 0), on this sheet, another "
        "sheet or the --anchor-file (default: recognised by its header, e.g. 'sirolimus start')",
    )
    group.add_argument(
        "--anchor-file",
        metavar="PATH",
        help="a second file (CSV or XLSX) with one row per patient: patient ID and start date",
    )
    group.add_argument(
        "--times",
        metavar="LIST",
        help=f"time points to window, e.g. 0,2,6 or 0,2w,1,2 (default {','.join(DEFAULT_TIMES)})",
    )
    group.add_argument(
        "--window-days",
        type=int,
        metavar="D",
        help="each follow-up takes the value closest to its day within ± D days (default 15)",
    )
    group.add_argument(
        "--baseline-days",
        type=int,
        metavar="D",
        help="baseline is the last value from D days before the start to the start day "
        "(default 30)",
    )
    group.add_argument(
        "--date-order",
        choices=["dmy", "mdy"],
        help="how dates like 05/01/2023 are written, when the file cannot tell: "
        "dmy (day/month/year) or mdy (month/day/year)",
    )


def windows_from_args(args: argparse.Namespace) -> VisitWindows | None:
    """The windows of the command's options; None when no window option is given."""
    given = {
        "anchor": getattr(args, "anchor", None),
        "times": getattr(args, "times", None),
        "window_days": getattr(args, "window_days", None),
        "baseline_days": getattr(args, "baseline_days", None),
        "date_order": getattr(args, "date_order", None),
    }
    if all(value is None for value in given.values()) and not getattr(args, "anchor_file", None):
        return None
    defaults = VisitWindows()
    return VisitWindows(
        times=parse_times(given["times"]) if given["times"] is not None else (),
        window_days=given["window_days"]
        if given["window_days"] is not None
        else defaults.window_days,
        baseline_days=(
            given["baseline_days"] if given["baseline_days"] is not None else defaults.baseline_days
        ),
        anchor=given["anchor"] or "",
        date_order=given["date_order"] or "",
    )


def anchor_file_from_args(args: argparse.Namespace) -> tuple[str, bytes] | None:
    """``(name, bytes)`` of ``--anchor-file``, or None."""
    path = getattr(args, "anchor_file", None)
    if not path:
        return None
    try:
        return Path(path).name, Path(path).read_bytes()
    except OSError as error:
        raise AnalysisError(f"Cannot read {path}: {error.strerror or error}.") from error


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    """The loader's ``windows`` and ``anchor_file`` from the command's options."""
    return {"windows": windows_from_args(args), "anchor_file": anchor_file_from_args(args)}


def validation_keys(cohort: Cohort) -> dict[str, object]:
    """``validate --json``'s keys on the windows: ``n_rows_excluded``, ``windows``
    (each time point's rule in days; null for a file without dates) and
    ``dated_results`` (the windows' settings, the result rows used and excluded by
    reason; null without dates)."""
    windowed = cohort.windowed
    return {
        "n_rows_excluded": len(cohort.report.excluded),
        "windows": [rule.to_dict() for rule in windowed.rules] if windowed else None,
        "dated_results": {**windowed.to_dict(), **windowed.counts_dict()} if windowed else None,
    }


def print_windows(cohort: Cohort) -> None:
    """The text form of ``validate``: each window's rule and the result rows by outcome."""
    windowed = cohort.windowed
    if windowed is None:
        return
    print(f"dated results: start dates from {windowed.anchor_text()}")
    for rule in windowed.rules:
        print(f"  {rule.describe()}")
    for outcome, n in windowed.outcomes_frame().itertuples(index=False):
        print(f"  {n:,} result {'row' if n == 1 else 'rows'}: {outcome}")
