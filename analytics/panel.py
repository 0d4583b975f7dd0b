""" "Did anything change?": the paired t-test, equivalence, Bayes factor and the patients
beyond the reference change value of one lab, side by side, with one sentence that
says no more than the four together allow.

The Overview (from :class:`analytics.overview.LabOverview`) and the Paired tests page
(from :class:`analytics.stats.paired.PairedResult`) build the same panel, so both word
it alike. The sentence never calls a non-significant change "no change": that needs
the equivalence test, and the equivalence test needs a margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from analytics.plain import format_interval, format_level, format_number, format_p
from analytics.stats.bayes import BayesResult
from analytics.stats.equivalence import EquivalenceResult
from analytics.stats.rcv import RcvResult

if TYPE_CHECKING:
    from analytics.overview import LabOverview
    from analytics.stats.paired import PairedResult

__all__ = ["ChangePanel", "panel_from_overview", "panel_from_paired", "short_number"]


def short_number(value: float) -> str:
    """A margin in 3 significant digits without trailing zeros: 3, 0.621, 10."""
    return f"{float(f'{value:.3g}'):g}"


@dataclass(frozen=True)
class ChangePanel:
    """The four answers for one lab and the sentence that joins them.

    Attributes
    ----------
    lab, unit : str
        The lab's name and unit (as in the file).
    n_pairs : int
        Complete pairs.
    mean_change, ci_low, ci_high, p, t, df
        The paired t-test (CI at ``confidence``).
    alpha, confidence : float
        The levels used.
    equivalence, bayes, rcv
        The three results, each None when it could not be computed (the notes say why).
    """

    lab: str
    unit: str
    n_pairs: int
    mean_change: float
    ci_low: float
    ci_high: float
    p: float
    t: float
    df: int
    alpha: float
    confidence: float
    equivalence: EquivalenceResult | None = None
    equivalence_note: str | None = None
    bayes: BayesResult | None = None
    rcv: RcvResult | None = None
    rcv_note: str | None = None

    @property
    def significant(self) -> bool:
        """The paired t-test's two-sided p is below alpha."""
        return self.p < self.alpha

    def _u(self) -> str:
        return f" {self.unit}" if self.unit else ""

    def _margin(self) -> str:
        return f"±{short_number(self.equivalence.margin)}{self._u()}"

    def verdict(self) -> str:
        """One sentence that does not overclaim, from the t-test, TOST and Bayes factor,
        ending with the patients beyond the reference change value.

        Examples
        --------
        >>> panel = ChangePanel("MCV", "fL", 5, -1.0, -4.0, 2.0, 0.4, -1.0, 4, 0.05, 0.95)
        >>> panel.verdict()
        'Not significant (p = 0.4); no equivalence margin is set, so these 5 patients cannot show that MCV did not change.'
        """  # noqa: E501
        head = self._t_and_tost()
        bayes = self._bayes_clause()
        text = (
            (f"{head}{bayes}" if bayes.startswith(";") else f"{head}, {bayes}") if bayes else head
        )
        rcv = self.rcv_clause()
        return f"{text}. {rcv}" if rcv else f"{text}."

    def _t_and_tost(self) -> str:
        equivalence = self.equivalence
        direction = "fall" if self.mean_change < 0 else "rise"
        if self.significant:
            if equivalence is not None and equivalence.equivalent:
                return (
                    f"A significant {direction} ({format_p(self.p, prefix=True)}) but within "
                    f"{self._margin()}: too small to matter by this margin"
                )
            return f"Significant {direction} ({format_p(self.p, prefix=True)})"
        p = format_p(self.p, prefix=True)
        if equivalence is None:
            return (
                f"Not significant ({p}); no equivalence margin is set, so these "
                f"{self.n_pairs} patients cannot show that {self.lab} did not change"
            )
        if equivalence.equivalent:
            return (
                f"Equivalent within {self._margin()} ({p}, equivalence "
                f"{format_p(equivalence.p, prefix=True)}): no change as large as the margin"
            )
        size = short_number(equivalence.margin)
        return (
            f"Not significant and not equivalent: these {self.n_pairs} patients cannot tell "
            f"whether {self.lab} changed by {size}{self._u()}"
        )

    def _bayes_clause(self) -> str:
        bayes = self.bayes
        if bayes is None:
            return ""
        favours_change = bayes.log_bf10 > 0
        agrees = favours_change == self.significant
        only = "only " if bayes.evidence.startswith("anecdotal") else ""
        if self.significant and self.equivalence is not None and self.equivalence.equivalent:
            joint = ";"  # the head already weighs two answers against each other
        else:
            joint = "though" if only else ("and" if agrees else "but")
        return f"{joint} the Bayes factor is {only}{bayes.evidence}"

    def rcv_clause(self) -> str:
        """``2 of 5 patients changed beyond biological variation (RCV +3.47 % / −3.35 %).``"""
        return self.rcv.count_sentence() if self.rcv is not None else ""

    def cells(self) -> list[tuple[str, str, str]]:
        """(heading, value, one line under it) for each of the four answers."""
        u, level = self._u(), format_level(self.confidence)
        change = format_number(self.mean_change, digits=3, signed=True)
        interval = format_interval(self.ci_low, self.ci_high, digits=3, signed=True)
        cells = [
            (
                "Paired t-test",
                f"{change}{u}",
                f"{level} CI {interval}{u}; t({self.df}) = {format_number(self.t, digits=3)}, "
                f"{format_p(self.p, prefix=True)}",
            )
        ]
        eq = self.equivalence
        if eq is None:
            cells.append(("Equivalence (TOST)", "no margin", self.equivalence_note or ""))
        else:
            eq_interval = format_interval(eq.ci_low, eq.ci_high, digits=3, signed=True)
            cells.append(
                (
                    f"Equivalence within {self._margin()}",
                    "equivalent" if eq.equivalent else "unproven",
                    f"{format_level(eq.confidence)} CI {eq_interval}{u}; "
                    f"TOST {format_p(eq.p, prefix=True)}",
                )
            )
        cells.append(self._bayes_cell())
        cells.append(self._rcv_cell())
        return cells

    def _bayes_cell(self) -> tuple[str, str, str]:
        bayes = self.bayes
        if bayes is None:
            return ("Bayes factor", "—", "not computed")
        if bayes.log_bf10 >= 0:
            value = f"BF10 = {format_number(bayes.bf10, digits=3) if bayes.bf10 else '> 1e307'}"
        else:
            value = f"BF01 = {format_number(bayes.bf01, digits=3)}"
        return ("Bayes factor", value, f"{bayes.evidence} (prior scale {bayes.prior_scale:.3g})")

    def _rcv_cell(self) -> tuple[str, str, str]:
        rcv = self.rcv
        if rcv is None:
            return ("Beyond biological variation", "—", self.rcv_note or "")
        judged = len(rcv.patients) - rcv.n_undecided
        rise = format_number(rcv.rise_limit_percent, digits=3, signed=True)
        fall = format_number(rcv.fall_limit_percent, digits=3, signed=True)
        detail = f"{rcv.n_rise} rose, {rcv.n_fall} fell beyond RCV {rise} % / {fall} %"
        if rcv.n_undecided:
            detail += f"; {rcv.n_undecided} not judged"
        return ("Beyond biological variation", f"{rcv.n_rise + rcv.n_fall} of {judged}", detail)

    def to_frame(self) -> pd.DataFrame:
        """The panel as a table: ``answer``, ``result``, ``detail``, then the sentence."""
        rows = [{"answer": h, "result": v, "detail": d} for h, v, d in self.cells()]
        rows.append({"answer": "In one sentence", "result": "", "detail": self.verdict()})
        return pd.DataFrame(rows)


def panel_from_paired(result: PairedResult, lab: str, unit: str) -> ChangePanel:
    """The panel of a full paired result (the Paired tests page, the report)."""
    return ChangePanel(
        lab=lab,
        unit=unit,
        n_pairs=result.n_pairs,
        mean_change=result.mean_change,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        p=result.p_two_sided,
        t=result.t,
        df=result.df,
        alpha=result.alpha,
        confidence=result.confidence,
        equivalence=result.equivalence,
        equivalence_note=result.equivalence_note,
        bayes=result.bayes,
        rcv=result.rcv,
        rcv_note=result.rcv_note,
    )


def panel_from_overview(overview: LabOverview) -> ChangePanel | None:
    """The panel of an Overview card; None when it has no test."""
    summary = overview.summary
    if summary is None:
        return None
    return ChangePanel(
        lab=overview.selection.name,
        unit=overview.selection.unit,
        n_pairs=overview.n_pairs,
        mean_change=summary.mean,
        ci_low=summary.ci_low,
        ci_high=summary.ci_high,
        p=summary.p_two_sided,
        t=summary.t,
        df=summary.df,
        alpha=overview.alpha,
        confidence=overview.confidence,
        equivalence=overview.equivalence,
        equivalence_note=overview.equivalence_note,
        bayes=overview.bayes,
        rcv=overview.rcv,
        rcv_note=overview.rcv_note,
    )
