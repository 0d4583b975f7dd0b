"""The command line's shared options: the file, the lab and times, levels, sizes, charts.

:mod:`analytics.cli` builds its sub-commands from these; each function turns parsed
options into the settings objects the analyses take.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from analytics import window_options
from analytics.analysis import SPLITS
from analytics.cohort import CENSORED_RULES, Cohort
from analytics.errors import AnalysisError
from analytics.filters import add_filter_arguments
from analytics.output.figure_files import DEFAULT_PPI, JOURNAL_DPI, JOURNAL_WIDTHS_MM
from analytics.pseudonyms import PSEUDONYMISE_CHOICES, pseudonymise
from analytics.reading.isolation import load_cohort_isolated
from analytics.reading.loader import parse_mapping
from analytics.settings import AnalysisSettings, ChartOptions
from analytics.stats.prevalence import Thresholds

__all__ = [
    "add_file_arguments",
    "add_levels",
    "add_selection_arguments",
    "add_size_arguments",
    "add_view_arguments",
    "analysis_from_args",
    "chart_options_from_args",
    "evidence_from_args",
    "levels_from_args",
    "load_from_args",
    "thresholds_from_args",
]


def add_file_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="CSV or XLSX cohort file")
    parser.add_argument("--sheet", help="XLSX sheet to read (default: first visible sheet)")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=ROLE",
        help="correct a column's recognised role, e.g. 'Pt=patient_id' or 'MCV6=lab:mcv:6'",
    )
    parser.add_argument(
        "--pseudonymise",
        choices=list(PSEUDONYMISE_CHOICES),
        default="auto",
        help="label patients P01…Pnn and leave identifier columns (names, initials, birth "
        "dates …) out: 'auto' (default) when the patient IDs look like record numbers, "
        "'yes' always, 'no' never",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    window_options.add_window_arguments(parser)


def load_from_args(args: argparse.Namespace) -> Cohort:
    """The file of the command, read and pseudonymised as ``--pseudonymise`` says."""
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AnalysisError(f"Cannot read {path}: {error.strerror or error}.") from error
    options = window_options.load_options(args)  # dated results: the windows, start dates
    cohort = load_cohort_isolated(
        data, path.name, sheet=args.sheet, mapping=parse_mapping(args.map), **options
    )
    return pseudonymise(cohort, args.pseudonymise)


def levels_from_args(args: argparse.Namespace) -> AnalysisSettings:
    """``--alpha``, ``--confidence``, ``--censored`` and, where the command takes them,
    ``--margin``, ``--prior-scale``, ``--cv-analytical`` and ``--cv-within``."""
    return AnalysisSettings(
        alpha=args.alpha,
        confidence=args.confidence,
        censored=args.censored,
        **evidence_from_args(args),
    )


def evidence_from_args(args: argparse.Namespace) -> dict[str, float]:
    """The evidence settings given on the command line (the others stay at defaults)."""
    names = ("margin", "prior_scale", "cv_analytical", "cv_within")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def thresholds_from_args(items: list[str]) -> Thresholds:
    values: dict[str, float] = {}
    names = {f.name for f in fields(Thresholds)}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in names:
            raise AnalysisError(
                f"'{item}' is not a threshold; write NAME=VALUE with NAME one of "
                + ", ".join(sorted(names))
            )
        try:
            values[name.strip()] = float(value)
        except ValueError as error:
            raise AnalysisError(f"'{item}': the threshold must be a number.") from error
    return Thresholds(**values)


def analysis_from_args(args: argparse.Namespace) -> AnalysisSettings:
    """The analysis settings of ``--alpha``, ``--confidence``, ``--censored``,
    ``--age-cutoff`` and ``--threshold`` (defaults for those a command lacks)."""
    defaults = AnalysisSettings()
    evidence = evidence_from_args(args)
    if evidence.keys() & {"margin", "cv_analytical", "cv_within"} and not args.analyte:
        raise AnalysisError(
            "--margin, --cv-analytical and --cv-within are one lab's figures: give --analyte."
        )
    return AnalysisSettings(
        alpha=getattr(args, "alpha", defaults.alpha),
        confidence=getattr(args, "confidence", defaults.confidence),
        censored=getattr(args, "censored", defaults.censored),
        age_cutoff=getattr(args, "age_cutoff", defaults.age_cutoff),
        thresholds=thresholds_from_args(getattr(args, "threshold", [])),
        **evidence,
    )


def chart_options_from_args(args: argparse.Namespace) -> ChartOptions:
    """The chart options of ``--color-by``, ``--sort``, ``--flip``, ``--band``, ``--split``,
    ``--complete-cases`` and ``--observed-power``."""
    return ChartOptions(
        color_by=args.color_by,
        sort=args.sort,
        flip=args.flip,
        band=args.band,
        split=args.split,
        complete_cases=args.complete_cases,
        observed_power=args.observed_power,
    )


def add_levels(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level")
    parser.add_argument(
        "--censored",
        choices=sorted(CENSORED_RULES),
        default="limit",
        help="how values like <5 enter: at the limit, half the limit, or left out",
    )


def add_size_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--preset``, ``--width`` and ``--dpi``: the printed size of figures."""
    parser.add_argument(
        "--preset",
        choices=sorted(JOURNAL_WIDTHS_MM),
        help=f"journal width of {what}: single column (89 mm) or double column (183 mm); "
        "no text under 6 pt at that width",
    )
    parser.add_argument("--width", type=int, help=f"width of {what} in pixels at --dpi")
    parser.add_argument(
        "--dpi",
        type=int,
        choices=JOURNAL_DPI,
        default=DEFAULT_PPI,
        help="resolution of PNG and TIFF files (written into the file)",
    )


def add_selection_arguments(
    parser: argparse.ArgumentParser, *, required: bool, labs: str = "mcv", follow_up: str = "2"
) -> None:
    """The file, the lab and its two times, the filters and the levels."""
    add_file_arguments(parser)
    parser.add_argument("--analyte", required=required, help=f"lab, e.g. {labs}")
    parser.add_argument("--baseline", required=required, help="baseline time, e.g. 0")
    parser.add_argument("--follow-up", required=required, help=f"follow-up time, e.g. {follow_up}")
    add_filter_arguments(parser)
    add_levels(parser)
    parser.add_argument(
        "--margin", type=float, metavar="D", help="equivalence margin in the lab's unit"
    )
    parser.add_argument(
        "--prior-scale", type=float, metavar="R", help="Cauchy prior scale of the Bayes factor"
    )
    parser.add_argument("--cv-analytical", type=float, metavar="PCT", help="analytical CV, %%")
    parser.add_argument(
        "--cv-within", type=float, metavar="PCT", help="within-subject biological CV, %%"
    )


def add_view_arguments(parser: argparse.ArgumentParser, *, lab_required: bool) -> None:
    add_selection_arguments(parser, required=lab_required)
    parser.add_argument("--color-by", choices=sorted(SPLITS), help="colour the change bars")
    parser.add_argument("--sort", action="store_true", help="sort bars by change (waterfall)")
    parser.add_argument("--flip", action="store_true", help="plot baseline − follow-up")
    parser.add_argument("--band", type=float, help="shade ± this meaningful change")
    parser.add_argument(
        "--split", choices=sorted(SPLITS), default="sex", help="subgroups (forest plot)"
    )
    parser.add_argument(
        "--complete-cases",
        action="store_true",
        help="trajectory chart: only patients with a value at every time point",
    )
    parser.add_argument(
        "--observed-power",
        action="store_true",
        help="power curve at the observed effect (post-hoc power, with its caveat)",
    )
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change an anemia/microcytosis threshold, e.g. anemia_men=13.5",
    )
    parser.add_argument("-o", "--output", required=True, help="file to write")
