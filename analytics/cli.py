"""Command line: ``python -m analytics COMMAND FILE [options]``.

Commands print plain text, or JSON with ``--json``. Exit status 0 when the request
could be answered, 2 when it could not (a one-line message on standard error);
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from analytics import window_options
from analytics.analysis import SPLITS, paired_for, select, thesis_table, timecourse_for
from analytics.cohort import CENSORED_RULES, Cohort
from analytics.errors import AnalysisError
from analytics.evidence import evidence_lines
from analytics.filters import add_filter_arguments, filter_from_args
from analytics.limits import LIMITS
from analytics.output.figure_files import (
    CHART_FORMATS,
    DEFAULT_PPI,
    JOURNAL_DPI,
    JOURNAL_WIDTHS_MM,
    chart_bytes,
    width_px_for,
)
from analytics.output.files import table_csv
from analytics.output.view import ViewOutputs, view_outputs
from analytics.plain import jsonable
from analytics.pseudonyms import PSEUDONYMISE_CHOICES, key_frame, labels_sentence, pseudonymise
from analytics.reading.isolation import load_cohort_isolated
from analytics.reading.loader import parse_mapping
from analytics.settings import AnalysisSettings, ChartOptions
from analytics.stats.characteristics import characteristics
from analytics.stats.power import power_summary
from analytics.stats.prevalence import Thresholds
from analytics.viz.figures import CHARTS
from analytics.viz.thesis import thesis_figure

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, as for other refusals
        raise AnalysisError(f"{self.prog}: {message}")


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


def print_json(obj: object) -> None:
    print(json.dumps(jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False))


# --------------------------------------------------------------------------- commands


_LISTED = int(LIMITS["listed_per_report"].value)
_MESSAGE_CHARS = 300


def _clipped(entry: dict[str, object]) -> dict[str, object]:
    """An entry with its text cut to a bounded length (a cell can hold a whole book)."""
    for key in ("message", "reason", "example"):
        text = entry.get(key)
        if isinstance(text, str) and len(text) > _MESSAGE_CHARS:
            entry[key] = text[:_MESSAGE_CHARS] + "…"
    return entry


def _listed(items: Sequence[object]) -> list[dict[str, object]]:
    return [_clipped(item.to_dict()) for item in items[:_LISTED]]  # type: ignore[attr-defined]


def _excluded_groups(cohort: Cohort) -> list[dict[str, object]]:
    groups: dict[tuple[str, str], dict[str, object]] = {}
    for row in cohort.report.excluded:
        key = (row.kind, row.sheet)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"kind": row.kind, "count": 0, "first_rows": []}
            group["example"] = row.reason
            if row.sheet:
                group["sheet"] = row.sheet
        group["count"] += 1  # type: ignore[operator]
        if len(group["first_rows"]) < 10:  # type: ignore[arg-type]
            group["first_rows"].append(row.row)  # type: ignore[union-attr]
    return [_clipped(g) for g in list(groups.values())[:_LISTED]]


def validation_dict(cohort: Cohort) -> dict[str, object]:
    """The validation report as the JSON object ``validate --json`` prints.

    Every list holds at most ``listed_per_report`` entries and every message at most
    300 characters, so the JSON stays under 1 MB for any file within the limits; the
    counts (``n_excluded``, ``n_errors``, ``n_warnings``, ``n_notes``,
    ``n_issue_groups``, ``n_columns``) are complete, ``lists_complete`` says whether
    every list is whole, and
    ``issue_groups`` / ``excluded_groups`` give one entry per column and kind of
    problem with its count, first rows and an example.
    """
    report = cohort.report
    groups = report.issue_groups()
    counts = {severity: report.count(severity) for severity in ("error", "warning", "note")}
    listed = {
        "excluded": _listed(report.excluded),
        "errors": _listed(report.errors),
        "warnings": _listed(report.warnings),
        "notes": _listed(report.notes),
        "issue_groups": _listed(groups),
    }
    return {
        "ok": report.ok,
        "file": cohort.source.filename,
        "sha256": cohort.source.sha256,
        "read_as": cohort.source.how_read,
        "layout": cohort.source.layout,
        "header_row": report.header_row,
        "n_patients": cohort.n_patients,
        "n_rows_in": report.n_rows_in,
        "n_rows_used": report.n_rows_used,
        "excluded": listed["excluded"],
        "analytes": {key: list(info.times) for key, info in cohort.analytes.items()},
        "units": {key: info.unit for key, info in cohort.analytes.items()},
        "columns": [
            {"column": r.column, "role": r.as_role_string(), "reads_as": r.describe()}
            for r in cohort.mapping[:_LISTED]
        ],
        "errors": listed["errors"],
        "warnings": listed["warnings"],
        "notes": listed["notes"],
        "n_excluded": len(report.excluded),
        "n_errors": counts["error"],
        "n_warnings": counts["warning"],
        "n_notes": counts["note"],
        "n_issue_groups": len(groups),
        "n_columns": len(cohort.mapping),
        "issue_groups": listed["issue_groups"],
        "excluded_groups": _excluded_groups(cohort),
        "identifiers": cohort.identifiers.to_dict(),
        **window_options.validation_keys(cohort),
        "lists_complete": (
            len(report.issues) == report.count()
            and max(len(report.excluded), len(groups), len(cohort.mapping)) <= _LISTED
            and all(len(items) < _LISTED for items in listed.values())
        ),
    }


def _print_report(cohort: Cohort) -> None:
    """The text form of ``validate``: each group of issues once, with its count."""
    report = cohort.report
    excluded = report.excluded
    for row in excluded[:_LISTED]:
        print(f"excluded row {row.row}: {row.reason}")
    if len(excluded) > _LISTED:
        print(f"... and {len(excluded) - _LISTED:,} more excluded rows")
    for group in report.issue_groups():
        for issue in group.issues:
            print(f"{issue.severity}: {issue.located()}")
        more = group.count - len(group.issues)
        if more > 0:
            where = f"column '{group.column}'" if group.column else "the file"
            print(f"{group.severity}: ... and {more:,} more like this in {where}")


def _validate(args: argparse.Namespace) -> int:
    try:
        cohort = load_from_args(args)
    except AnalysisError as error:
        if args.json:  # other programs read the JSON: say "not ok" there too
            print_json(
                {
                    "ok": False,
                    "file": Path(args.file).name,
                    "errors": [{"row": None, "column": None, "message": str(error)}],
                    "warnings": [],
                }
            )
        raise
    result = validation_dict(cohort)
    if args.write_key:
        if not cohort.identifiers.pseudonymised:
            raise AnalysisError("There is no key to write: the patients keep the file's IDs.")
        _write(args.write_key, table_csv(key_frame(cohort)), quiet=args.json)
    if args.json:
        print_json(result)
    else:
        print(f"{cohort.source.filename}: {cohort.source.how_read}; {cohort.source.layout} layout")
        print(
            f"{cohort.n_patients} patients; rows in {result['n_rows_in']} = used "
            f"{result['n_rows_used']} + excluded {len(cohort.report.excluded)}"
        )
        for key, info in cohort.analytes.items():
            times = ", ".join(f"{t:g}" for t in info.times)
            print(f"  {info.label()} [{key}]: months {times}")
        print(labels_sentence(cohort))
        window_options.print_windows(cohort)
        _print_report(cohort)
    return 0 if cohort.report.ok else 2


def _cohort(args: argparse.Namespace) -> int:
    cohort = load_from_args(args)
    chosen = filter_from_args(args).apply(cohort)
    table = characteristics(chosen.cohort, args.age_cutoff)
    counts = chosen.cohort.value_counts_by_time()
    if args.json:
        print_json(
            {
                "filters": chosen.sentence,
                "n_patients": chosen.n,
                "n_total": chosen.n_total,
                "characteristics": table.to_dict(),
                "table": table.to_frame().to_dict(orient="index"),
                "lab_value_counts": counts.to_dict(orient="index"),
            }
        )
    else:
        print(chosen.sentence)
        print(table.to_frame().to_string())
        print()
        print(counts.to_string())
    return 0


def _levels(args: argparse.Namespace) -> AnalysisSettings:
    """``--alpha``, ``--confidence``, ``--censored`` and, where the command takes them,
    ``--margin``, ``--prior-scale``, ``--cv-analytical`` and ``--cv-within``."""
    return AnalysisSettings(
        alpha=args.alpha, confidence=args.confidence, censored=args.censored, **_evidence(args)
    )


def _evidence(args: argparse.Namespace) -> dict[str, float]:
    """The evidence settings given on the command line (the others stay at defaults)."""
    names = ("margin", "prior_scale", "cv_analytical", "cv_within")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _pairs_list(items: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"patient_id": pid, "reason": why} for pid, why in items]


def _lab_fields(cohort: Cohort, key: str) -> dict[str, str]:
    """The lab's key, name and unit for the JSON output."""
    info = cohort.analytes[key]
    return {"analyte": key, "lab": info.name, "unit": info.unit}


def _paired(args: argparse.Namespace) -> int:
    cohort = load_from_args(args)
    chosen = filter_from_args(args).apply(cohort)
    selection = select(chosen.cohort, args.analyte, args.baseline, args.follow_up)
    result = paired_for(chosen.cohort, selection, _levels(args))
    if args.json:
        out = result.to_dict()
        out["excluded"] = _pairs_list(result.excluded)
        out.update(
            _lab_fields(chosen.cohort, selection.analyte),
            baseline=selection.baseline,
            follow_up=selection.follow_up,
            filters=chosen.sentence,
            censored_rule=args.censored,
        )
        print_json(out)
    else:
        print(chosen.sentence)
        print(result.sentence(selection.name, selection.unit))
        frame = result.to_frame()
        print(frame[["label", "value"]].to_string(index=False))
        print("\n".join(evidence_lines(result)))
    return 0


def _power(args: argparse.Namespace) -> int:
    delta = args.delta
    if args.alternative == "less":
        delta = -abs(delta)
    result = power_summary(
        args.n,
        args.sd_change,
        delta,
        alpha=args.alpha,
        power=args.power,
        alternative=args.alternative,
    )
    if args.json:
        print_json(result.to_dict())
    else:
        print(result.to_frame().to_string(index=False))
    return 0


def _timecourse(args: argparse.Namespace) -> int:
    cohort = load_from_args(args)
    chosen = filter_from_args(args).apply(cohort)
    key = chosen.cohort.find_analyte(args.analyte)
    baseline = chosen.cohort.find_time(key, args.baseline) if args.baseline else None
    result = timecourse_for(
        chosen.cohort,
        key,
        baseline=baseline,
        analysis=_levels(args),
    )
    table = thesis_table(result)
    if args.json:
        out = result.to_dict()
        out["left_out"] = _pairs_list(result.left_out)
        out.update(
            _lab_fields(chosen.cohort, key),
            filters=chosen.sentence,
            table=table.astype(object).where(table.notna(), None).to_dict(orient="records"),
        )
        print_json(out)
    else:
        print(chosen.sentence)
        print(table.to_string(index=False))
        print(result.tests_frame().to_string(index=False))
        print(result.contrasts_frame().to_string(index=False))
        mixed = result.mixed_model
        if mixed is not None and len(result.times) > 2:
            print(mixed.sentence())
            print(mixed.summary_frame().to_string(index=False))
            if mixed.fitted:
                print(mixed.to_frame().to_string(index=False))
        for pid, why in result.left_out:
            print(f"left out: {pid} ({why})")
    return 0


def _thresholds(items: list[str]) -> Thresholds:
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
    evidence = _evidence(args)
    if evidence.keys() & {"margin", "cv_analytical", "cv_within"} and not args.analyte:
        raise AnalysisError(
            "--margin, --cv-analytical and --cv-within are one lab's figures: give --analyte."
        )
    return AnalysisSettings(
        alpha=getattr(args, "alpha", defaults.alpha),
        confidence=getattr(args, "confidence", defaults.confidence),
        censored=getattr(args, "censored", defaults.censored),
        age_cutoff=getattr(args, "age_cutoff", defaults.age_cutoff),
        thresholds=_thresholds(getattr(args, "threshold", [])),
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


def _outputs(args: argparse.Namespace, charts: tuple[str, ...] = CHARTS) -> ViewOutputs:
    cohort = load_from_args(args)
    if args.analyte is None and (args.baseline or args.follow_up):
        raise AnalysisError("--baseline and --follow-up need --analyte.")
    cohort_filter = filter_from_args(args)
    n_patients = cohort_filter.apply(cohort).n
    most = int(LIMITS["max_report_patients"].value)
    if n_patients > most:  # figures and tables of every patient would take minutes
        raise AnalysisError(
            f"{n_patients:,} patients are selected; reports, exports and figures are made "
            f"for up to {most:,} patients (their figures and tables show every patient). "
            "Select fewer with the filters (--cohort, --age-group, --sex, --iron, --epo), "
            "or use 'paired' or 'timecourse' with --json for the numbers."
        )
    return view_outputs(
        cohort,
        cohort_filter,
        analyte=args.analyte,
        baseline=args.baseline,
        follow_up=args.follow_up,
        analysis=analysis_from_args(args),
        options=chart_options_from_args(args),
        charts=charts,
    )


def _write(path: str, data: bytes, *, quiet: bool = False) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as error:
        raise AnalysisError(f"Cannot write {path}: {error.strerror or error}.") from error
    if not quiet:
        print(f"wrote {path} ({len(data):,} bytes)")


#: The width of ZIP figures without --width or --preset: 4 inches.
_BUNDLE_INCHES = 4


def _figure_width(args: argparse.Namespace) -> int | None:
    """The figure width in pixels of ``--preset`` or ``--width`` (None: the chart's own)."""
    if args.preset is not None and args.width is not None:
        raise AnalysisError("Give --preset or --width, not both.")
    if args.preset is not None:
        return width_px_for(JOURNAL_WIDTHS_MM[args.preset], args.dpi)
    return args.width


def _figure(args: argparse.Namespace) -> int:
    width, dpi = _figure_width(args), args.dpi
    if args.thesis is not None:
        chart = thesis_figure(args.thesis, load_from_args(args)).chart
        _write(args.output, chart_bytes(chart, args.format, width_px=width, ppi=dpi))
        return 0
    if (
        args.chart is None
        or args.analyte is None
        or args.baseline is None
        or (args.follow_up is None)
    ):
        raise AnalysisError("Give --chart, --analyte, --baseline and --follow-up (or --thesis N).")
    outputs = _outputs(args, charts=(args.chart,))
    if not outputs.figures:
        raise AnalysisError(outputs.problems[0] if outputs.problems else "No figure drawn.")
    figure = outputs.figures[0]
    _write(args.output, chart_bytes(figure.chart, args.format, width_px=width, ppi=dpi))
    return 0


def _report(args: argparse.Namespace) -> int:
    outputs = _outputs(args)
    _write(args.output, outputs.report_html())
    return 0


def _export(args: argparse.Namespace) -> int:
    suffix = Path(args.output).suffix.lower()
    if suffix not in (".xlsx", ".csv", ".zip"):
        raise AnalysisError("The output must end in .xlsx, .csv or .zip.")
    width = _figure_width(args) or round(_BUNDLE_INCHES * args.dpi)
    outputs = _outputs(args, charts=CHARTS if suffix == ".zip" else ())
    if suffix == ".zip":
        data = outputs.bundle(width_px=width, ppi=args.dpi)
    elif suffix == ".xlsx":
        data = outputs.workbook()
    else:
        key = (
            "paired_all_labs"
            if outputs.selection is None
            else (f"{outputs.selection.analyte}_paired_test")
        )
        data = table_csv(outputs.tables[key])
    _write(args.output, data)
    return 0


def _add_levels(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level")
    parser.add_argument(
        "--censored",
        choices=sorted(CENSORED_RULES),
        default="limit",
        help="how values like <5 enter: at the limit, half the limit, or left out",
    )


COMMANDS = {
    "validate": _validate,
    "cohort": _cohort,
    "paired": _paired,
    "power": _power,
    "timecourse": _timecourse,
    "figure": _figure,
    "report": _report,
    "export": _export,
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    validate = sub.add_parser("validate", help="read a file and print the validation report")
    add_file_arguments(validate)
    validate.add_argument(
        "--write-key",
        metavar="PATH",
        help="write the key from P01…Pnn to the file's patient IDs to this CSV "
        "(when the patients are pseudonymised)",
    )
    cohort = sub.add_parser("cohort", help="print the characteristics table")
    add_file_arguments(cohort)
    add_filter_arguments(cohort)
    paired = sub.add_parser("paired", help="paired comparison of one lab between two times")
    _add_selection_arguments(paired, required=True, labs="mcv, hgb, hepcidin", follow_up="2 or 2w")
    power = sub.add_parser("power", help="power, pairs needed and detectable change")
    power.add_argument("--n", type=int, required=True, help="number of pairs")
    power.add_argument("--sd-change", type=float, required=True, help="SD of the change")
    power.add_argument("--delta", type=float, required=True, help="change worth detecting")
    power.add_argument("--alpha", type=float, default=0.05)
    power.add_argument("--power", type=float, default=0.8, help="target power")
    power.add_argument(
        "--alternative", choices=["two-sided", "less", "greater"], default="two-sided"
    )
    power.add_argument("--json", action="store_true", help="print JSON")
    course = sub.add_parser("timecourse", help="one lab across all its time points")
    add_file_arguments(course)
    course.add_argument("--analyte", required=True, help="lab, e.g. mcv")
    course.add_argument("--baseline", help="baseline time (default: the first)")
    add_filter_arguments(course)
    _add_levels(course)
    figure = sub.add_parser("figure", help="draw one chart to PNG, TIFF, SVG or PDF")
    _add_view_arguments(figure, lab_required=False)
    figure.add_argument("--chart", choices=CHARTS)
    figure.add_argument(
        "--thesis",
        type=int,
        choices=range(1, 7),
        metavar="N",
        help="redraw the study's Figure N (1-6) from the file instead (filters not applied)",
    )
    figure.add_argument("--format", choices=CHART_FORMATS, default="png")
    _add_size_arguments(figure, "the figure")
    report = sub.add_parser("report", help="self-contained HTML report of a view")
    _add_view_arguments(report, lab_required=False)
    export = sub.add_parser("export", help="tables (.xlsx, .csv) or everything (.zip)")
    _add_view_arguments(export, lab_required=False)
    _add_size_arguments(export, "the ZIP's figures (default 4 in)")
    return parser


def _add_size_arguments(parser: argparse.ArgumentParser, what: str) -> None:
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


def _add_selection_arguments(
    parser: argparse.ArgumentParser, *, required: bool, labs: str = "mcv", follow_up: str = "2"
) -> None:
    """The file, the lab and its two times, the filters and the levels."""
    add_file_arguments(parser)
    parser.add_argument("--analyte", required=required, help=f"lab, e.g. {labs}")
    parser.add_argument("--baseline", required=required, help="baseline time, e.g. 0")
    parser.add_argument("--follow-up", required=required, help=f"follow-up time, e.g. {follow_up}")
    add_filter_arguments(parser)
    _add_levels(parser)
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


def _add_view_arguments(parser: argparse.ArgumentParser, *, lab_required: bool) -> None:
    _add_selection_arguments(parser, required=lab_required)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a program that stopped reading (head)
        sys.stderr.close()
        return 0
    except Exception as error:  # never a traceback on the command line
        print(f"error: unexpected {type(error).__name__}: {error}", file=sys.stderr)
        return 2
