"""The overview: for each headline lab, the paired change and what so few patients can show.

For one lab this computes only what the overview page shows: the complete pairs, the
paired t-test (mean change, confidence interval, p), the smallest change detectable
with 80 % power, the floor of the rank tests and leave-one-out. The robustness
checks, time course and subgroups of the Paired tests page are not computed here.

Change is follow-up − baseline, so a fall is negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analytics.analysis import Selection, select
from analytics.cohort import Cohort
from analytics.errors import AnalysisError
from analytics.evidence import margin_for, rcv_for
from analytics.flow import in_sentence
from analytics.labs import format_time
from analytics.plain import format_interval, format_level, format_number, format_p
from analytics.settings import AnalysisSettings
from analytics.stats.bayes import bayes_factor
from analytics.stats.common import Pairs, TSummary, complete_pairs, t_summary
from analytics.stats.equivalence import equivalence_test
from analytics.stats.power import mde_dz
from analytics.stats.robust import leave_one_out

if TYPE_CHECKING:
    from analytics.stats.bayes import BayesResult
    from analytics.stats.equivalence import EquivalenceResult
    from analytics.stats.paired import PairedResult
    from analytics.stats.rcv import RcvResult

__all__ = [
    "HEADLINE_LABS",
    "LabOverview",
    "default_labs",
    "default_times",
    "from_paired",
    "lab_overview",
    "overview_labs",
    "rank_test_floor",
]

#: The study's two headline labs, shown first when the file has them.
HEADLINE_LABS = ("mcv", "hepcidin")
#: Power for the smallest detectable change.
POWER = 0.8
#: Below this many pairs the caveat says the SD of the change is itself uncertain.
UNCERTAIN_SD_BELOW = 10
#: Patients named in a leave-one-out sentence before "and N more".
NAMED = 5


def overview_labs(cohort: Cohort) -> list[str]:
    """The labs with at least 2 time points in the file, in file order."""
    return [key for key, info in cohort.analytes.items() if len(info.times) >= 2]


def default_labs(cohort: Cohort) -> list[str]:
    """MCV and hepcidin when the file has them (with 2 time points), else the first two."""
    labs = overview_labs(cohort)
    chosen = [key for key in HEADLINE_LABS if key in labs]
    chosen += [key for key in labs if key not in chosen][: max(0, 2 - len(chosen))]
    return chosen


def default_times(
    cohort: Cohort, analyte: str, censored: str = "limit", whole: Cohort | None = None
) -> tuple[float, float]:
    """Baseline = the lab's first time point with a value in ``cohort``; follow-up = the
    later time with the most complete pairs.

    Among times with equally many pairs, the one with the most pairs in ``whole`` (the
    whole file, so that a filter does not move the follow-up needlessly), then the
    latest.

    Raises
    ------
    AnalysisError
        When fewer than 2 time points of the lab have a value in ``cohort``.

    Examples
    --------
    >>> from analytics import load_cohort
    >>> cohort = load_cohort(b"id,MCV 0,MCV 1,MCV 2\\nA,80,79,\\nB,82,80,81\\nC,85,83,84\\n",
    ...                      "m.csv")
    >>> default_times(cohort, "mcv")
    (0.0, 1.0)
    """
    matrix = cohort.lab_matrix(analyte, censored)
    times = [float(t) for t in matrix.columns if matrix[t].notna().any()]
    name = in_sentence(cohort.analytes[analyte].name)
    if not times:
        raise AnalysisError(f"None of these patients has a {name} value.")
    if len(times) < 2:
        raise AnalysisError(
            f"These patients have {name} values only at {format_time(times[0])}; a change "
            "needs two time points."
        )
    baseline = times[0]
    pairs = _pair_counts(matrix, baseline, times[1:])
    in_file = (
        pairs
        if whole is None
        else _pair_counts(whole.lab_matrix(analyte, censored), baseline, times[1:])
    )
    return baseline, max(times[1:], key=lambda t: (pairs[t], in_file[t], t))


def _pair_counts(matrix: pd.DataFrame, baseline: float, later: list[float]) -> dict:
    has_start = matrix[baseline].notna()
    return {t: int((has_start & matrix[t].notna()).sum()) for t in later}


def rank_test_floor(n_nonzero: int, alpha: float) -> float | None:
    """The smallest two-sided p a signed-rank or sign-flip test can give, when it is
    not below ``alpha`` (else None): 2 / 2^n with n non-zero changes.

    >>> rank_test_floor(5, 0.05), rank_test_floor(6, 0.05)
    (0.0625, None)
    """
    if n_nonzero < 1:
        return 1.0
    floor = 2.0 ** (1 - n_nonzero)
    return floor if floor >= alpha else None


def _names(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:NAMED])
    return shown + (f" and {len(ids) - NAMED} more" if len(ids) > NAMED else "")


@dataclass(frozen=True)
class LabOverview:
    """One lab's paired change and its small-sample caveats.

    Attributes
    ----------
    selection : Selection
        The lab and its two times.
    n_pairs : int
        Complete pairs.
    excluded : tuple of (patient_id, reason)
        Patients of the selection without a complete pair.
    summary : TSummary or None
        The paired t-test; None when it cannot be computed (``problem`` says why).
    mde : float or None
        Smallest true mean change detectable with 80 % power (lab units, two-sided).
    rank_floor : float or None
        The smallest p a rank test can reach, when it is not below alpha.
    n_nonzero : int
        Pairs whose change is not zero (the ones a rank test ranks).
    fragile, reverses : tuple of str
        Patients whose removal moves p across alpha; whose removal reverses the
        direction of the mean change.
    alpha, confidence : float
        The levels used.
    problem : str or None
        Why no test is shown.
    equivalence, bayes, rcv
        Equivalence (TOST), the Bayes factor and the reference change value (the
        "did anything change?" panel, :mod:`analytics.panel`); None with the note
        saying why when they could not be computed.
    """

    selection: Selection
    n_pairs: int
    excluded: tuple[tuple[str, str], ...]
    alpha: float
    confidence: float
    summary: TSummary | None = None
    mde: float | None = None
    rank_floor: float | None = None
    n_nonzero: int = 0
    fragile: tuple[str, ...] = ()
    reverses: tuple[str, ...] = ()
    problem: str | None = None
    equivalence: EquivalenceResult | None = None
    equivalence_note: str | None = None
    bayes: BayesResult | None = None
    rcv: RcvResult | None = None
    rcv_note: str | None = None

    def _unit(self) -> str:
        return f" {self.selection.unit}" if self.selection.unit else ""

    def sentence(self) -> str:
        """The paired result in one plain sentence (mean change, CI, p, pairs)."""
        selection, summary = self.selection, self.summary
        times = f"from {format_time(selection.baseline)} to {format_time(selection.follow_up)}"
        if summary is None:
            return f"{selection.name}, {times}: {self.problem}"
        verb = "fell" if summary.mean < 0 else ("rose" if summary.mean > 0 else "did not change")
        unit = self._unit()
        change = format_number(summary.mean, digits=3, signed=True)
        interval = format_interval(summary.ci_low, summary.ci_high, digits=3, signed=True)
        return (
            f"{selection.name} {verb} on average {times}: mean change {change}{unit} "
            f"({format_level(self.confidence)} CI {interval}{unit}), "
            f"{format_p(summary.p_two_sided, prefix=True)}, {self.n_pairs} pairs."
        )

    def caveats(self) -> list[str]:
        """What this number of pairs can and cannot show, one sentence each."""
        if self.summary is None:
            return []
        lines = []
        alpha = f"{self.alpha:g}"
        if self.mde is not None:
            power, unit = format_level(POWER), self._unit()
            sd = format_number(self.summary.sd, digits=3)
            lines.append(
                f"Smallest change {self.n_pairs} pairs can detect with {power} power: "
                f"{format_number(self.mde, digits=3)}{unit} (two-sided alpha {alpha}, "
                f"SD of the change {sd}{unit}); a smaller true change would often be missed"
                + (
                    ". With so few pairs that SD, and so this figure, is itself uncertain."
                    if self.n_pairs < UNCERTAIN_SD_BELOW
                    else "."
                )
            )
        if self.rank_floor is not None:
            what = (
                f"{self.n_pairs} pairs"
                if self.n_nonzero == self.n_pairs
                else f"{self.n_nonzero} non-zero changes"
            )
            lines.append(
                f"With {what} no rank test can reach p < {alpha}: the smallest two-sided p "
                f"a signed-rank or sign-flip test can give is {self.rank_floor:g}."
            )
        lines.extend(self._fragility(alpha))
        return lines

    def _fragility(self, alpha: str) -> list[str]:
        lines = []
        k = len(self.fragile)
        if k == self.n_pairs and k > 1:
            lines.append(f"Removing any one of the {k} patients moves p across {alpha}.")
        elif k > 1:
            lines.append(
                f"Removing any one of {k} patients ({_names(self.fragile)}) moves p across {alpha}."
            )
        elif k == 1:
            lines.append(f"Removing one patient ({self.fragile[0]}) moves p across {alpha}.")
        if self.reverses:
            lines.append(
                f"Removing {_names(self.reverses)} reverses the direction of the mean change."
            )
        if not lines and self.n_pairs > 2:
            lines.append(f"No single patient's removal moves p across {alpha}.")
        elif self.n_pairs == 2:
            lines.append("Without either patient a single pair is left: no test remains.")
        return lines

    @property
    def is_fragile(self) -> bool:
        """True when a caveat undermines the p-value (rank floor or one patient)."""
        return bool(self.rank_floor is not None or self.fragile or self.reverses)


def lab_overview(
    cohort: Cohort,
    analyte: str,
    *,
    baseline: float | None = None,
    follow_up: float | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    censored: str = "limit",
    whole: Cohort | None = None,
    settings: AnalysisSettings | None = None,
    paired: PairedResult | None = None,
) -> LabOverview:
    """The overview of one lab in ``cohort`` (the filtered patients).

    ``settings`` gives the equivalence margin, prior scale and CVs of the panel
    (default: the lab's own). ``paired``, the paired result of the same lab, times,
    patients and settings when already computed, lends its equivalence test, Bayes
    factor and reference change value instead of computing them again.

    Without ``baseline`` and ``follow_up``, :func:`default_times` (``whole``, the whole
    file, breaks its ties). A lab that cannot be
    tested (fewer than 2 pairs, identical changes) gives a result with ``problem`` set
    instead of raising; an unknown lab raises :class:`AnalysisError`.
    """
    if baseline is None or follow_up is None:
        try:
            baseline, follow_up = default_times(cohort, analyte, censored, whole)
        except AnalysisError as error:
            info = cohort.analytes[cohort.find_analyte(analyte)]
            selection = Selection(info.key, info.name, info.unit, info.times[0], info.times[-1])
            return LabOverview(selection, 0, (), alpha, confidence, problem=str(error))
    selection = select(cohort, analyte, baseline, follow_up)
    matrix = cohort.lab_matrix(selection.analyte, censored)
    pairs = complete_pairs(
        matrix[selection.baseline], matrix[selection.follow_up], list(matrix.index)
    )
    n = len(pairs.ids)
    base = LabOverview(selection, n, pairs.excluded, alpha, confidence)
    changes = pairs.follow_up - pairs.baseline
    try:
        scale = float(max(np.max(np.abs(pairs.baseline)), np.max(np.abs(pairs.follow_up))))
        summary = t_summary(changes, confidence, scale)
    except (AnalysisError, ValueError) as error:  # ValueError: max of no pairs
        problem = str(error) if n else f"no patient here has {selection.name} at both times."
        return replace(base, problem=problem)
    loo = leave_one_out((pairs.baseline, pairs.follow_up, pairs.ids), alpha=alpha)
    tested = _tested(base, summary, changes, scale, loo, mde_dz(n, POWER, alpha) * summary.sd)
    if paired is not None and paired.patient_ids == tuple(str(p) for p in pairs.ids):
        return _evidence_of(tested, paired)
    return _with_evidence(tested, cohort, changes, pairs, settings)


def _evidence_of(overview: LabOverview, result: PairedResult) -> LabOverview:
    """``overview`` with the equivalence test, Bayes factor and RCV of ``result``."""
    return replace(
        overview,
        equivalence=result.equivalence,
        equivalence_note=result.equivalence_note,
        bayes=result.bayes,
        rcv=result.rcv,
        rcv_note=result.rcv_note,
    )


def _with_evidence(
    overview: LabOverview,
    cohort: Cohort,
    changes: np.ndarray,
    pairs: Pairs,
    settings: AnalysisSettings | None,
) -> LabOverview:
    """``overview`` with equivalence, the Bayes factor and the reference change value."""
    settings = settings or AnalysisSettings()
    selection, summary = overview.selection, overview.summary
    margin, margin_note = margin_for(selection, settings)
    equivalence = None
    if margin is not None:
        equivalence = equivalence_test(changes, margin, overview.alpha, unit=selection.unit)
    bayes = bayes_factor(summary.t, overview.n_pairs, settings.prior_scale)
    ids = tuple(str(p) for p in pairs.ids)
    values = (tuple(pairs.baseline), tuple(pairs.follow_up), ids)
    rcv, rcv_note = rcv_for(cohort, selection, settings, values)
    return replace(
        overview,
        equivalence=equivalence,
        equivalence_note=margin_note,
        bayes=bayes,
        rcv=rcv,
        rcv_note=rcv_note,
    )


def _tested(
    base: LabOverview,
    summary: TSummary,
    changes: np.ndarray,
    scale: float,
    loo: pd.DataFrame,
    mde: float,
) -> LabOverview:
    """``base`` with the test, the power figure, the rank floor and leave-one-out."""
    n_nonzero = int(np.sum(np.abs(changes) > 1e-9 * max(scale, 1.0)))
    reverses = loo["sign_flips"] if summary.mean != 0 else loo["sign_flips"] & False
    return replace(
        base,
        summary=summary,
        mde=mde,
        rank_floor=rank_test_floor(n_nonzero, base.alpha),
        n_nonzero=n_nonzero,
        fragile=tuple(str(p) for p in loo.loc[loo["crosses_alpha"], "patient_id"]),
        reverses=tuple(str(p) for p in loo.loc[reverses, "patient_id"]),
    )


def from_paired(selection: Selection, result: PairedResult, loo: pd.DataFrame) -> LabOverview:
    """The same caveats from a full paired result and its leave-one-out table (the
    Paired tests page), so both pages word them alike."""
    summary = TSummary(
        n=result.n_pairs,
        mean=result.mean_change,
        sd=result.sd_change,
        se=result.se_change,
        t=result.t,
        df=result.df,
        p_two_sided=result.p_two_sided,
        p_less=result.p_less,
        p_greater=result.p_greater,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
    )
    base = LabOverview(selection, result.n_pairs, result.excluded, result.alpha, result.confidence)
    values = np.array([*result.baseline_values, *result.follow_up_values])
    scale = float(np.max(np.abs(values)))
    changes = np.array(result.changes)
    tested = _tested(base, summary, changes, scale, loo, result.mde_dz_80 * result.sd_change)
    return _evidence_of(tested, result)
