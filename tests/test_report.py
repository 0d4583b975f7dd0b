"""Golden-output tests for the self-contained HTML report, built from the demo cohort."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import analytics
from analytics.analysis import paired_for, select, timecourse_for
from analytics.filters import CohortFilter
from analytics.output.figure_files import chart_bytes
from analytics.output.files import settings_dict
from analytics.output.report import fmt_number, fmt_p, html_report
from analytics.plain import format_p
from analytics.settings import AnalysisSettings
from analytics.stats.characteristics import characteristics
from analytics.stats.power import power_curve_n, power_summary
from analytics.viz.paired_charts import qq_chart
from analytics.viz.style import ChartTitle
from analytics.viz.summary_charts import power_curve_chart

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
WHEN = datetime(2025, 11, 25, 17, 40, tzinfo=UTC)


def build_report(data: bytes, filename: str, cohort_filter: CohortFilter, figure_title: ChartTitle):
    cohort = analytics.load_cohort(data, filename)
    filtered = cohort_filter.apply(cohort)
    selection = select(filtered.cohort, "mcv", 0, 2)
    paired = paired_for(filtered.cohort, selection)
    course = timecourse_for(filtered.cohort, "mcv", baseline=0.0)
    power = power_summary(paired.n_pairs, paired.sd_change, -3.0)
    figures = [
        ("Q–Q plot of the changes", qq_chart(paired.changes, figure_title, selection.unit)),
        (
            "Power against the number of pairs",
            power_curve_chart(
                power_curve_n(0.9), "n", "Pairs", ChartTitle("Power", filtered.sentence), 12
            ),
        ),
    ]
    settings = settings_dict(
        cohort,
        filtered=filtered,
        cohort_filter=cohort_filter,
        selection=selection,
        analysis=AnalysisSettings(alpha=0.05, confidence=0.95),
        power=power,
        generated_at=WHEN,
    )
    report = html_report(
        cohort,
        filtered,
        settings=settings,
        selection=selection,
        paired=paired,
        timecourse=course,
        power=power,
        characteristics=characteristics(filtered.cohort),
        figures=figures,
        generated_at=WHEN,
    )
    return report.decode("utf-8"), filtered, paired


@pytest.fixture(scope="module")
def demo_report():
    cohort_filter = CohortFilter(sex="F")
    return build_report(
        DEMO.read_bytes(), DEMO.name, cohort_filter, ChartTitle("Q–Q plot", "12 women")
    )


# A patient ID, an attribute, a cohort name, the file name and a chart title that
# would run script, load an image or look like a web address if written raw.
HOSTILE_ID = "<img src=x onerror=alert(1)>"
HOSTILE_REASON = "<script>alert(1)</script>"
HOSTILE_COHORT = "http://evil.example/x.png"


@pytest.fixture(scope="module")
def hostile_report():
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace(
        "R01,retrospective,M,62,adult,PKD,Sarcoma",
        f"R01,{HOSTILE_COHORT},M,62,adult,PKD,{HOSTILE_REASON}",
    )
    text = text.replace("R02,", f"{HOSTILE_ID},", 1)
    assert HOSTILE_REASON in text and HOSTILE_ID in text
    title = ChartTitle("<script>alert(2)</script>", "see https://evil.example")
    report, _, _ = build_report(text.encode("utf-8"), "<b>cohort</b>.csv", CohortFilter(), title)
    return report


def test_report_has_no_web_address_anywhere(demo_report, hostile_report):
    for report in (demo_report[0], hostile_report):
        assert "http://" not in report.lower()
        assert "https://" not in report.lower()


def test_report_loads_and_runs_nothing(demo_report):
    report = demo_report[0]
    assert "<script" not in report.lower()
    assert not re.search(r"<(link|img|iframe|object|embed)\b", report, flags=re.IGNORECASE)
    assert not re.search(r"\b(src|href)=\"(?!#)", report)
    assert "default-src 'none'" in report  # Content-Security-Policy: nothing may load


def test_report_embeds_every_figure_as_inline_svg(demo_report):
    report = demo_report[0]
    assert report.count("<svg") == 2
    assert report.count("<figure") == 2
    assert "Figure 2. Power against the number of pairs" in report


def test_figure_ids_do_not_collide():
    # A Vega SVG with a clipped mark defines id="clip1"; the same SVG embedded twice
    # (or two SVGs from separate processes) would clip one figure with the other's path.
    cohort = analytics.load_cohort(DEMO.read_bytes(), DEMO.name)
    filtered = CohortFilter().apply(cohort)
    chart = power_curve_chart(power_curve_n(0.9), "n", "Pairs", ChartTitle("Power"), 12)
    svg = chart_bytes(chart, "svg")
    assert b'id="clip' in svg
    report = html_report(
        cohort,
        filtered,
        settings=settings_dict(cohort, generated_at=WHEN),
        figures=[("first", svg), ("second", svg.decode("utf-8"))],
    ).decode("utf-8")
    assert report.count("<svg") == 2
    ids = re.findall(r'\bid="([^"]+)"', report)
    assert len(ids) == len(set(ids))
    references = re.findall(r"url\(#([^)]+)\)", report)
    assert len(references) >= 2
    assert set(references) <= set(ids)


def test_report_names_the_file_checksum_and_filter(demo_report):
    report, filtered, _ = demo_report
    assert hashlib.sha256(DEMO.read_bytes()).hexdigest() in report
    assert filtered.sentence.startswith("12 of 25 patients: female")
    assert html.escape(filtered.sentence) in report
    assert "sirolimus_demo.csv" in report


def test_report_has_every_section_of_the_view(demo_report):
    report = demo_report[0]
    for section in (
        "data",
        "settings",
        "validation",
        "characteristics",
        "paired",
        "robustness",
        "timecourse",
        "power",
        "figures",
    ):
        assert f'<section id="{section}">' in report, section
    assert "Rows read: 27 = 25 used + 2 excluded." in report
    assert "Shapiro–Wilk p" in report and "Leave-one-out" in report
    assert "statsmodels" in report and "2025-11-25 17:40 UTC+00:00" in report


def test_report_shows_p_values_as_the_pages_do(demo_report):
    report, _, paired = demo_report
    assert f"<td>{format_p(paired.p_two_sided)}</td>" in report
    assert f"<td>{format_p(paired.wilcoxon_p)}</td>" in report


def test_report_has_a_print_stylesheet_for_a4(demo_report):
    report = demo_report[0]
    assert "@media print" in report
    assert "size: A4" in report
    assert "break-inside: avoid" in report


def test_hostile_strings_appear_escaped(hostile_report):
    report = hostile_report
    assert HOSTILE_REASON not in report
    assert html.escape(HOSTILE_REASON) in report  # characteristics row label
    assert HOSTILE_ID not in report
    assert html.escape(HOSTILE_ID) in report  # leave-one-out table
    assert "&lt;b&gt;cohort&lt;/b&gt;.csv" in report
    assert "<script" not in report.lower()
    assert "alert(2)" in report  # the chart title is there, as text


def test_sections_appear_only_for_the_objects_given():
    cohort = analytics.load_cohort(DEMO.read_bytes(), DEMO.name)
    filtered = CohortFilter().apply(cohort)
    settings = settings_dict(cohort, filtered=filtered, generated_at=WHEN)
    report = html_report(cohort, filtered, settings=settings).decode("utf-8")
    assert '<section id="data">' in report and '<section id="validation">' in report
    for absent in ("paired", "robustness", "timecourse", "power", "figures", "characteristics"):
        assert f'<section id="{absent}">' not in report
    assert "<svg" not in report


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.00004, "< 0.0001"),
        (0.0001, "0.0001"),
        (0.0011234, "0.00112"),
        (0.5, "0.5"),
        (None, "—"),
    ],
)
def test_fmt_p(p, text):
    assert fmt_p(p) == text


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (-2.456, 2, "−2.46"),
        (87.8051, 2, "87.81"),
        (0.0042, 2, "0.0042"),  # would round to 0.00: two significant digits instead
        (-0.0004, 2, "−0.00040"),
        (-0.001, 3, "−0.001"),
        (0.9134, 3, "0.913"),
        (-0.0, 2, "0.00"),
        (25, 2, "25"),
        (float("nan"), 2, "—"),
        (None, 2, "—"),
    ],
)
def test_fmt_number(value, decimals, text):
    assert fmt_number(value, decimals) == text
