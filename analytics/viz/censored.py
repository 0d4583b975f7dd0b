"""Values beyond a detection limit (``<5``, ``>1000``) drawn so they can be told apart.

A censored value enters a chart as the rule in use says (at the limit, at half the
limit, or not at all). Where one is drawn, the chart marks it with a hollow ring (and a
light, outlined bar in the change chart), labels it with what the file held, and its
legend names the rule: "Hollow: <5 drawn at the limit 5".

The frames behind the charts carry the marks as text columns: ``censored`` (a value's
own mark, e.g. ``<5``, or "" for a measured value) in the long frames, and
``baseline_censored`` / ``follow_up_censored`` in the frames of pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import pandas as pd

from analytics.viz.style import inline_data

__all__ = [
    "CENSORED",
    "censored_overlay",
    "censored_rows",
    "hollow_when_censored",
    "legend_label",
    "pair_marks",
    "rule_words",
]

#: The field holding a drawn value's censored mark ("" when measured).
CENSORED = "censored"
#: Most distinct limits named one by one in a legend.
_NAMED_LIMITS = 3
_RING = "#222222"


def _limit(mark: str) -> float | None:
    try:
        return float(mark[1:])
    except ValueError:
        return None


def _one_rule(mark: str, rule: str) -> str:
    limit = _limit(mark)
    if limit is None:
        return f"{mark} drawn at its limit"
    if rule == "half" and mark.startswith("<"):
        return f"{mark} drawn at half the limit, {limit / 2:g}"
    return f"{mark} drawn at the limit {limit:g}"


def rule_words(marks: Iterable[str], rule: str) -> str:
    """How the censored values of a chart were drawn: ``<5 drawn at the limit 5``.

    Examples
    --------
    >>> rule_words(["<5", "<5", ">1000"], "limit")
    '<5 drawn at the limit 5; >1000 drawn at the limit 1000'
    >>> rule_words(["<5"], "half")
    '<5 drawn at half the limit, 2.5'
    """
    distinct = sorted({mark for mark in marks if mark}, key=lambda m: (m[0], _limit(m) or 0))
    if len(distinct) > _NAMED_LIMITS:
        halves = rule == "half" and any(mark.startswith("<") for mark in distinct)
        where = "half their limit below, their limit above" if halves else "their limit"
        return f"{len(distinct)} different detection limits, values drawn at {where}"
    return "; ".join(_one_rule(mark, rule) for mark in distinct)


def legend_label(marks: Iterable[str], rule: str) -> str:
    """The legend entry of the hollow marks, naming the rule in use."""
    return f"Hollow: beyond a detection limit ({rule_words(marks, rule)})"


def pair_marks(frame: pd.DataFrame) -> pd.Series:
    """A short label per pair: ``<5 → <5`` (both), ``from <5``, ``to >1000`` or "".

    Reads ``baseline_censored`` and ``follow_up_censored`` (blank when missing).
    """
    empty = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    before = frame["baseline_censored"].fillna("") if "baseline_censored" in frame else empty
    after = frame["follow_up_censored"].fillna("") if "follow_up_censored" in frame else empty
    labels = []
    for b, f in zip(before.astype(str).tolist(), after.astype(str).tolist(), strict=True):
        if b and f:
            labels.append(f"{b} → {f}")
        elif b:
            labels.append(f"from {b}")
        elif f:
            labels.append(f"to {f}")
        else:
            labels.append("")
    return pd.Series(labels, index=frame.index, dtype=object)


def censored_rows(frame: pd.DataFrame, field: str = CENSORED) -> pd.DataFrame:
    """The rows of ``frame`` whose ``field`` holds a censored mark."""
    if field not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame[field].fillna("").astype(str) != ""]


def hollow_when_censored(field: str = CENSORED) -> dict[str, Any]:
    """Encodings that draw a censored row light and outlined (a bar or a filled mark)."""
    censored = f"datum['{field}'] != ''"
    return {
        "fillOpacity": alt.when(censored).then(alt.value(0.18)).otherwise(alt.value(1.0)),
        "strokeDash": alt.when(censored).then(alt.value([3, 2])).otherwise(alt.value([1, 0])),
    }


def censored_overlay(
    frame: pd.DataFrame,
    x: Any,
    y: Any,
    label: str,
    *,
    field: str = CENSORED,
    text: bool = True,
    size: float = 90,
    dy: float = -11,
    dx: float = 0,
    tooltip: Sequence[alt.Tooltip] = (),
) -> list[alt.Chart]:
    """A hollow ring on each censored row (x, y as the chart draws it), its mark as a
    label, and one legend entry saying how censored values were drawn.

    Nothing when no row is censored. ``field`` holds the label text of each row.
    """
    rows = censored_rows(frame, field)
    if rows.empty:
        return []
    data = rows.assign(censored_legend=label)
    legend = alt.Legend(
        title=None,
        orient="bottom",
        symbolFillColor="white",
        symbolStrokeColor=_RING,
        symbolStrokeWidth=2,
        labelLimit=0,
    )
    ring = (
        alt.Chart(inline_data(data))
        .mark_point(filled=True, fill="white", fillOpacity=0.6, stroke=_RING, strokeWidth=2)
        .encode(
            x=x,
            y=y,
            size=alt.value(size),
            shape=alt.Shape(
                "censored_legend:N",
                scale=alt.Scale(domain=[label], range=["circle"]),
                legend=legend,
            ),
            tooltip=[*tooltip, alt.Tooltip(f"{field}:N", title="Censored (as in the file)")],
        )
    )
    layers = [ring]
    if text:
        layers.append(
            alt.Chart(inline_data(data))
            .mark_text(dy=dy, dx=dx, fontSize=10, color=_RING, align="center" if not dx else "left")
            .encode(x=x, y=y, text=f"{field}:N")
        )
    return layers
