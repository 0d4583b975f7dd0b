"""Column headers as a clinician reads them, for every table shown or exported.

The analyses name their columns for programs (``mean_change``, ``welch_t``,
``mann_whitney_u``): those names stay in the command line's JSON. Every table a
person sees — on a page, in a CSV or XLSX download, in the ZIP bundle — goes through
:func:`human_headers`, so the same quantity carries the same header everywhere.
"""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd

__all__ = ["COLUMN_LABELS", "human_headers", "human_name"]

#: Header of each machine column name. No label is itself a key, so renaming twice
#: changes nothing (a table shown on a page can be renamed again for its download).
COLUMN_LABELS: dict[str, str] = {
    "patient_id": "patient",
    "patient_ids": "patients",
    "age": "age (y)",
    "age_group": "age group",
    "iron": "iron therapy",
    "epo": "Epo",
    "reason_for_sirolimus": "reason for sirolimus",
    "immunosuppressants": "other immunosuppressants",
    "reason_for_transplant": "reason for transplant",
    "follow_up": "follow-up",
    "n_pairs": "pairs",
    "n_assessed": "patients assessed",
    "n_affected": "patients affected",
    "n_excluded": "number left out",
    "excluded": "left out",
    "n_a": "n (A)",
    "n_b": "n (B)",
    "group_a": "group A",
    "group_b": "group B",
    "baseline_mean": "baseline mean",
    "follow_up_mean": "follow-up mean",
    "mean_change": "mean change",
    "sd_change": "SD of change",
    "se_change": "SE of change",
    "ci_low": "CI low",
    "ci_high": "CI high",
    "p_two_sided": "p (two-sided)",
    "p_raw": "p (raw)",
    "p_holm": "p (Holm)",
    "cohen_dz": "Cohen's d_z",
    "wilcoxon_p": "Wilcoxon p",
    "sign_flips": "sign flips",
    "crosses_alpha": "crosses alpha",
    "difference": "difference in mean change (A − B)",
    "difference_se": "SE of the difference",
    "welch_t": "Welch t",
    "welch_df": "Welch df",
    "welch_p": "Welch p",
    "welch_p_holm": "Welch p (Holm)",
    "mann_whitney_u": "Mann–Whitney U",
    "mann_whitney_p": "Mann–Whitney p",
    "mann_whitney_p_holm": "Mann–Whitney p (Holm)",
    "mann_whitney_method": "Mann–Whitney method",
    "family": "multiple-testing family",
    "first_rows": "first rows",
}


def human_name(name: Hashable) -> str:
    """The header of one column: its label, or the name itself (a name from the file
    is never rewritten)."""
    text = "" if name is None else str(name)
    return COLUMN_LABELS.get(text, text)


def human_headers(frame: pd.DataFrame, *, keys: bool = True) -> pd.DataFrame:
    """``frame`` with headers for reading (a copy; the cells are not touched).

    Parameters
    ----------
    frame : DataFrame
        A table of results; its named index levels are renamed too.
    keys : bool
        A table of quantities (columns ``quantity``, ``label``, ``value``) keeps its
        machine key, after the value, as ``key``; with ``keys=False`` (on a page) the
        key is left out.

    Notes
    -----
    Two layouts read differently than their names say: in a table of quantities the
    ``label`` is the quantity and ``quantity`` its key; in a table per time point with
    a numeric ``time`` and a ``label``, the label is the time and ``time`` its months.

    Examples
    --------
    >>> frame = pd.DataFrame({"group_a": ["F"], "welch_t": [1.5], "mean_change": [-2.0]})
    >>> list(human_headers(frame).columns)
    ['group A', 'Welch t', 'mean change']
    >>> quantities = pd.DataFrame({"quantity": ["t"], "label": ["Paired t"], "value": [-3.7]})
    >>> list(human_headers(quantities).columns), list(human_headers(quantities, keys=False))
    (['quantity', 'value', 'key'], ['quantity', 'value'])
    """
    columns = [str(c) for c in frame.columns]
    out = frame.copy()
    out.columns = pd.Index(columns)
    if {"quantity", "label"} <= set(columns):
        out = out.rename(columns={"quantity": "key", "label": "quantity"})
        rest = [c for c in out.columns if c not in ("quantity", "value", "key")]
        order = ["quantity", *(["value"] if "value" in out else []), *rest]
        out = out[order + (["key"] if keys else [])]
    elif "label" in columns and "time" in columns and pd.api.types.is_numeric_dtype(out["time"]):
        out = out.rename(columns={"time": "months", "label": "time"})
    out.columns = pd.Index([human_name(c) for c in out.columns])
    if any(name is not None for name in out.index.names):
        names = [None if n is None else human_name(n) for n in out.index.names]
        out.index = out.index.set_names(names)
    return out
