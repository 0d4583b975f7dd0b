"""Dated results to time points by the visit windows of :mod:`analytics.reading.window_rules`.

:func:`assign_windows` works on whole arrays (one entry per result: its patient and
lab as a group code, its day since the start, its time of day and row), so windowing
10,000 patients with 20 results each takes well under a second. Each time point
takes, per patient and lab, the best result in its window: the *last* for baseline
(latest day, then latest time of day, then the later row), the *closest* to the
target day for a follow-up (then the earlier day, the earlier time of day, the earlier
row). A result chosen by two time points goes to the one whose target day is nearer
(the earlier time point on a tie); the other takes its next choice, until no result
is used twice.

Every result not used gets its reason (:data:`REASONS`): another value of its window
was used (``closer_value_used``, ``later_value_used``, naming the row used), it lies
before the baseline window (``before_baseline_window``), or outside every window
(``outside_every_window``). :class:`WindowedResults` keeps every result with its day
since the start and what became of it, for the Data page and the outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analytics.reading.window_rules import VisitWindows, WindowRule

__all__ = ["OUTCOMES", "Assignment", "WindowedResults", "assign_windows", "reasons"]

#: What became of a result row of a dated file, in the order the Data page lists them.
OUTCOMES: dict[str, str] = {
    "used": "used at a time point",
    "closer_value_used": "a closer value was used",
    "later_value_used": "a later value was used for baseline",
    "outside_every_window": "outside every window",
    "before_baseline_window": "before the baseline window",
    "no_start_date": "no start date for the patient",
    "no_collection_date": "no collection date",
    "date_not_recognised": "collection date not readable",
    "duplicate_row": "the same result twice",
    "no_lab_value": "no lab value (empty or N/A)",
    "lab_value_not_readable": "lab value not readable",
    "no_lab_name": "no lab name",
    "no_patient_id": "no patient ID",
    "summary_row": "summary row (mean, SD …)",
    "empty_row": "empty row",
    "continuation_row": "further line of a cell",
}


@dataclass(frozen=True)
class Assignment:
    """Per result: the index of the rule it is used for (-1 when not used); for a result
    not used, why (``kind``, a key of :data:`OUTCOMES`) and, when another value of its
    window was used, which (``rival``, an index into the results) and for which time
    point (``rival_rule``); both -1 otherwise."""

    rule: np.ndarray
    kind: np.ndarray
    rival: np.ndarray
    rival_rule: np.ndarray


def _choose(
    rule: WindowRule,
    candidates: np.ndarray,
    group: np.ndarray,
    day: np.ndarray,
    seconds: np.ndarray,
    row: np.ndarray,
) -> np.ndarray:
    """The result each group takes for ``rule`` among ``candidates`` (indices)."""
    if candidates.size == 0:
        return candidates
    g, d, s, r = group[candidates], day[candidates], seconds[candidates], row[candidates]
    if rule.kind == "last":
        order = np.lexsort((-r, -s, -d, g))
    else:
        order = np.lexsort((r, s, d, np.abs(d - rule.target_day), g))
    ordered = g[order]
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return candidates[order[first]]


def assign_windows(
    group: np.ndarray,
    day: np.ndarray,
    seconds: np.ndarray,
    row: np.ndarray,
    rules: Sequence[WindowRule],
) -> Assignment:
    """Window the results: see the module's description.

    Parameters
    ----------
    group
        An integer code per result for its patient and lab.
    day
        Days since the patient's start (day 0 = the start day).
    seconds
        Time of day in seconds (-1 when not given), to order results of one day.
    row
        The result's row in the file (the last tie-break).
    rules
        The time points' windows, in time order.
    """
    group, day = np.asarray(group, np.int64), np.asarray(day, np.int64)
    seconds, row = np.asarray(seconds, np.int64), np.asarray(row, np.int64)
    n, n_rules = len(day), len(rules)
    eligible = np.array([(day >= r.from_day) & (day <= r.to_day) for r in rules]).reshape(
        n_rules, n
    )
    distance = np.array([np.abs(day - r.target_day) for r in rules]).reshape(n_rules, n)
    blocked = np.zeros((n_rules, n), dtype=bool)
    while True:
        chosen = [
            _choose(r, np.flatnonzero(eligible[j] & ~blocked[j]), group, day, seconds, row)
            for j, r in enumerate(rules)
        ]
        takers = np.zeros(n, dtype=np.int64)
        for picks in chosen:
            takers[picks] += 1
        contested = np.flatnonzero(takers > 1)
        if contested.size == 0:
            break
        # the contested result goes to the nearest target (the earlier rule on a tie)
        best = np.full(contested.size, np.iinfo(np.int64).max)
        winner = np.full(contested.size, -1)
        for j, picks in enumerate(chosen):
            mine = np.isin(contested, picks)
            closer = mine & (distance[j, contested] < best)
            best[closer], winner[closer] = distance[j, contested[closer]], j
        for j, picks in enumerate(chosen):
            lost = np.isin(contested, picks) & (winner != j)
            blocked[j, contested[lost]] = True
    used = np.full(n, -1, dtype=np.int64)
    for j, picks in enumerate(chosen):
        used[picks] = j
    return _outcomes(used, chosen, eligible, group, day, rules)


def _outcomes(
    used: np.ndarray,
    chosen: list[np.ndarray],
    eligible: np.ndarray,
    group: np.ndarray,
    day: np.ndarray,
    rules: Sequence[WindowRule],
) -> Assignment:
    n = len(used)
    kind = np.full(n, "", dtype=object)
    rival = np.full(n, -1, dtype=np.int64)
    rival_rule = np.full(n, -1, dtype=np.int64)
    unused = used < 0
    # a result not used is in no window, or in windows that chose another of its group
    # (a result chosen and then given to another time point is used there); the first
    # window it is in names the value used instead
    for j in reversed(range(len(rules))):
        inside = eligible[j] & unused
        if not inside.any():
            continue
        picks = chosen[j]
        by_group = pd.Series(picks, index=group[picks])
        rival[inside] = by_group.reindex(group[inside]).to_numpy()
        rival_rule[inside] = j
        kind[inside] = "later_value_used" if rules[j].kind == "last" else "closer_value_used"
    outside = unused & (rival_rule < 0)
    baseline = next((r for r in rules if r.kind == "last"), None)
    before = outside & (day < baseline.from_day) if baseline is not None else np.zeros(n, bool)
    kind[before] = "before_baseline_window"
    kind[outside & ~before] = "outside_every_window"
    return Assignment(used, kind, rival, rival_rule)


def _phrase(rule: WindowRule, day: int, other_day: int) -> str:
    """Why a result of ``day`` was not used for ``rule``, which used one of ``other_day``."""
    if rule.kind == "last":
        return (
            "a later value of the same day was used"
            if other_day == day
            else ("a later value was used")
        )
    if other_day == day:
        return "an earlier value of the same day was used"
    if abs(other_day - rule.target_day) == abs(day - rule.target_day):
        return "an earlier value as close was used"
    return "a closer value was used"


def reasons(
    assignment: Assignment,
    rules: Sequence[WindowRule],
    day: np.ndarray,
    row: np.ndarray,
    lab_names: Sequence[str],
) -> list[str]:
    """The reason of each result not used (``""`` for one used), in plain words.

    ``lab_names`` is the lab's name per result. Examples: ``outside every window:
    Hemoglobin on day 100``; ``a closer value was used for month 2: MCV on day 48,
    row 14 (day 60) was used``.
    """
    out = [""] * len(day)
    for i in np.flatnonzero(assignment.rule < 0):
        kind = assignment.kind[i]
        what = f"{lab_names[i]} on day {day[i]}"
        if kind == "outside_every_window":
            out[i] = f"outside every window: {what}"
        elif kind == "before_baseline_window":
            out[i] = f"before the baseline window: {what}"
        else:
            rule, other = rules[assignment.rival_rule[i]], assignment.rival[i]
            phrase = _phrase(rule, int(day[i]), int(day[other]))
            used = f"row {row[other]} (day {day[other]}) was used"
            out[i] = f"{phrase} for {rule.label}: {what}, {used}"
    return out


@dataclass(frozen=True)
class WindowedResults:
    """How a file of dated results became time points.

    Attributes
    ----------
    windows : VisitWindows
        The choices (time points, days, start-date column, date order).
    rules : tuple of WindowRule
        Each time point's window, in days since the start.
    date_column, anchor_column : str
        The collection-date column and the start-date column.
    anchor_where : str
        Where the start dates were read: ``""`` (this sheet), ``"sheet 'Patients'"``,
        ``"file 'starts.csv'"``.
    anchor_file : str
        The name of the second file the start dates came from (``""`` if none).
    date_order, order_note : str
        ``"dmy"``, ``"mdy"`` or ``""`` (no date needed one), and how it was settled.
    results : pandas.DataFrame
        Every result row with a lab and a value: ``patient_id``, ``analyte``, ``day``
        (days since the start; NaN without a start or collection date), ``value``,
        ``censored``, ``row``, ``time`` (the time point it is used at, NaN if not used),
        ``outcome`` (``"used"`` or the kind of exclusion, see :data:`OUTCOMES`) and
        ``reason``.
    outcomes : tuple of (kind, count)
        Every data row of the results sheet by what became of it, used first.
    """

    windows: VisitWindows
    rules: tuple[WindowRule, ...]
    date_column: str
    anchor_column: str
    anchor_where: str
    anchor_file: str
    date_order: str
    order_note: str
    results: pd.DataFrame
    outcomes: tuple[tuple[str, int], ...]

    @property
    def n_rows(self) -> int:
        return sum(n for _, n in self.outcomes)

    @property
    def n_used(self) -> int:
        return dict(self.outcomes).get("used", 0)

    def anchor_text(self) -> str:
        where = f" of {self.anchor_where}" if self.anchor_where else ""
        return f"column '{self.anchor_column}'{where}"

    def args(self) -> list[str]:
        """The command-line words that window the file the same way."""
        return self.windows.args(anchor=self.anchor_column, anchor_file=self.anchor_file)

    def outcomes_frame(self) -> pd.DataFrame:
        """Result rows by what became of them: outcome, rows."""
        return pd.DataFrame(
            [(OUTCOMES.get(kind, kind.replace("_", " ")), n) for kind, n in self.outcomes],
            columns=["what became of the result", "rows"],
        )

    def rules_frame(self) -> pd.DataFrame:
        """One row per time point: its rule, target day and first and last day."""
        return pd.DataFrame(
            [
                {
                    "time point": r.label,
                    "takes": "the last value" if r.kind == "last" else "the closest value",
                    "target day": r.target_day,
                    "from day": r.from_day,
                    "to day": r.to_day,
                }
                for r in self.rules
            ]
        )

    def values_frame(self, lab_names: dict[str, str]) -> pd.DataFrame:
        """The values used: patient, lab, time point, day since the start, value, row."""
        used = self.results[self.results["outcome"] == "used"]
        labels = {rule.time: rule.label for rule in self.rules}
        values = [f"{c}{v:g}" for c, v in zip(used["censored"], used["value"], strict=True)]
        frame = pd.DataFrame(
            {
                "patient": used["patient_id"].astype(str).to_numpy(),
                "lab": used["analyte"].map(lambda key: lab_names.get(key, key)).to_numpy(),
                "time point": used["time"].map(labels).to_numpy(),
                "day": used["day"].astype(int).to_numpy(),
                "value": values,
                "row": used["row"].astype(int).to_numpy(),
                "_time": used["time"].to_numpy(),
            }
        )
        ordered = frame.sort_values(["patient", "lab", "_time"], kind="stable")
        return ordered.drop(columns="_time").reset_index(drop=True)

    def to_dict(self) -> dict[str, object]:
        """The window rules and where the dates came from (for settings and JSON)."""
        return {
            **self.windows.to_dict(),
            "anchor": self.anchor_column,
            "anchor_where": self.anchor_where or "this sheet",
            "anchor_file": self.anchor_file or None,
            "date_column": self.date_column,
            "date_order": self.date_order or None,
            "date_order_note": self.order_note or None,
        }

    def counts_dict(self) -> dict[str, object]:
        """Result rows: in, used, excluded, and excluded by reason."""
        return {
            "n_results": self.n_rows,
            "n_used": self.n_used,
            "n_excluded": self.n_rows - self.n_used,
            "by_reason": [
                {"kind": kind, "reason": OUTCOMES.get(kind, kind), "count": n}
                for kind, n in self.outcomes
                if kind != "used"
            ],
        }

    def relabelled(self, key: dict[str, str], relabel_text) -> WindowedResults:
        """The same with patients relabelled by ``key`` (see :mod:`analytics.pseudonyms`)."""
        results = self.results.assign(
            patient_id=self.results["patient_id"].map(key).fillna("not shown"),
            reason=[relabel_text(text) for text in self.results["reason"]],
        )
        return replace(self, results=results)
