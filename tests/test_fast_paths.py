"""The whole-array paths give what the one-by-one ones give.

Filtering (a mask per distinct value, the cohort cut by positions), the lab matrix
(values placed by the patients' positions), and the reference change value (the
measured pairs by whole arrays), each against the straightforward way written out here,
on the demo cohort and on seeded random cohorts with odd attribute values, duplicates,
censored values and values of 0 or below. The Overview's card lent the paired result
reads as one computed alone; charts built without Altair's piecewise checks pass the
check of the whole spec.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pandas as pd
import pytest

from analytics import load_cohort
from analytics.analysis import paired_for
from analytics.cohort import CENSORED_RULES, in_labels
from analytics.filters import FILTERS, CohortFilter, age_groups
from analytics.overview import lab_overview
from analytics.settings import AnalysisSettings
from analytics.stats.rcv import _classify, rcv_limits, reference_change

DEMO = "data/sirolimus_demo.csv"


def _random_file(seed: int, n: int = 60) -> bytes:
    """A wide CSV with odd attribute cells, censored and missing lab values."""
    rng = random.Random(seed)
    header = (
        "patient_id,sex,age,age_group,iron_therapy,epo,cohort,MCV 0,MCV 2,Ferritin 0,Ferritin 2"
    )
    lines = [header]
    for i in range(n):
        sex = rng.choice(["F", "M", "f", "", "Female", "unknown"])
        age = rng.choice(["", "8", "17.9", "18", "45", "n/a"])
        group = rng.choice(["", "", "pediatric", "adult"])
        iron = rng.choice(["yes", "no", "", "Y", "0", "1", "TRUE"])
        epo = rng.choice(["yes", "no", ""])
        cohort = rng.choice(["Retro", "Prosp", "", "retro"])
        labs = [rng.choice(["", "<60", "85.5", "90", "77", "N/A", "0", "-1"]) for _ in range(4)]
        lines.append(",".join([f"P{i}", sex, age, group, iron, epo, cohort, *labs]))
    return ("\n".join(lines) + "\n").encode()


def _cohorts():
    with open(DEMO, "rb") as handle:
        yield load_cohort(handle.read(), "sirolimus_demo.csv")
    for seed in range(4):
        yield load_cohort(_random_file(seed), f"random{seed}.csv")


def _filters(cohort, count: int = 40):
    """No filter, each choice alone, then seeded random combinations."""
    choices = [[None, *[c.value for c in field.options(cohort.patients)]] for field in FILTERS]
    yield CohortFilter()
    for field, values in zip(FILTERS, choices, strict=True):
        for value in values[1:]:
            yield CohortFilter(**{field.key: value})
    rng = random.Random(len(cohort.patients))
    for _ in range(count):
        values = [rng.choice(options) for options in choices]
        yield CohortFilter(**{f.key: v for f, v in zip(FILTERS, values, strict=True)})


def _mask_one_by_one(chosen: CohortFilter, patients: pd.DataFrame) -> np.ndarray:
    keep = pd.Series(True, index=patients.index)
    for field, wanted in chosen._active():
        values = field.values(patients, field.key, chosen.age_cutoff)
        keep &= values.map(lambda v, f=field, w=wanted: f.matches(v, w)).astype(bool)
    return keep.to_numpy(dtype=bool)


def _matrix_by_pivot(cohort, analyte: str, censored: str) -> pd.DataFrame:
    rows = cohort.lab_values(analyte, censored)
    times = [float(t) for t in cohort.analytes[analyte].times]
    table = rows.pivot_table(index="patient_id", columns="time", values="value", aggfunc="first")
    table = table.reindex(index=cohort.patients.index, columns=times)
    table.columns = pd.Index(times, name="time")
    return table.astype(float)


@pytest.mark.parametrize("cohort", list(_cohorts()), ids=lambda c: c.source.filename)
def test_filtered_cohorts_and_matrices_match_the_one_by_one_way(cohort):
    checked = 0
    for chosen in _filters(cohort):
        keep = _mask_one_by_one(chosen, cohort.patients)
        assert chosen.mask(cohort.patients).to_numpy().tolist() == keep.tolist()
        filtered = chosen.apply(cohort)
        kept_ids = cohort.patients.index[keep]
        assert filtered.cohort.patients.index.tolist() == kept_ids.tolist()
        expected_labs = cohort.labs[cohort.labs["patient_id"].isin(kept_ids)]
        pd.testing.assert_frame_equal(filtered.cohort.labs, expected_labs)
        assert filtered.sentence == chosen.describe(cohort.patients)
        by_ids = cohort.subset(list(kept_ids))
        pd.testing.assert_frame_equal(by_ids.labs, expected_labs)
        for analyte, rule in itertools.product(filtered.cohort.analytes, CENSORED_RULES):
            expected = _matrix_by_pivot(filtered.cohort, analyte, rule)
            pd.testing.assert_frame_equal(filtered.cohort.lab_matrix(analyte, rule), expected)
        checked += 1
    assert checked >= 8


def test_a_filter_keeps_1_and_true_apart_and_reads_missing_values_as_before():
    patients = pd.DataFrame(
        {
            "cohort": [1, True, "1", "True", None, math.nan, "true"],
            "age": [5.0, 30.0, math.nan, 18.0, 17.999, 0.0, math.nan],
            "age_group": [None, None, None, "pediatric", None, None, "adult"],
        },
        index=pd.Index([f"P{i}" for i in range(7)], name="patient_id"),
    )
    for wanted in ("1", "true"):
        chosen = CohortFilter(cohort=wanted)
        assert chosen.mask(patients).tolist() == _mask_one_by_one(chosen, patients).tolist()
    assert CohortFilter(cohort="true").mask(patients).tolist() == [
        False, True, False, True, False, False, True,
    ]  # fmt: skip
    from_file = patients["age_group"]
    by_age = patients["age"].map(
        lambda age: None if pd.isna(age) else ("pediatric" if age < 18.0 else "adult")
    )
    one_by_one = from_file.where(from_file.notna(), by_age).astype(object)
    pd.testing.assert_series_equal(age_groups(patients, 18.0), one_by_one)
    assert age_groups(patients, 18.0).tolist()[:2] == ["pediatric", "adult"]


def test_in_labels_is_pandas_isin():
    values = pd.Series(["P1", "P2", None, "P10", "p1", ""], dtype="str")
    wanted = ["P1", "P10", "", "absent"]
    assert in_labels(values, wanted).tolist() == values.isin(wanted).tolist()
    assert in_labels(pd.Index([1, 2, 3]), [2]).tolist() == [False, True, False]  # not texts
    assert not in_labels(values, []).any()


def test_reference_change_by_arrays_is_classify_one_by_one():
    rng = np.random.default_rng(7)
    n = 400
    before = rng.choice([0.0, -2.0, 5.0, 80.0, 81.0, 120.0, np.inf], n)
    after = before * rng.choice([0.5, 0.97, 1.0, 1.03, 2.0], n) + rng.choice([0.0, 1.0], n)
    limits = rng.choice([5.0, 60.0], n)
    first = rng.choice(["", "", "", "<", ">"], n).tolist()
    second = rng.choice(["", "", "<", ">"], n).tolist()
    marks = [
        ((a, float(limit) if a else math.nan), (b, float(limit) if b else math.nan))
        for a, b, limit in zip(first, second, limits, strict=True)
    ]
    ids = [f"P{i}" for i in range(n)]
    result = reference_change(before, after, ids, 1.4, 2.8, "test", censored=marks)
    rise, fall = rcv_limits(1.4, 2.8)
    up, down = 1 + rise / 100, 1 + fall / 100
    expected = tuple(
        _classify(pid, (float(b), float(f)), (cb[0], cf[0]), (cb[1], cf[1]), up, down)
        for pid, b, f, (cb, cf) in zip(ids, before, after, marks, strict=True)
    )
    assert len(result.patients) == n
    for got, want in zip(result.patients, expected, strict=True):
        assert repr(got) == repr(want)  # repr: NaN and None compared as written
    assert result.n_rise == sum(p.beyond == "rise" for p in expected) > 0
    assert result.n_fall == sum(p.beyond == "fall" for p in expected) > 0
    assert result.n_undecided == sum(not p.judged for p in expected) > 0


@pytest.mark.parametrize("cohort", list(_cohorts())[:3], ids=lambda c: c.source.filename)
def test_an_overview_lent_the_paired_result_reads_as_one_computed_alone(cohort):
    compared = 0
    for chosen, rule in itertools.product(list(_filters(cohort, count=6))[:10], CENSORED_RULES):
        settings = AnalysisSettings(censored=rule)
        subset = chosen.apply(cohort).cohort
        for analyte, info in cohort.analytes.items():
            if len(info.times) < 2:
                continue
            alone = lab_overview(subset, analyte, censored=rule, whole=cohort, settings=settings)
            if alone.summary is None:
                continue
            selection = alone.selection
            paired = paired_for(subset, selection, settings, resampling=False)
            lent = lab_overview(
                subset,
                analyte,
                baseline=selection.baseline,
                follow_up=selection.follow_up,
                censored=rule,
                whole=cohort,
                settings=settings,
                paired=paired,
            )
            assert lent.rcv is paired.rcv  # lent, not computed again
            assert repr(lent) == repr(alone)
            compared += 1
    assert compared >= 10


def test_charts_are_built_without_piecewise_checks_and_their_specs_pass_the_whole_check():
    import altair as alt
    import altair.utils.schemapi as schemapi
    import jsonschema
    from altair.vegalite.v6.schema.core import Root

    from analytics.analysis import select
    from analytics.settings import ChartOptions
    from analytics.viz.figure_base import FigureContext
    from analytics.viz.figures import CHARTS, draw
    from ui.charts import chart_spec

    assert not schemapi.DEBUG_MODE  # importing the charts turned Altair's piecewise checks off
    with open(DEMO, "rb") as handle:
        demo = load_cohort(handle.read(), "sirolimus_demo.csv")
    filtered = CohortFilter().apply(demo)
    for analyte, times in (("mcv", (0.0, 2.0)), ("hepcidin", (0.0, 2.0))):
        selection = select(demo, analyte, *times)
        paired = paired_for(demo, selection, AnalysisSettings(), resampling=False)
        for name in CHARTS:
            options = ChartOptions(color_by="sex", band=3.0)
            figure = draw(name, FigureContext(filtered, selection, paired=paired, options=options))
            Root.validate(chart_spec(figure.chart))  # the spec the page draws, checked whole
    # the whole check does catch what the piecewise one would have
    bad = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().properties(width="wide")
    with pytest.raises(jsonschema.ValidationError):
        Root.validate(bad.to_dict(validate=False))
    with pytest.raises(jsonschema.ValidationError):
        bad.to_dict()  # as every exported figure is made
