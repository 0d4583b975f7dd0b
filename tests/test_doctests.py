"""The Examples in the docstrings run; those of the result objects agree with SciPy."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analytics.filters",
    "analytics.flow",
    "analytics.lab_table",
    "analytics.overview",
    "analytics.settings",
    "analytics.output.view",
    "analytics.output.headers",
    "analytics.output.report_labs",
    "analytics.plain",
    "analytics.stats.paired",
    "analytics.stats.power",
    "analytics.stats.prevalence",
    "analytics.stats.subgroups",
    "analytics.stats.timecourse",
    "analytics.stats.ratio",
    "analytics.stats.resampling",
]
#: Result objects whose docstring must carry a runnable example.
RESULTS = [
    "analytics.stats.paired.PairedResult",
    "analytics.stats.power.PowerResult",
    "analytics.stats.prevalence.PrevalenceResult",
    "analytics.stats.subgroups.SubgroupResult",
    "analytics.stats.timecourse.TimecourseResult",
    "analytics.stats.ratio.RatioResult",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS, raise_on_error=False)
    assert outcome.failed == 0, f"{outcome.failed} of {outcome.attempted} examples failed"


@pytest.mark.parametrize("path", RESULTS)
def test_result_objects_have_examples(path):
    module_name, _, class_name = path.rpartition(".")
    docstring = getattr(importlib.import_module(module_name), class_name).__doc__ or ""
    assert "Examples\n    --------" in docstring
    examples = doctest.DocTestParser().get_examples(docstring)
    assert any("stats." in example.source for example in examples), "no SciPy cross-check"
