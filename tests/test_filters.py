"""Filters: every combination's sentence, file-name part and command-line flags.

Golden values are written out here by hand, one table per filter, so that a change
to the way filters are declared cannot change a file name or a shown command.
"""

from __future__ import annotations

import itertools
import shlex
from pathlib import Path

import pytest

import analytics
from analytics.cli import build_parser, filter_from_args
from analytics.filters import CohortFilter
from analytics.output.commands import commands

DEMO = Path(__file__).resolve().parent.parent / "data" / "sirolimus_demo.csv"

#: value -> (file-name part, command-line words), per filter, in the order they appear.
GOLDEN = {
    "cohort": {
        "retrospective": ("retrospective", ["--cohort", "retrospective"]),
        "prospective": ("prospective", ["--cohort", "prospective"]),
    },
    "age_group": {
        "pediatric": ("pediatric", ["--age-group", "pediatric"]),
        "adult": ("adult", ["--age-group", "adult"]),
    },
    "sex": {"F": ("female", ["--sex", "F"]), "M": ("male", ["--sex", "M"])},
    "iron": {True: ("iron", ["--iron", "yes"]), False: ("no-iron", ["--iron", "no"])},
    "epo": {True: ("epo", ["--epo", "yes"]), False: ("no-epo", ["--epo", "no"])},
}

COMBINATIONS = list(itertools.product(*([None, *values] for values in GOLDEN.values())))


@pytest.fixture(scope="module")
def demo() -> analytics.Cohort:
    return analytics.load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)


def _filter(values: tuple, age_cutoff: float = 18.0) -> CohortFilter:
    return CohortFilter(**dict(zip(GOLDEN, values, strict=True)), age_cutoff=age_cutoff)


def _expected(values: tuple, column: int) -> list:
    return [
        GOLDEN[key][value][column]
        for key, value in zip(GOLDEN, values, strict=True)
        if value is not None
    ]


def _slug(chosen: CohortFilter, cohort: analytics.Cohort) -> str:
    return chosen.apply(cohort).slug


def _filter_words(chosen: CohortFilter, cohort: analytics.Cohort) -> list[str]:
    line = commands(cohort, chosen)[0]  # ... -m analytics cohort FILE [filters] --json
    words = shlex.split(line)
    assert words[:5] == [".venv/bin/python", "-m", "analytics", "cohort", "data/" + DEMO.name]
    assert words[-1] == "--json"
    return words[5:-1]


@pytest.mark.parametrize("values", COMBINATIONS, ids=str)
def test_file_name_part_of_every_combination(demo, values):
    assert _slug(_filter(values), demo) == "_".join(_expected(values, 0))


@pytest.mark.parametrize("values", COMBINATIONS, ids=str)
def test_reproduce_command_of_every_combination(demo, values):
    words = _filter_words(_filter(values), demo)
    assert words == [word for part in _expected(values, 1) for word in part]


@pytest.mark.parametrize("values", COMBINATIONS, ids=str)
def test_command_line_reads_back_the_same_filter(demo, values):
    chosen = _filter(values)
    args = build_parser().parse_args(["cohort", DEMO.name, *_filter_words(chosen, demo)])
    assert filter_from_args(args) == chosen


@pytest.mark.parametrize(
    ("cutoff", "words"),
    [(18.0, []), (16.0, ["--age-cutoff", "16"]), (12.5, ["--age-cutoff", "12.5"])],
)
def test_age_cutoff_is_shown_only_when_changed(demo, cutoff, words):
    chosen = CohortFilter(age_group="pediatric", age_cutoff=cutoff)
    shown = _filter_words(chosen, demo)
    assert shown == ["--age-group", "pediatric", *words]
    args = build_parser().parse_args(["cohort", DEMO.name, *shown])
    assert filter_from_args(args) == chosen
    assert _slug(chosen, demo) == "pediatric"


def test_file_name_part_ignores_how_the_age_group_was_found():
    """Age group from the file, from age, or mixed: the sentence differs, the name does not."""
    data = (
        b"id,age,age_group,sex,MCV 0,MCV 2\n"
        b"A,10,,F,80,81\nB,40,,M,82,80\nC,12,pediatric,,85,84\nD,30,adult,F,84,83\n"
    )
    cohort = analytics.load_cohort(data, "mixed.csv")
    chosen = CohortFilter(age_group="pediatric", sex="F")
    sentence = chosen.apply(cohort).sentence
    assert "(age group from the file, else age < 18 y)" in sentence
    assert "1 with no recorded sex left out" in sentence
    assert _slug(chosen, cohort) == "pediatric_female"


def test_sentence_names_every_filter_in_plain_words(demo):
    chosen = CohortFilter(cohort="retrospective", age_group="adult", sex="M", iron=True, epo=False)
    sentence = chosen.apply(demo).sentence
    assert sentence.endswith(
        ": retrospective cohort, adult (age group from the file), male, on iron therapy, not on Epo"
    )
    assert CohortFilter().apply(demo).sentence == "All 25 patients (no filter)"


def test_command_line_flags_and_their_help_are_unchanged():
    parser = build_parser()
    cohort_help = parser._subparsers._group_actions[0].choices["cohort"].format_help()
    for text in (
        "--cohort COHORT",
        "keep one cohort (the file's cohort column)",
        "--age-group {pediatric,adult}",
        "--age-cutoff AGE_CUTOFF",
        "--sex {F,M}",
        "--iron yes|no",
        "--epo yes|no",
    ):
        assert text in cohort_help, text
    with pytest.raises(analytics.AnalysisError, match="'maybe' is not yes or no"):
        parser.parse_args(["cohort", "x.csv", "--iron", "maybe"])
    assert parser.parse_args(["cohort", "x.csv", "--sex", "f"]).sex == "F"
