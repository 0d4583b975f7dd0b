"""One self-contained HTML report of the current view, for reading, archiving and printing.

The report is a single UTF-8 file: styles inline, figures as inline SVG, no script,
no font, image or link outside the file (a Content-Security-Policy forbids loading
anything), so it opens the same offline, in an e-mail attachment or years later.
Every string that came from the data file (patient IDs, attribute values, column
names, the file name) is HTML-escaped. A print stylesheet lays it out on A4 with
figures and table rows kept whole.

Numbers are rounded here, for reading only: p-values to 4 decimals (``< 0.0001``
below that), other numbers to 2 decimals (Shapiro–Wilk W and the Greenhouse–Geisser
epsilon to 3). The analyses themselves and
the CSV/XLSX exports keep full precision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import altair as alt

from analytics import __version__
from analytics.analysis import Selection, thesis_table
from analytics.cohort import CENSORED_RULES, Cohort
from analytics.errors import AnalysisError
from analytics.filters import FilteredCohort
from analytics.flow import excluded_sentence, pair_reasons, summarise_excluded
from analytics.output.figure_files import chart_bytes
from analytics.output.report_evidence import evidence_section, paragraphs_section
from analytics.output.report_html import (
    CHANGE_KEYS,
    escape,
    fmt_number,
    fmt_p,
    frame_table,
    grouped,
    inline_svg,
    kv_table,
    quantity_table,
    table,
    when,
)
from analytics.output.report_mixed import mixed_model_section
from analytics.plain import format_interval, format_level
from analytics.pseudonyms import labels_sentence
from analytics.stats.characteristics import Characteristics
from analytics.stats.paired import PairedResult, leave_one_out
from analytics.stats.power import OBSERVED_POWER_CAVEAT, PowerResult
from analytics.stats.timecourse import TimecourseResult

__all__ = ["MAX_LISTED_ISSUES", "file_sections", "fmt_number", "fmt_p", "html_report"]

#: Warnings and excluded rows listed in the report (the rest are counted).
MAX_LISTED_ISSUES = 10

_PAIRED_MAIN = (
    "n_pairs",
    "n_excluded",
    "excluded",
    *CHANGE_KEYS,
    "t",
    "df",
    "p_two_sided",
    "p_less",
    "p_greater",
    "cohen_dz",
    "dz_ci_low",
    "dz_ci_high",
    "r",
    "mde_dz_80",
    "n_for_80_power",
)
_PAIRED_ROBUST = (
    "wilcoxon_statistic",
    "wilcoxon_p",
    "wilcoxon_method",
    "wilcoxon_note",
    "sign_flip_p",
    "sign_flip_method",
    "bootstrap_ci_low",
    "bootstrap_ci_high",
    "bootstrap_note",
    "shapiro_w",
    "shapiro_p",
    "ratio_note",
)

_CSS = """
:root { --ink: #1a1a1a; --muted: #5a5a5a; --rule: #d0d0d0; --band: #f3f5f8; --accent: #0072B2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0 auto; padding: 1.5rem 1.25rem 3rem; max-width: 62rem; color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
}
h1 { font-size: 1.55rem; margin: 0 0 .35rem; line-height: 1.2; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; padding-bottom: .2rem;
  border-bottom: 2px solid var(--accent); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
p { margin: .4rem 0; }
.meta, .note, figcaption { color: var(--muted); font-size: .86rem; }
.lead { font-size: 1.05rem; }
.filter { background: var(--band); border-left: 4px solid var(--accent);
  padding: .5rem .75rem; margin: .6rem 0; }
.result { background: var(--band); padding: .6rem .75rem; margin: .6rem 0;
  font-weight: 600; }
.warn { border-left: 4px solid #D55E00; padding: .3rem .75rem; background: #fdf3ec; }
code, .hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: .85rem; }
.hash { word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 .8rem;
  font-size: .86rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .45rem; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
thead th { border-bottom: 2px solid #888; background: var(--band); }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
td.nw { white-space: nowrap; }
table.kv th { width: 34%; font-weight: 600; background: none; }
ul.issues { margin: .3rem 0; padding-left: 1.2rem; font-size: .9rem; }
figure { margin: 1rem 0 1.5rem; }
figure svg { display: block; max-width: 100%; height: auto; }
footer { margin-top: 2.5rem; border-top: 1px solid var(--rule); padding-top: .5rem; }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  h1 { font-size: 15pt; }
  h2 { font-size: 12pt; margin-top: 1.2rem; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  table { font-size: 8pt; }
  th, td { padding: 1.5pt 3pt; }
  thead { display: table-header-group; }
  tr, figure, .result, .filter { break-inside: avoid; page-break-inside: avoid; }
  figure svg { max-height: 120mm; width: auto; }
  .filter, .result, thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def html_document(title: str, body: Sequence[str]) -> bytes:
    """A self-contained HTML page (no outside request: the CSP allows none) of ``body``'s
    non-empty parts, UTF-8 encoded."""
    document = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )
    return document.encode("utf-8")


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------


def _source_section(cohort: Cohort, filtered: FilteredCohort) -> str:
    source = cohort.source
    pairs = [
        ("File", escape(source.filename)),
        ("SHA-256 checksum", f'<span class="hash">{escape(source.sha256)}</span>'),
        ("Read as", escape(f"{source.how_read}; {source.layout} layout")),
    ]
    if source.sheet:
        pairs.append(("Sheet", escape(source.sheet)))
    pairs.append(("Patients in the file", escape(cohort.n_patients)))
    pairs.append(("Patient labels", escape(labels_sentence(cohort))))
    return (
        '<section id="data"><h2>Data and patients</h2>'
        + kv_table(pairs, raw_values=True)
        + "<h3>Patients analysed</h3>"
        + f'<p class="filter">{escape(filtered.sentence)}</p>'
        + "</section>"
    )


def _settings_section(
    settings: Mapping[str, Any], selection: Selection | None, paired: PairedResult | None
) -> str:
    pairs: list[tuple[str, str]] = []
    if selection is not None:
        unit = f" ({selection.unit})" if selection.unit else ""
        pairs.append(("Lab", f"{selection.name}{unit}"))
        pairs.append(("Baseline → follow-up", selection.times_label))
    alpha = settings.get("alpha", paired.alpha if paired else None)
    confidence = settings.get("confidence", paired.confidence if paired else None)
    if alpha is not None:
        pairs.append(("Significance level (alpha)", f"{alpha:g}"))
    if confidence is not None:
        pairs.append(("Confidence level", format_level(confidence)))
    censored = settings.get("censored_values") or {}
    rule = censored.get("rule") if isinstance(censored, Mapping) else None
    if rule in CENSORED_RULES:
        pairs.append(("Values beyond a detection limit", CENSORED_RULES[rule]))
    thresholds = settings.get("thresholds")
    if isinstance(thresholds, Mapping) and thresholds.get("description"):
        pairs.append(("Thresholds", str(thresholds["description"])))
    if not pairs:
        return ""
    return '<section id="settings"><h2>Settings</h2>' + kv_table(pairs) + "</section>"


def file_sections(
    cohort: Cohort,
    filtered: FilteredCohort,
    settings: Mapping[str, Any],
    selection: Selection | None = None,
    paired: PairedResult | None = None,
) -> list[str]:
    """The sections every report opens with: the file, the settings, the visit windows
    of dated results and the file's validation."""
    return [
        _source_section(cohort, filtered),
        _settings_section(settings, selection, paired),
        _windows_section(cohort),
        _validation_section(cohort),
    ]


def _windows_section(cohort: Cohort) -> str:
    """For dated results: how each result became a time point (the windows, and what
    became of every result row)."""
    windowed = cohort.windowed
    if windowed is None:
        return ""
    rules = [
        [
            r.label,
            "the last value" if r.kind == "last" else "the closest value",
            str(r.target_day),
            f"{r.from_day} to {r.to_day}".replace("-", "−"),
        ]
        for r in windowed.rules
    ]
    header = ["time point", "takes", "target day", "days"]
    outcomes = windowed.outcomes_frame().itertuples(index=False)
    notes = [windowed.order_note] if windowed.order_note else []
    if windowed.windows.is_default_times:
        notes.append("time points 0, 2 and 6 months are the default: none were given")
    return (
        '<section id="windows"><h2>Visit windows</h2>'
        f"<p>The results are dated: each is placed on the days since its patient's start "
        f"date ({escape(windowed.anchor_text())}; day 0 is the start day), and each time "
        "point takes one value by its window. A result is used for one time point only."
        "</p>"
        + table(header, rules, [False, False, True, False])
        + "".join(f'<p class="note">{escape(n[:1].upper() + n[1:])}.</p>' for n in notes)
        + f"<p>Result rows: {windowed.n_rows:,}, used at a time point: {windowed.n_used:,}.</p>"
        + table(["what became of the result", "rows"], [[k, f"{n:,}"] for k, n in outcomes],
                [False, True])
        + "</section>"
    )  # fmt: skip


def _validation_section(cohort: Cohort) -> str:
    report = cohort.report
    parts = [
        '<section id="validation"><h2>Validation of the file</h2>',
        f"<p>Rows read: {report.n_rows_in} = {report.n_rows_used} used + "
        f"{len(report.excluded)} excluded. Warnings: {report.count('warning')}; "
        f"errors: {report.count('error')}; notes: {report.count('note')}.</p>",
    ]
    listed = (
        ("Errors", report.errors, "error"),
        ("Warnings", report.warnings, "warning"),
        ("Notes", report.notes, "note"),
    )
    for title, issues, severity in listed:
        if issues:
            shown = issues[:MAX_LISTED_ISSUES]
            more = report.count(severity) - len(shown)
            items = "".join(f"<li>{escape(issue.located())}</li>" for issue in shown)
            tail = f"<li>… and {more} more</li>" if more else ""
            parts.append(f'<h3>{title}</h3><ul class="issues">{items}{tail}</ul>')
    if report.excluded:
        shown = report.excluded[:MAX_LISTED_ISSUES]
        rows = [[str(e.row), e.reason] for e in shown]
        parts.append("<h3>Rows not used</h3>" + table(["row", "reason"], rows, [True, False]))
        more = len(report.excluded) - len(shown)
        if more:
            parts.append(f'<p class="note">… and {more} more.</p>')
    parts.append("</section>")
    return "".join(parts)


def _characteristics_section(characteristics: Characteristics) -> str:
    frame = characteristics.to_frame()
    table = frame_table(frame, index=True)
    return (
        '<section id="characteristics"><h2>Patient characteristics</h2>'
        + table
        + f'<p class="note">Percentages of all patients in each column. Patients without a '
        f"recorded age group are pediatric below {characteristics.age_cutoff:g} years.</p>"
        + "</section>"
    )


def _paired_section(paired: PairedResult, selection: Selection | None) -> str:
    name = selection.name if selection else "The lab"
    unit = selection.unit if selection else ""
    heading = f"Paired comparison, {selection.times_label}" if selection else "Paired comparison"
    parts = [
        f'<section id="paired"><h2>{escape(heading)}</h2>',
        f'<p class="result">{escape(paired.sentence(name, unit))}</p>',
        '<p class="note">Change = follow-up − baseline, so a fall is negative. Complete '
        "pairs only: patients with both values.</p>",
        quantity_table(paired.to_frame(), _PAIRED_MAIN, unit=unit),
        "</section>",
    ]
    return "".join(parts)


def _robustness_section(paired: PairedResult, selection: Selection | None) -> str:
    parts = [
        '<section id="robustness"><h2>Robustness</h2>',
        '<p class="note">Rank, permutation and bootstrap versions of the same comparison, '
        "the normality check of the changes, and the influence of single patients.</p>",
        quantity_table(paired.to_frame(), _PAIRED_ROBUST, unit=selection.unit if selection else ""),
    ]
    if paired.ratio is not None:
        name = selection.name if selection else "The lab"
        parts.append("<h3>Ratio (log) paired t-test</h3>")
        parts.append(f"<p>{escape(paired.ratio.sentence(name))}.</p>")
    loo = leave_one_out(paired, alpha=paired.alpha)
    unit = f" ({selection.unit})" if selection and selection.unit else ""
    parts.append("<h3>Leave-one-out</h3>")
    loo = loo.rename(
        columns={
            "patient_id": "patient left out",
            "n_pairs": "pairs",
            "mean_change": f"mean change{unit}",
            "p_two_sided": "p (two-sided)",
            "sign_flips": "sign flips",
            "crosses_alpha": f"crosses alpha {paired.alpha:g}",
        }
    )
    parts.append(frame_table(loo))
    flagged = loo[loo["sign flips"] | loo[f"crosses alpha {paired.alpha:g}"]]
    if flagged.empty:
        parts.append(
            f'<p class="note">No single patient\'s removal flips the sign of the mean change '
            f"or moves p across {paired.alpha:g}.</p>"
        )
    else:
        names = ", ".join(str(p) for p in flagged["patient left out"])
        parts.append(
            f'<p class="warn">The conclusion rests on single patients: removing {escape(names)} '
            f"flips the sign of the mean change or moves p across {paired.alpha:g}.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _timecourse_section(timecourse: TimecourseResult, selection: Selection | None) -> str:
    unit = f" ({selection.unit})" if selection and selection.unit else ""
    title = f"{selection.name}{unit} at every time point" if selection else "All time points"
    study = thesis_table(timecourse).drop(columns=["months"])
    contrasts = [
        [
            c.label,
            str(c.n_pairs),
            fmt_number(c.mean_change, 2),
            format_interval(c.ci_low, c.ci_high, 2, keep_small=True),
            fmt_number(c.t, 2),
            "—" if c.df is None else str(c.df),
            fmt_p(c.p_raw),
            fmt_p(c.p_holm),
            grouped(c.excluded) or (c.note or ""),
        ]
        for c in timecourse.contrasts
    ]
    level = format_level(timecourse.confidence)
    parts = [
        f'<section id="timecourse"><h2>{escape(title)}</h2>',
        frame_table(study),
        '<p class="note">Mean, SD (n − 1) and SE over the patients with a value; p from the '
        "paired t-test against baseline on the patients with both values; one-sided p for a "
        "fall (Prob &lt; t) and for a rise (Prob &gt; t), as JMP prints them. "
        f"Holm family: {escape(timecourse.family)}.</p>",
        "<h3>Each time point against baseline</h3>",
        table(
            [
                "time",
                "pairs",
                f"mean change{unit}",
                f"{level} CI",
                "t",
                "df",
                "p (raw)",
                "p (Holm)",
                "not in this contrast",
            ],
            contrasts,
            [False, True, True, True, True, True, True, True, False],
        ),
        "<h3>Across all time points (complete cases)</h3>",
        quantity_table(timecourse.tests_frame(), skip_missing=True),
    ]
    if timecourse.incomplete:
        missing = grouped(timecourse.incomplete)
        parts.append(f'<p class="note">Not in the omnibus tests: {escape(missing)}.</p>')
    if len(timecourse.times) > 2:
        lab_unit = selection.unit if selection else ""
        parts.append(mixed_model_section(timecourse.mixed_model, lab_unit))
    parts.append("</section>")
    return "".join(parts)


def _power_section(power: PowerResult, selection: Selection | None) -> str:
    unit = selection.unit if selection else ""
    return (
        '<section id="power"><h2>Power and detectable change</h2>'
        + quantity_table(power.to_frame(), unit=unit)
        + f'<p class="note">Observed power is not shown. {escape(OBSERVED_POWER_CAVEAT)}</p>'
        + "</section>"
    )


def _figures_section(figures: Sequence[tuple[str, Any]]) -> str:
    parts = ['<section id="figures"><h2>Figures</h2>']
    for number, (caption, chart) in enumerate(figures, start=1):
        if isinstance(chart, bytes | str):  # SVG already rendered (e.g. for a download)
            svg = chart.decode("utf-8") if isinstance(chart, bytes) else chart
            if not svg.lstrip().startswith(("<svg", "<?xml")):
                raise AnalysisError(f"Figure {number} is neither a chart nor SVG.")
        else:
            svg = chart_bytes(chart, "svg").decode("utf-8")
        parts.append(
            f'<figure id="figure-{number}">{inline_svg(svg, number)}'
            f"<figcaption>Figure {number}. {escape(caption)}</figcaption></figure>"
        )
    parts.append("</section>")
    return "".join(parts)


def _not_included_section(items: Sequence[str]) -> str:
    listed = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f'<section id="not-included"><h2>Not included</h2><ul>{listed}</ul></section>'


def _versions_section(settings: Mapping[str, Any], generated: str) -> str:
    versions = settings.get("versions") or {}
    listed = ", ".join(f"{name} {version or 'not installed'}" for name, version in versions.items())
    return (
        '<footer><p class="meta">'
        + escape(f"Generated {generated} by sirolimus-dashboard {__version__}.")
        + (f" Software: {escape(listed)}." if listed else "")
        + " This file is self-contained: it loads nothing from anywhere else.</p></footer>"
    )


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


def _generated(generated_at: datetime | None, settings: Mapping[str, Any]) -> str:
    """The report's date: the one given, else the settings' export time, else now."""
    if generated_at is not None:
        return when(generated_at if generated_at.tzinfo else generated_at.astimezone())
    if settings.get("exported_at"):
        return when(datetime.fromisoformat(str(settings["exported_at"])))
    return when(datetime.now(UTC))


def _lead(
    filtered: FilteredCohort,
    settings: Mapping[str, Any],
    selection: Selection | None,
    paired: PairedResult | None,
) -> str:
    """The headline: the paired result, then the patients left out in one line."""
    if paired is None or selection is None:
        return ""
    headline = replace(paired, excluded=()).sentence(selection.name, selection.unit)
    censored = settings.get("censored_values") or {}
    rule = censored.get("rule") if isinstance(censored, Mapping) else None
    cohort = filtered.cohort
    reasons = pair_reasons(cohort, selection, rule if rule in CENSORED_RULES else "limit")
    groups = summarise_excluded(paired.excluded, cohort.patients, reasons)
    return " ".join(part for part in (headline, excluded_sentence(groups)) if part)


def html_report(
    cohort: Cohort,
    filtered: FilteredCohort,
    *,
    settings: Mapping[str, Any],
    selection: Selection | None = None,
    paired: PairedResult | None = None,
    timecourse: TimecourseResult | None = None,
    power: PowerResult | None = None,
    characteristics: Characteristics | None = None,
    figures: Sequence[tuple[str, alt.TopLevelMixin | Mapping[str, Any] | bytes | str]] = (),
    generated_at: datetime | None = None,
    title: str | None = None,
    not_included: Sequence[str] = (),
    paragraphs: tuple[str, str] | None = None,
) -> bytes:
    """The current view as one self-contained HTML file (UTF-8 bytes).

    Parameters
    ----------
    cohort : Cohort
        The whole cohort as loaded: source, checksum, validation report.
    filtered : FilteredCohort
        The patients analysed and the sentence describing the filter.
    settings : mapping
        The :func:`analytics.output.files.settings_dict` of the same view (levels,
        censored-value rule, thresholds, software versions).
    selection : Selection, optional
        The lab and its two time points.
    paired : PairedResult, optional
        Adds the paired comparison and the robustness section (leave-one-out is
        computed here from it).
    timecourse : TimecourseResult, optional
        Adds the study table, contrasts against baseline and omnibus tests.
    power : PowerResult, optional
        Adds the power and minimum detectable change.
    characteristics : Characteristics, optional
        Adds the patient characteristics table.
    figures : sequence of (caption, chart)
        Embedded as inline SVG, numbered, in this order. A chart is an Altair chart,
        a Vega-Lite dict, or SVG already rendered by
        :func:`analytics.output.figure_files.chart_bytes` (bytes or str).
    generated_at : datetime, optional
        Shown as the report's date; default the settings' ``exported_at``, else now.
    title : str, optional
        Default: "Sirolimus lab-value report" and the lab and times.
    not_included : sequence of str
        What the view could not compute or draw, and why; listed in a "Not included"
        section so that nothing is left out silently.
    paragraphs : (results, methods), optional
        The comparison written as a paper's Results and Methods paragraphs.

    Returns
    -------
    bytes
        UTF-8 HTML. Each section appears only when its object is given. No script
        and no external resource; a Content-Security-Policy blocks any load.
    """
    generated = _generated(generated_at, settings)
    if title is None:
        title = "Sirolimus lab-value report"
        if selection is not None:
            title += f": {selection.label()}"
    lead = _lead(filtered, settings, selection, paired)
    body = [
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(filtered.sentence)} · {escape(cohort.source.filename)} · '
        f"generated {escape(generated)}</p>",
        f'<p class="lead">{escape(lead)}</p>' if lead else "",
        "</header>",
        *file_sections(cohort, filtered, settings, selection, paired),
    ]
    if characteristics is not None:
        body.append(_characteristics_section(characteristics))
    if paired is not None:
        body.append(_paired_section(paired, selection))
        body.append(evidence_section(paired, selection))
        body.append(_robustness_section(paired, selection))
    if timecourse is not None:
        body.append(_timecourse_section(timecourse, selection))
    if power is not None:
        body.append(_power_section(power, selection))
    if figures:
        body.append(_figures_section(figures))
    if paragraphs is not None:
        body.append(paragraphs_section(*paragraphs))
    if not_included:
        body.append(_not_included_section(not_included))
    body.append(_versions_section(settings, generated))
    return html_document(title, body)
