"""The tables of the evidence beyond the p-value: equivalence, Bayes factor, each
patient's change against the reference change value, and the "did anything change?"
panel; and the pairs table's ``percent change`` and ``beyond RCV`` columns.

Every view, its downloads, the ZIP bundle and the XLSX workbook carry these tables
under the lab's stem (``mcv_equivalence``, ``mcv_bayes``, ``mcv_rcv``, ``mcv_panel``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analytics.panel import panel_from_paired

if TYPE_CHECKING:
    from analytics.analysis import Selection
    from analytics.stats.paired import PairedResult

__all__ = ["evidence_tables", "with_rcv_columns"]


def with_rcv_columns(pairs: pd.DataFrame, paired: PairedResult) -> pd.DataFrame:
    """``pairs`` (one row per patient) with ``percent change`` (follow-up / baseline − 1,
    in %) and ``beyond RCV`` (``rise``, ``fall`` or blank), placed after ``change``.

    Patients not in the comparison, or whose change could not be judged, have both
    blank (``percent change`` is still given when it exists).
    """
    table = pairs.copy()
    percent = pd.Series(float("nan"), index=table.index)
    beyond = pd.Series("", index=table.index, dtype=object)
    if paired.rcv is not None:
        by_patient = {p.patient: p for p in paired.rcv.patients}
        ids = table["patient"].astype(str)
        percent = ids.map(lambda pid: _percent(by_patient.get(pid)))
        beyond = ids.map(lambda pid: getattr(by_patient.get(pid), "beyond", None) or "")
    else:
        ratio = table["follow_up"] / table["baseline"].where(table["baseline"] > 0)
        percent = (ratio - 1.0) * 100.0
    where = list(table.columns).index("change") + 1
    table.insert(where, "percent change", percent.astype(float).to_numpy())
    table.insert(where + 1, "beyond RCV", beyond.to_numpy())
    return table


def _percent(patient: object) -> float:
    value = getattr(patient, "percent_change", None)
    return float("nan") if value is None else float(value)


def evidence_tables(selection: Selection, paired: PairedResult) -> dict[str, pd.DataFrame]:
    """``<lab>_equivalence``, ``<lab>_bayes``, ``<lab>_rcv``, ``<lab>_rcv_summary`` and
    ``<lab>_panel``, each when it was computed."""
    stem = selection.analyte
    tables: dict[str, pd.DataFrame] = {}
    if paired.equivalence is not None:
        tables[f"{stem}_equivalence"] = paired.equivalence.to_frame()
    if paired.bayes is not None:
        bayes = paired.bayes.to_frame()
        robustness = pd.DataFrame(
            {
                "quantity": [f"bf10_r{scale:.3g}" for scale, _ in paired.bayes.robustness],
                "label": [
                    f"BF10 at prior scale {scale:.3g}" for scale, _ in paired.bayes.robustness
                ],
                "value": [value for _, value in paired.bayes.robustness],
            }
        )
        tables[f"{stem}_bayes"] = pd.concat([bayes, robustness], ignore_index=True)
    if paired.rcv is not None:
        per_patient = paired.rcv.to_frame().rename(
            columns={"percent_change": "percent change", "beyond": "beyond RCV"}
        )
        per_patient["beyond RCV"] = per_patient["beyond RCV"].fillna("")
        tables[f"{stem}_rcv"] = per_patient
        tables[f"{stem}_rcv_summary"] = paired.rcv.summary_frame()
    tables[f"{stem}_panel"] = panel_from_paired(paired, selection.name, selection.unit).to_frame()
    return tables
