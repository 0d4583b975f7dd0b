"""Patient filters that know how to describe themselves.

One :class:`CohortFilter` yields both the patients kept (:meth:`CohortFilter.apply`)
and the plain-words sentence that stands above every table, chart and export
(:meth:`CohortFilter.describe`), so the two can never disagree.

Every filter is one row of :data:`FILTERS`: its key, its label and menu choices in the
sidebar, its plain-words phrase, its part of a file name, and its command-line flag and
help. The sidebar, the sentence, file names, the command-line parser and the reproduce
commands all read that table, so a new filter is one new row.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.limits import LIMITS

__all__ = [
    "AGE_CUTOFF",
    "AGE_GROUPS",
    "FILTERS",
    "Choice",
    "CohortFilter",
    "CutoffField",
    "FilterField",
    "FilteredCohort",
    "add_filter_arguments",
    "age_groups",
    "filter_from_args",
    "slug_part",
]

AGE_GROUPS = ("pediatric", "adult")
_DEFAULT_CUTOFF = float(LIMITS["default_age_cutoff"].value)


def age_groups(patients: pd.DataFrame, cutoff: float = _DEFAULT_CUTOFF) -> pd.Series:
    """Each patient's age group: the file's ``age_group`` where given, else age < cutoff.

    Notes
    -----
    "Pediatric" in a transplant study is often a care setting rather than an age
    (the thesis's pediatric patients are aged 8-22), so a group written in the file
    always wins; the cut-off only fills in patients without one. Patients with
    neither an age group nor an age get None.
    """
    from_file = patients["age_group"]
    age = patients["age"]
    if pd.api.types.is_numeric_dtype(age) and not pd.api.types.is_bool_dtype(age):
        years = age.to_numpy(dtype=float)
        groups = np.where(years < cutoff, "pediatric", "adult").astype(object)
        by_age = pd.Series(np.where(np.isnan(years), None, groups), index=age.index)
    else:
        by_age = age.map(
            lambda age: None if pd.isna(age) else ("pediatric" if age < cutoff else "adult")
        )
    return from_file.where(from_file.notna(), by_age).astype(object)


def _matching(
    values: pd.Series, matches: Callable[[object, object], bool], wanted: object
) -> np.ndarray:
    """``matches(value, wanted)`` for each value, called once per distinct value (of
    its own type: 1 and True stay apart)."""
    seen: dict[tuple[type, object], bool] = {}

    def one(value: object) -> bool:
        key = (type(value), value)
        try:
            return seen[key]
        except KeyError:
            found = seen[key] = bool(matches(value, wanted))
            return found
        except TypeError:  # an unhashable value
            return bool(matches(value, wanted))

    return np.fromiter(map(one, values.tolist()), dtype=bool, count=len(values))


def slug_part(text: str) -> str:
    """Lower case, only ``[a-z0-9.-]`` kept, anything else turned into ``_``.

    Examples
    --------
    >>> slug_part("Retrospective (2009-2012)")
    'retrospective_2009-2012'
    """
    slug = re.sub(r"[^a-z0-9.-]+", "_", str(text).lower())
    return re.sub(r"_+", "_", slug).strip("_.-")


def _yes_no(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("yes", "y", "true", "1"):
        return True
    if lowered in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"'{text}' is not yes or no")


# --------------------------------------------------------------------------------------
# The table of filters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One value a filter can take, in each of the places it is written.

    Attributes
    ----------
    value
        What :class:`CohortFilter` holds (``"F"``, ``True``, ``"pediatric"``).
    menu
        The sidebar's wording (``"Female"``).
    phrase
        The words in the filter sentence (``"female"``).
    slug
        The part of a file name (``"female"``).
    arg
        The value after the command-line flag (``"F"``).
    """

    value: Any
    menu: str
    phrase: str
    slug: str
    arg: str


def _same_text(value: object, wanted: object) -> bool:
    return value is not None and str(value).lower() == str(wanted).lower()


def _equal(value: object, wanted: object) -> bool:
    return value == wanted


def _same_yes_no(value: object, wanted: object) -> bool:
    return value is not None and bool(value) == wanted


def _file_values(patients: pd.DataFrame, key: str, cutoff: float) -> pd.Series:
    return patients[key]


def _age_group_values(patients: pd.DataFrame, key: str, cutoff: float) -> pd.Series:
    return age_groups(patients, cutoff)


def _age_group_source(value: object, cutoff: float, patients: pd.DataFrame | None) -> str:
    """Where the age group came from, in brackets after the phrase."""
    if patients is None:
        return ""
    has_file_group = patients["age_group"].notna()
    if has_file_group.all():
        return " (age group from the file)"
    if has_file_group.any():
        return f" (age group from the file, else age < {cutoff:g} y)"
    sign = "<" if value == "pediatric" else "≥"
    return f" (age {sign} {cutoff:g} y)"


_AS_WRITTEN = Choice(None, "{}", "{}", "{}", "{}")


@dataclass(frozen=True)
class CutoffField:
    """The age cut-off that goes with the age-group filter (a number, not a choice)."""

    key: str
    label: str
    flag: str
    help: str
    cli_help: str
    default: float

    def add_argument(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(self.flag, type=float, default=self.default, help=self.cli_help)

    def args(self, value: float) -> list[str]:
        """The command-line words for ``value``: none at the default."""
        return [] if value == self.default else [self.flag, f"{value:g}"]


@dataclass(frozen=True)
class FilterField:
    """One filter: a patient attribute chosen from a menu, and every way it is written.

    Attributes
    ----------
    key : str
        The :class:`CohortFilter` attribute, and the patients' column it reads.
    noun : str
        Plain name (``"iron therapy"``): the sidebar label capitalises it, and the
        sentence counts patients with "no recorded" noun.
    choices : tuple of Choice
        The values; empty when they come from the file (the cohort's names).
    help : str
        The sidebar's help.
    flag : str
        The command-line flag; its help, type and metavar follow.
    free : Choice
        For a value read from the file: its wording, ``{}`` standing for the value.
    matches : callable
        ``matches(cell, wanted)``: does a patient's recorded value match the filter?
    values : callable
        ``values(patients, key, age_cutoff)``: the patients' values of the attribute.
    source : callable, optional
        ``source(value, age_cutoff, patients)``: words in brackets after the phrase.
    cutoff : CutoffField, optional
        A number that goes with this filter (the age cut-off with the age group).
    """

    key: str
    noun: str
    choices: tuple[Choice, ...]
    help: str
    flag: str
    cli_help: str | None = None
    cli_type: Callable[[str], Any] | None = None
    metavar: str | None = None
    free: Choice = _AS_WRITTEN
    matches: Callable[[object, object], bool] = _equal
    values: Callable[[pd.DataFrame, str, float], pd.Series] = _file_values
    source: Callable[[object, float, pd.DataFrame | None], str] | None = None
    cutoff: CutoffField | None = None

    @property
    def label(self) -> str:
        return self.noun[:1].upper() + self.noun[1:]

    def choice(self, value: object) -> Choice:
        """The :class:`Choice` of ``value`` (made from :attr:`free` for a file's value)."""
        for choice in self.choices:
            if choice.value == value:
                return choice
        if self.choices:
            raise AnalysisError(f"{self.label} cannot be '{value}'.")
        text = str(value)
        return Choice(
            value,
            self.free.menu.format(text),
            self.free.phrase.format(text),
            slug_part(self.free.slug.format(text)),
            self.free.arg.format(text),
        )

    def options(self, patients: pd.DataFrame) -> tuple[Choice, ...]:
        """The menu: the fixed choices, or the file's distinct values in order."""
        if self.choices:
            return self.choices
        found = sorted({str(value) for value in patients[self.key].dropna()})
        return tuple(self.choice(value) for value in found)

    def add_argument(self, parser: argparse.ArgumentParser) -> None:
        extra: dict[str, Any] = {}
        if self.cli_type is not _yes_no and self.choices:
            extra["choices"] = [choice.arg for choice in self.choices]
        if self.cli_type is not None:
            extra["type"] = self.cli_type
        if self.metavar is not None:
            extra["metavar"] = self.metavar
        if self.cli_help is not None:
            extra["help"] = self.cli_help
        parser.add_argument(self.flag, **extra)

    def args(self, value: object) -> list[str]:
        """The command-line words that choose ``value`` (none for "all")."""
        return [] if value is None else [self.flag, self.choice(value).arg]


def _yes_no_field(key: str, noun: str, help: str) -> FilterField:
    """A yes/no column of the file (``--KEY yes|no``): on or not on ``noun``."""
    return FilterField(
        key=key,
        noun=noun,
        choices=(
            Choice(True, f"On {noun}", f"on {noun}", key, "yes"),
            Choice(False, f"Not on {noun}", f"not on {noun}", f"no-{key}", "no"),
        ),
        help=help,
        flag=f"--{key}",
        cli_type=_yes_no,
        metavar="yes|no",
        matches=_same_yes_no,
    )


AGE_CUTOFF = CutoffField(
    key="age_cutoff",
    label="Pediatric below age (years)",
    flag="--age-cutoff",
    help="Used only for patients without an age group in the file.",
    cli_help="age (years) below which a patient without an age group is pediatric",
    default=_DEFAULT_CUTOFF,
)

#: Every filter, in the order of the sidebar, the sentence, file names and commands.
FILTERS: tuple[FilterField, ...] = (
    FilterField(
        key="cohort",
        noun="cohort",
        choices=(),
        help="The file's cohort column.",
        flag="--cohort",
        cli_help="keep one cohort (the file's cohort column)",
        free=Choice(None, "{}", "{} cohort", "{}", "{}"),
        matches=_same_text,
    ),
    FilterField(
        key="age_group",
        noun="age group",
        choices=(
            Choice("pediatric", "Pediatric", "pediatric", "pediatric", "pediatric"),
            Choice("adult", "Adult", "adult", "adult", "adult"),
        ),
        help="From the file's age-group column where given; otherwise from age and the "
        "cut-off below.",
        flag="--age-group",
        values=_age_group_values,
        source=_age_group_source,
        cutoff=AGE_CUTOFF,
    ),
    FilterField(
        key="sex",
        noun="sex",
        choices=(
            Choice("F", "Female", "female", "female", "F"),
            Choice("M", "Male", "male", "male", "M"),
        ),
        help="Patients of unknown sex are left out when a sex is chosen.",
        flag="--sex",
        cli_type=str.upper,
    ),
    _yes_no_field("iron", "iron therapy", "The file's iron-therapy column."),
    _yes_no_field("epo", "Epo", "The file's erythropoietin column."),
)


def filter_from_args(args: argparse.Namespace) -> CohortFilter:
    """The filter that :func:`add_filter_arguments`' flags chose."""
    values = {field.key: getattr(args, field.key) for field in FILTERS}
    return CohortFilter(**values, age_cutoff=getattr(args, AGE_CUTOFF.key))


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """One command-line flag per filter (and the age cut-off after the age group)."""
    for field in FILTERS:
        field.add_argument(parser)
        if field.cutoff is not None:
            field.cutoff.add_argument(parser)


# --------------------------------------------------------------------------------------
# The filter and its result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilteredCohort:
    """A cohort after filtering, with the sentence that describes the filter.

    Attributes
    ----------
    cohort : Cohort
        The patients kept.
    n_total : int
        Patients before filtering.
    sentence : str
        The filter in plain words, with the counts.
    slug : str
        The active filters for a file name (``"pediatric_female"``; ``""`` for none).
    """

    cohort: Cohort
    n_total: int
    sentence: str
    slug: str = ""

    @property
    def n(self) -> int:
        return self.cohort.n_patients


@dataclass(frozen=True)
class CohortFilter:
    """Which patients to analyse. ``None`` means "all" for that attribute.

    Attributes
    ----------
    cohort
        A value of the file's ``cohort`` column (case-insensitive).
    age_group
        ``"pediatric"`` or ``"adult"`` (see :func:`age_groups`).
    age_cutoff
        Age in years below which a patient without a recorded age group is pediatric.
    sex
        ``"F"`` or ``"M"``.
    iron, epo
        True (on therapy) or False (not on it).

    Examples
    --------
    >>> chosen = CohortFilter(age_group="pediatric", sex="F", iron=False)
    >>> chosen.phrases()
    ['pediatric', 'female', 'not on iron therapy']
    >>> chosen.slug()
    'pediatric_female_no-iron'
    >>> chosen.args()
    ['--age-group', 'pediatric', '--sex', 'F', '--iron', 'no']
    >>> CohortFilter().is_active
    False
    """

    cohort: str | None = None
    age_group: str | None = None
    age_cutoff: float = _DEFAULT_CUTOFF
    sex: str | None = None
    iron: bool | None = None
    epo: bool | None = None

    def __post_init__(self) -> None:
        for field, value in self._active():
            if field.choices and value not in [choice.value for choice in field.choices]:
                allowed = " or ".join(str(choice.value) for choice in field.choices)
                raise AnalysisError(f"{field.label} must be {allowed}, not '{value}'.")
        if not 0 < self.age_cutoff < 120:
            raise AnalysisError("The age cut-off must be between 0 and 120 years.")

    def _active(self) -> list[tuple[FilterField, Any]]:
        """(field, value) of each filter that is set, in table order."""
        pairs = ((field, getattr(self, field.key)) for field in FILTERS)
        return [(field, value) for field, value in pairs if value is not None]

    @property
    def is_active(self) -> bool:
        return bool(self._active())

    def mask(self, patients: pd.DataFrame) -> pd.Series:
        """True for the patients the filter keeps; unknown values are not kept."""
        keep = np.ones(len(patients), dtype=bool)
        for field, wanted in self._active():
            values = field.values(patients, field.key, self.age_cutoff)
            keep &= _matching(values, field.matches, wanted)
        return pd.Series(keep, index=patients.index)

    def phrases(self, patients: pd.DataFrame | None = None) -> list[str]:
        """The active filters as short phrases (``female``, ``on iron therapy``, ...)."""
        out = []
        for field, value in self._active():
            source = field.source(value, self.age_cutoff, patients) if field.source else ""
            out.append(field.choice(value).phrase + source)
        return out

    def slug(self) -> str:
        """The active filters for a file name: ``"pediatric_female"``, ``""`` for none."""
        parts = (field.choice(value).slug for field, value in self._active())
        return "_".join(part for part in parts if part)

    def args(self) -> list[str]:
        """The command-line words that choose this filter (the inverse of the parser)."""
        words: list[str] = []
        for field in FILTERS:
            words += field.args(getattr(self, field.key))
            if field.cutoff is not None:
                words += field.cutoff.args(getattr(self, field.cutoff.key))
        return words

    def unknown_counts(self, patients: pd.DataFrame) -> dict[str, int]:
        """Patients left out only because the filtered attribute is not recorded."""
        counts = {}
        for field, _ in self._active():
            missing = int(field.values(patients, field.key, self.age_cutoff).isna().sum())
            if missing:
                counts[field.noun] = missing
        return counts

    def describe(self, patients: pd.DataFrame) -> str:
        """``"9 of 25 patients: pediatric (age group from the file), female"``."""
        return self._sentence(patients, int(self.mask(patients).sum()))

    def _sentence(self, patients: pd.DataFrame, n: int) -> str:
        n_total = len(patients)
        noun = "patient" if n_total == 1 else "patients"
        if not self.is_active:
            return f"All {n_total} {noun} (no filter)"
        sentence = f"{n} of {n_total} {noun}: {', '.join(self.phrases(patients))}"
        unknown = self.unknown_counts(patients)
        if unknown:
            parts = [f"{count} with no recorded {label}" for label, count in unknown.items()]
            sentence += f" ({'; '.join(parts)} left out)"
        return sentence

    def apply(self, cohort: Cohort) -> FilteredCohort:
        """The filtered cohort, its sentence and its file-name part."""
        keep = self.mask(cohort.patients).to_numpy()
        return FilteredCohort(
            cohort=cohort.subset_mask(keep),
            n_total=cohort.n_patients,
            sentence=self._sentence(cohort.patients, int(keep.sum())),
            slug=self.slug(),
        )

    def to_dict(self) -> dict[str, object]:
        return {field.name: getattr(self, field.name) for field in fields(self)}
