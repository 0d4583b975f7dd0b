"""``report FILE -o r.html`` without ``--analyte``: every lab against its baseline."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

import analytics
from analytics.cli import main
from analytics.filters import CohortFilter
from analytics.output.report_labs import RULE, most_paired_follow_up
from analytics.output.view import LAB_REPORT_CHARTS, view_outputs

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
#: The demo's labs with two or more time points (data/README.md: the retrospective cohort
#: has Hgb and MCV at months 0, 2, 6; the prospective one every lab at 0, 2 weeks, 1, 2).
DEMO_LABS = ("hgb", "mcv", "tsat", "ferritin", "hepcidin")


@pytest.fixture(scope="module")
def demo() -> analytics.Cohort:
    return analytics.load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "r.html"
    assert main(["report", str(DEMO), "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def _section(report: str, lab: str) -> str:
    match = re.search(rf'<section id="lab-{lab}">(.*?)</section>', report, flags=re.DOTALL)
    assert match, f"no section for {lab}"
    return match.group(1)


def test_report_has_a_section_with_figures_per_lab(report):
    for lab in DEMO_LABS:
        section = _section(report, lab)
        assert section.count("<svg ") == len(LAB_REPORT_CHARTS), lab
        assert '<p class="result">' in section
    assert report.count("<svg ") == len(DEMO_LABS) * len(LAB_REPORT_CHARTS)
    numbers = [int(n) for n in re.findall(r"<figcaption>Figure (\d+)\.", report)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_report_says_how_the_times_were_chosen(report):
    assert html.escape(RULE) in report
    # MCV: 25 pairs at month 2, 20 at month 6, 5 at 2 weeks and month 1 -> month 2
    assert "<h2>MCV (fL): month 0 → month 2</h2>" in report
    assert "MCV fell by 2.46 fL on average" in _section(report, "mcv")  # thesis Table 3, all 25


def test_report_is_self_contained(report):
    assert "http://" not in report and "https://" not in report
    assert "<script" not in report


def test_summary_lists_each_labs_primary_comparison_with_holm(report):
    summary = re.search(r'<section id="summary">(.*?)</section>', report, flags=re.DOTALL)
    assert summary
    rows = re.findall(r"<tr>(.*?)</tr>", summary.group(1))
    assert len(rows) == 1 + len(DEMO_LABS)  # header and one row per lab
    assert "p (Holm, across the labs)" in rows[0]


def test_most_paired_follow_up_on_the_demo(demo):
    follow_ups = {lab: most_paired_follow_up(demo, lab) for lab in DEMO_LABS}
    # month 2 everywhere: 25 pairs for Hgb and MCV (month 6: 20); the prospective labs
    # have the same 5 (TSAT 4) pairs at 2 weeks, month 1 and month 2: the tie goes late
    assert follow_ups == dict.fromkeys(DEMO_LABS, 2.0)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (b"A,80,79,78\nB,82,80,\nC,81,,80\n", 6.0),  # 2 pairs at month 2 and at 6: later
        (b"A,80,79,78\nB,82,80,\nC,81,79,\n", 2.0),  # 3 pairs at month 2, 1 at month 6
        (b"A,80,79,78\nB,,80,79\nC,81,,80\n", 6.0),  # B has no baseline: no pair
    ],
)
def test_most_paired_follow_up_counts_pairs_with_baseline(rows, expected):
    cohort = analytics.load_cohort(b"id,MCV 0,MCV 2,MCV 6\n" + rows, "m.csv")
    assert most_paired_follow_up(cohort, "mcv") == expected


def test_censored_values_left_out_do_not_make_a_pair():
    data = b"id,MCV 0,MCV 2,MCV 6\nA,80,<70,78\nB,82,80,79\nC,81,79,\n"
    cohort = analytics.load_cohort(data, "c.csv")
    assert most_paired_follow_up(cohort, "mcv") == 2.0  # 3 pairs at month 2, 2 at month 6
    assert most_paired_follow_up(cohort, "mcv", "exclude") == 6.0  # A's <70 left out: 2 and 2


def test_a_lab_with_one_time_point_is_named_as_not_compared():
    data = b"id,MCV 0,MCV 2,Ferritin 0\nA,80,79,30\nB,82,80,40\nC,81,78,50\n"
    outputs = view_outputs(analytics.load_cohort(data, "f.csv"), CohortFilter(), charts=())
    report = outputs.report_html().decode("utf-8")
    assert '<section id="lab-mcv">' in report
    assert '<section id="lab-ferritin">' not in report
    assert "Ferritin (ng/mL): one time point only, nothing to compare." in report
