"""A page computes what it shows: sections when opened, charts when chosen, each once.

The slow parts of the paired comparison (the sign-flip test, the BCa bootstrap) and the
mixed model are computed only when their section of the Paired tests page is shown, and
then give the numbers of the whole view (the downloads'); a chart whose inputs did not
change is not drawn again. Timings are the benchmark's (scripts/benchmark_interaction.py),
not asserted here.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
import streamlit as st
from app_session import HOME, open_section, show_every_chart, started_app

import analytics.analysis
import analytics.stats.paired
import analytics.stats.paired_deferred
import analytics.stats.resampling
import ui.parts
from analytics import load_cohort
from analytics.analysis import select
from analytics.errors import AnalysisError
from analytics.filters import CohortFilter
from analytics.output.view import view_outputs
from analytics.settings import ChartOptions
from analytics.stats.paired import paired_change
from analytics.stats.resampling import is_resampled, with_resampling
from analytics.viz.figure_base import FigureContext
from analytics.viz.figures import CHARTS, draw
from ui.charts import CHART_CHOICES, chart_spec
from ui.format import fmt_num, fmt_p
from ui.parts import CHART_OPTIONS
from ui.shell import DEMO_FILE


@pytest.fixture(autouse=True)
def cold_caches():
    """Every AppTest shares one session id, so its session caches outlive a test: start
    each test with none (as a new browser session does)."""
    st.cache_resource.clear()
    st.cache_data.clear()


def _demo():
    return load_cohort(DEMO_FILE.read_bytes(), DEMO_FILE.name, is_demo=True)


@pytest.fixture
def resampling_calls(monkeypatch):
    """How often the bootstrap and the sign-flip test ran on real changes."""
    calls = {"bootstrap": 0, "sign_flip": 0}
    deferred = analytics.stats.paired_deferred
    bootstrap, sign_flip = deferred.bootstrap_bca, deferred.sign_flip

    def counted_bootstrap(*args, **kwargs):
        calls["bootstrap"] += 1
        return bootstrap(*args, **kwargs)

    def counted_sign_flip(changes, *args, **kwargs):
        if np.any(np.asarray(changes) != 0):  # all zeros: only the method's words
            calls["sign_flip"] += 1
        return sign_flip(changes, *args, **kwargs)

    monkeypatch.setattr(deferred, "bootstrap_bca", counted_bootstrap)
    monkeypatch.setattr(deferred, "sign_flip", counted_sign_flip)
    return calls


def _text(at) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.caption]).replace("\\", "")


def test_robustness_is_computed_only_when_shown_with_the_views_numbers(resampling_calls):
    whole = view_outputs(_demo(), CohortFilter(), analyte="mcv", baseline=0, follow_up=2).paired
    resampling_calls.update(bootstrap=0, sign_flip=0)
    at = started_app(HOME)
    at.switch_page("pages/paired_tests.py").run()
    assert not at.exception, at.exception
    assert resampling_calls == {"bootstrap": 0, "sign_flip": 0}
    assert "Sign-flip permutation test" not in _text(at)
    open_section(at, "robustness")
    assert resampling_calls == {"bootstrap": 1, "sign_flip": 1}
    text = _text(at)
    assert f"p = {fmt_p(whole.sign_flip_p)} ({whole.sign_flip_method})" in text
    assert (
        f"BCa CI of the mean change: {fmt_num(whole.bootstrap_ci_low)} to "
        f"{fmt_num(whole.bootstrap_ci_high)} fL" in text
    )
    # kept: another section, another page and back compute nothing again
    open_section(at, "times")
    at.switch_page("pages/charts.py").run()
    at.switch_page("pages/paired_tests.py").run()
    assert at.radio(key="pt_section").value == "times"
    open_section(at, "robustness")
    assert resampling_calls == {"bootstrap": 1, "sign_flip": 1}


def test_a_new_filter_computes_the_open_section_for_it_only(resampling_calls):
    at = started_app("pages/paired_tests.py")
    open_section(at, "robustness")
    at.selectbox(key="flt_sex").set_value("Female").run()
    assert not at.exception, at.exception
    assert resampling_calls["bootstrap"] == 2
    open_section(at, "subgroups")
    at.selectbox(key="flt_sex").set_value("Male").run()
    assert resampling_calls["bootstrap"] == 2  # robustness closed: not computed for men


def test_the_mixed_model_waits_for_its_section(monkeypatch):
    fits = []
    original = analytics.analysis.mixed_model

    def counted(*args, **kwargs):
        fits.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(analytics.analysis, "mixed_model", counted)
    at = started_app("pages/paired_tests.py")
    at.selectbox(key="sel_lab").set_value("hepcidin").run()  # 4 time points
    assert not at.exception, at.exception
    assert not fits
    assert "Mixed model on every value" not in _text(at)
    open_section(at, "times")
    assert len(fits) == 1
    assert "Mixed model on every value" in _text(at)


def test_the_quantity_table_says_when_resampling_is_not_computed():
    at = started_app("pages/paired_tests.py")
    frames = [d.value for d in at.dataframe if "label" in d.value.columns]
    [table] = [f for f in frames if "Bootstrap note" in set(f["label"])]
    note = table.set_index("label").loc["Bootstrap note", "value"]
    assert note == analytics.stats.paired.NOT_RESAMPLED
    open_section(at, "robustness")
    frames = [d.value for d in at.dataframe if "label" in d.value.columns]
    [table] = [f for f in frames if "Bootstrap note" in set(f["label"])]
    assert table.set_index("label").loc["Bootstrap note", "value"] != note


def test_charts_draw_the_chosen_chart_and_redraw_only_what_changed(monkeypatch):
    drawn = []
    original = ui.parts.draw

    def counted(name, context):
        drawn.append(name)
        return original(name, context)

    monkeypatch.setattr(ui.parts, "draw", counted)
    at = started_app(HOME)  # the Overview draws the change chart and the flow
    drawn.clear()
    at.switch_page("pages/charts.py").run()
    assert not at.exception, at.exception
    assert drawn == []  # the change chart of the Overview, with the same options
    assert len(at.get("vega_lite_chart")) == 1
    show_every_chart(at)
    assert sorted(drawn) == sorted(set(CHARTS) - {"change", "flow"})
    drawn.clear()
    at.selectbox(key="chart_color").set_value("sex").run()
    assert drawn == ["change"]
    drawn.clear()
    at.checkbox(key="chart_complete_cases").check().run()
    assert drawn == ["trajectory"]


@pytest.mark.parametrize(
    "options",
    [
        ChartOptions(color_by="sex", sort=True, flip=True, band=2.0, split="iron"),
        ChartOptions(complete_cases=True, observed_power=True, split="cohort", band=1.5),
    ],
)
def test_each_chart_reads_only_its_listed_options(options):
    cohort = _demo()
    filtered = CohortFilter().apply(cohort)
    selection = select(filtered.cohort, "mcv", 0, 2)
    assert set(CHART_OPTIONS) == set(CHARTS)
    for name in CHARTS:
        read = {key: getattr(options, key) for key in CHART_OPTIONS[name]}
        own = replace(ChartOptions(), **read)
        assert _drawn(name, filtered, selection, options) == _drawn(
            name, filtered, selection, own
        ), name


def _drawn(name, filtered, selection, options) -> tuple:
    """The chart's spec and file name, or why it cannot be drawn."""
    try:
        figure = draw(name, FigureContext(filtered, selection, options=options))
    except AnalysisError as error:
        return ("not drawn", str(error))
    return chart_spec(figure.chart), figure.filename_stem


def test_the_chart_choice_offers_every_chart_in_order():
    assert list(CHART_CHOICES) == [*CHARTS, "all"]


@pytest.mark.parametrize("n", [2, 5, 25, 60])
def test_resampling_later_gives_the_same_result(n):
    rng = np.random.default_rng(n)
    baseline = rng.normal(85, 5, n)
    follow_up = baseline + rng.normal(-1, 2, n)
    later = paired_change(baseline, follow_up, resampling=False)
    assert not is_resampled(later)
    assert later.sign_flip_p is None and later.bootstrap_ci_low is None
    whole = paired_change(baseline, follow_up)
    assert later.sign_flip_method == whole.sign_flip_method
    assert with_resampling(later) == whole
    assert with_resampling(whole) is whole
    unchanged = {f.name for f in fields(whole)} - {
        "sign_flip_p",
        "bootstrap_ci_low",
        "bootstrap_ci_high",
        "bootstrap_note",
        "_deferred",  # the deferred parts' holder, compared through the quantities
    }
    assert all(getattr(later, name) == getattr(whole, name) for name in unchanged)
