"""The "did anything change?" panel, the RCV marks on the change chart, the evidence in
the tables and exports, and the Results/Methods paragraphs."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics import load_cohort
from analytics.analysis import select
from analytics.filters import CohortFilter
from analytics.output.files import table_csv
from analytics.output.paragraphs import exact_p, paragraphs
from analytics.output.view import view_outputs
from analytics.panel import ChangePanel
from analytics.settings import AnalysisSettings
from analytics.stats.bayes import bayes_factor
from analytics.stats.equivalence import equivalence_test
from analytics.stats.rcv import rcv_limits
from analytics.viz.figure_base import FigureContext
from analytics.viz.figures import draw

DEMO = "data/sirolimus_demo.csv"


@pytest.fixture(scope="module")
def demo():
    with open(DEMO, "rb") as handle:
        return load_cohort(handle.read(), "sirolimus_demo.csv")


@pytest.fixture(scope="module")
def hepcidin(demo):
    return view_outputs(demo, CohortFilter(), analyte="hepcidin", baseline=0, follow_up=2)


def _panel(changes, margin, alpha=0.05):
    """A panel built from the statistics themselves on ``changes``."""
    values = np.asarray(changes, dtype=float)
    test = stats.ttest_1samp(values, 0.0)
    ci = test.confidence_interval(0.95)
    return ChangePanel(
        "MCV", "fL", len(values), float(values.mean()), float(ci.low), float(ci.high),
        float(test.pvalue), float(test.statistic), len(values) - 1, alpha, 0.95,
        equivalence=None if margin is None else equivalence_test(values, margin, alpha, unit="fL"),
        bayes=bayes_factor(float(test.statistic), len(values)),
    )  # fmt: skip


# changes chosen so that each case is unambiguous (p, TOST p and BF checked in the test)
NEITHER = [-3.0, 2.0, -1.0, 1.0, -4.0]  # p = 0.41, 90 % CI -3.5 to 1.5: not within ±3
WITHIN = [-0.1, 0.1, 0.05, -0.05, 0.02, -0.02, 0.0, 0.04]  # p = 0.89, CI inside ±1
FALL = [-3.1, -2.4, -2.9, -3.6, -2.2, -3.3, -2.8, -2.5]  # p < 0.0001, CI outside ±1


def test_not_significant_and_not_equivalent_says_the_patients_cannot_tell():
    panel = _panel(NEITHER, 3.0)
    assert panel.p > 0.05 and not panel.equivalence.equivalent
    assert panel.verdict().startswith(
        "Not significant and not equivalent: these 5 patients cannot tell whether MCV "
        "changed by 3 fL"
    )


def test_equivalent_says_no_change_as_large_as_the_margin_and_never_no_change():
    panel = _panel(WITHIN, 1.0)
    assert panel.equivalence.equivalent and panel.bayes.log_bf10 < 0
    verdict = panel.verdict()
    assert verdict.startswith("Equivalent within ±1 fL")
    assert "no change as large as the margin" in verdict
    # 8 tiny changes: BF01 is only anecdotal, and the sentence says "only"
    assert "though the Bayes factor is only anecdotal evidence for no change" in verdict


def test_significant_fall_names_the_bayes_evidence():
    panel = _panel(FALL, 1.0)
    assert panel.significant and panel.bayes.log_bf10 > 0
    assert panel.verdict().startswith("Significant fall (p < 0.0001), and the Bayes factor is")


def test_significant_change_inside_the_margin_is_called_too_small_to_matter():
    panel = _panel(FALL, 10.0)
    assert panel.significant and panel.equivalence.equivalent
    assert panel.verdict().startswith("A significant fall (p < 0.0001) but within ±10 fL")


def test_without_a_margin_no_claim_of_no_change():
    verdict = _panel(NEITHER, None).verdict()
    assert "no equivalence margin is set" in verdict
    assert "cannot show that MCV did not change" in verdict


def test_panel_cells_are_the_four_answers(hepcidin):
    answers = hepcidin.tables["hepcidin_panel"]["answer"].tolist()
    assert answers == [
        "Paired t-test",
        "Equivalence within ±10 ng/mL",
        "Bayes factor",
        "Beyond biological variation",
        "In one sentence",
    ]


def test_demo_overview_and_paired_page_agree_on_the_panel(demo, hepcidin):
    from analytics.overview import lab_overview
    from analytics.panel import panel_from_overview, panel_from_paired

    overview = panel_from_overview(lab_overview(demo, "hepcidin"))
    paired = panel_from_paired(hepcidin.paired, "Hepcidin", "ng/mL")
    assert overview.verdict() == paired.verdict()
    assert overview.cells() == paired.cells()


# ----------------------------------------------------------------- RCV on the change chart


def _mcv_pairs(demo):
    matrix = demo.lab_matrix("mcv", "limit")
    return matrix[0.0], matrix[2.0]


def test_change_chart_marks_exactly_the_patients_beyond_the_rcv(demo):
    baseline, follow_up = _mcv_pairs(demo)
    # hand calculation: MCV CVa 0.55 %, CVi 1.1 % (the catalogue); Fokkema's formula
    sigma = math.sqrt(math.log(1 + 0.0055**2 + 0.011**2))
    up, down = math.exp(1.96 * math.sqrt(2) * sigma), math.exp(-1.96 * math.sqrt(2) * sigma)
    ratio = follow_up / baseline
    expected = sorted(ratio.index[(ratio > up) | (ratio < down)].astype(str))
    filtered = CohortFilter().apply(demo)
    figure = draw("change", FigureContext(filtered, select(demo, "mcv", 0, 2)))
    spec = figure.chart.to_dict()
    diamonds = [layer for layer in spec["layer"] if layer["mark"].get("color") == "black"]
    assert len(diamonds) == 1
    rows = spec["datasets"][diamonds[0]["data"]["name"]]
    assert sorted(row["patient"] for row in rows) == expected
    assert len(expected) >= 2
    rise, fall = rcv_limits(0.55, 1.1)
    label = diamonds[0]["encoding"]["shape"]["scale"]["domain"][0]
    assert label == "Beyond biological variation (RCV)"
    assert f"{rise:.3g}" == "3.47" and f"{fall:.3g}" == "-3.35"
    assert "Diamonds: beyond the RCV, +3.47 % / −3.35 % (CVa 0.55 %, CVi 1.1 %)" in " ".join(
        spec["title"]["subtitle"]
    )


def test_censored_patients_stay_hollow_with_the_rcv_marks():
    data = b"id,Hepcidin 0,Hepcidin 2\nA,<5,40\nB,30,10\nC,25,24\nD,50,48\n"
    cohort = load_cohort(data, "h.csv")
    filtered = CohortFilter().apply(cohort)
    spec = draw("change", FigureContext(filtered, select(cohort, "hepcidin", 0, 2))).chart.to_dict()
    text = json.dumps(spec)
    assert "Hollow" in text or "drawn at the limit" in text  # the censored legend
    diamonds = [layer for layer in spec["layer"] if layer["mark"].get("color") == "black"]
    # A: <5 → 40 is a rise beyond +203 % whatever the true baseline (Fokkema: 40/5 = 8)
    rows = spec["datasets"][diamonds[0]["data"]["name"]]
    assert [row["patient"] for row in rows] == ["A"]


# ----------------------------------------------------------------- tables and exports


def test_pairs_table_has_percent_change_and_beyond_rcv(demo):
    outputs = view_outputs(demo, CohortFilter(), analyte="mcv", baseline=0, follow_up=2, charts=())
    pairs = outputs.tables["mcv_pairs"]
    baseline, follow_up = _mcv_pairs(demo)
    expected = ((follow_up / baseline - 1) * 100).to_numpy()
    assert np.allclose(pairs["percent change"].to_numpy(), expected)
    cols = list(pairs.columns)
    assert cols[cols.index("change") + 1 : cols.index("change") + 3] == [
        "percent change",
        "beyond RCV",
    ]
    sigma = math.sqrt(math.log(1 + 0.0055**2 + 0.011**2))
    limit = (math.exp(1.96 * math.sqrt(2) * sigma) - 1) * 100
    rises = pairs.loc[pairs["percent change"] > limit, "beyond RCV"]
    assert set(rises) == {"rise"}
    csv = table_csv(pairs).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith(
        "patient,baseline,follow-up,change,percent change,beyond RCV"
    )


def test_bundle_and_workbook_carry_the_evidence_and_the_paragraphs(hepcidin):
    archive = zipfile.ZipFile(io.BytesIO(hepcidin.bundle()))
    names = archive.namelist()
    for stem in ("equivalence", "bayes", "rcv", "panel"):
        assert f"tables/hepcidin_{stem}.csv" in names and f"tables/hepcidin_{stem}.xlsx" in names
    results, methods = paragraphs(hepcidin)
    assert archive.read("results.txt").decode() == results
    assert archive.read("methods.txt").decode() == methods
    bayes = pd.read_csv(io.BytesIO(archive.read("tables/hepcidin_bayes.csv")))
    bf10 = float(bayes.set_index("key").loc["bf10", "value"])
    assert math.isclose(bf10, hepcidin.paired.bayes.bf10, rel_tol=1e-11)  # 12 digits exported
    sheets = pd.read_excel(io.BytesIO(hepcidin.workbook()), sheet_name=None, engine="openpyxl")
    assert {"hepcidin_equivalence", "hepcidin_bayes", "hepcidin_rcv"} <= set(sheets)


def test_report_prints_the_panel_and_the_paragraphs(hepcidin):
    html = hepcidin.report_html().decode()
    assert '<section id="evidence"><h2>Did anything change?</h2>' in html
    assert "Significant fall (p = 0.0215), and the Bayes factor is moderate evidence" in html
    assert "r = 0.5: 3.59" in html  # the robustness line
    results, methods = paragraphs(hepcidin)
    from html import escape

    assert escape(results) in html and escape(methods) in html


# ----------------------------------------------------------------- paragraphs


def test_hepcidin_results_paragraph_matches_the_thesis_and_scipy(demo, hepcidin):
    results, _ = paragraphs(hepcidin)
    # Thesis Table 5: hepcidin month 0 n = 5, 49.1 ± 19.2; month 2 n = 5, 21.1 ± 3.6 ng/mL
    assert "Of 25 patients, 5 had Hepcidin at both month 0 and month 2 and were analysed" in results
    assert "49.1 ± 19.2 ng/mL (mean ± SD) at month 0 and 21.1 ± 3.60 ng/mL at month 2" in results
    matrix = demo.lab_matrix("hepcidin", "limit").dropna(subset=[0.0, 2.0])
    test = stats.ttest_rel(matrix[2.0], matrix[0.0])
    assert f"paired t(4) = {test.statistic:.3g}".replace("-", "−") in results
    assert exact_p(test.pvalue) in results
    assert "20 were not (20 patients without hepcidin values: the retrospective cohort)" in results
    paired = hepcidin.paired
    assert f"BF10 = {paired.bayes.bf10:.3g}" in results
    assert f"two one-sided tests gave {exact_p(paired.equivalence.p)}" in results
    assert "0 of 5 patients changed by more than the reference change value" in results


def test_methods_paragraph_names_tests_rule_multiplicity_and_versions(hepcidin):
    import platform

    import scipy
    import statsmodels

    _, methods = paragraphs(hepcidin)
    for text in (
        "paired t-test",
        "Wilcoxon signed-rank test (exact",
        "TOST; Schuirmann 1987",
        "against a margin of ±10 ng/mL (the lab's default meaningful change)",
        "Rouder et al. 2009",
        "Fokkema et al. 2006",
        "censored values (e.g. <5) entered at their limit",
        "Holm-adjusted within the lab",
        f"Python {platform.python_version()}",
        f"SciPy {scipy.__version__}",
        f"statsmodels {statsmodels.__version__}",
        "sirolimus-dashboard",
    ):
        assert text in methods, text


def test_methods_paragraph_says_a_margin_was_set_by_the_user(demo):
    analysis = AnalysisSettings(margin=5.0)
    outputs = view_outputs(
        demo, CohortFilter(), analyte="hepcidin", baseline=0, follow_up=2, analysis=analysis,
        charts=(),
    )  # fmt: skip
    _, methods = paragraphs(outputs)
    assert "against a margin of ±5 ng/mL (set by the user)" in methods


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.02149, "p = 0.0215"), (0.001151, "p = 0.00115"), (3.2e-6, "p = 3.2 × 10^-6")],
)
def test_exact_p(p, text):
    assert exact_p(p) == text
