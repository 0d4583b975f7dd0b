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
from pathlib import Path

from analytics import window_options
from analytics.analysis import paired_for, select, thesis_table, timecourse_for
from analytics.cli_options import (
    add_file_arguments,
    add_levels,
    add_selection_arguments,
    add_size_arguments,
    add_view_arguments,
    analysis_from_args,
    chart_options_from_args,
    levels_from_args,
    load_from_args,
)
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.evidence import evidence_lines
from analytics.filters import add_filter_arguments, filter_from_args
from analytics.limits import LIMITS
from analytics.output.figure_files import (
    CHART_FORMATS,
    JOURNAL_WIDTHS_MM,
    chart_bytes,
    width_px_for,
)
from analytics.output.files import table_csv
from analytics.output.view import ViewOutputs, view_outputs
from analytics.plain import jsonable
from analytics.pseudonyms import key_frame, labels_sentence
from analytics.stats.characteristics import characteristics
from analytics.stats.power import power_summary
from analytics.viz.figures import CHARTS
from analytics.viz.thesis import thesis_figure

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, as for other refusals
        raise AnalysisError(f"{self.prog}: {message}")


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
    result = paired_for(chosen.cohort, selection, levels_from_args(args))
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
        analysis=levels_from_args(args),
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
    add_selection_arguments(paired, required=True, labs="mcv, hgb, hepcidin", follow_up="2 or 2w")
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
    add_levels(course)
    figure = sub.add_parser("figure", help="draw one chart to PNG, TIFF, SVG or PDF")
    add_view_arguments(figure, lab_required=False)
    figure.add_argument("--chart", choices=CHARTS)
    figure.add_argument(
        "--thesis",
        type=int,
        choices=range(1, 7),
        metavar="N",
        help="redraw the study's Figure N (1-6) from the file instead (filters not applied)",
    )
    figure.add_argument("--format", choices=CHART_FORMATS, default="png")
    add_size_arguments(figure, "the figure")
    report = sub.add_parser("report", help="self-contained HTML report of a view")
    add_view_arguments(report, lab_required=False)
    export = sub.add_parser("export", help="tables (.xlsx, .csv) or everything (.zip)")
    add_view_arguments(export, lab_required=False)
    add_size_arguments(export, "the ZIP's figures (default 4 in)")
    return parser


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
