"""The README's table of labs, made from the catalogue in :mod:`analytics.labs`.

``python -m analytics.lab_table`` prints it; a test keeps the README's copy equal.
"""

from __future__ import annotations

from analytics.labs import LABS, Lab

__all__ = ["markdown_table"]


def _number(value: float) -> str:
    return f"{value:,g}"


def _table_row(lab: Lab) -> str:
    others = [f"{u} = {lab.unit} × {f:.4g}" for u, f in lab.conversions.items() if u != lab.unit]
    ranges = [f"{_number(lo)}–{_number(hi)} {u}" for u, (lo, hi) in lab.plausible.items()]
    change = f"{lab.meaningful_change:g} {lab.unit}" if lab.meaningful_change else "—"
    variation = "—"
    if lab.cv_within is not None and lab.cv_analytical is not None:
        variation = f"{lab.cv_within:g} % / {lab.cv_analytical:g} %"
    cells = (
        f"{lab.name} (`{lab.key}`)",
        ", ".join(f"`{s}`" for s in lab.synonyms),
        lab.unit,
        "; ".join(others) or "—",
        "; ".join(ranges),
        change,
        "yes" if lab.log_scale else "",
        ", ".join(lab.thresholds),
        variation,
    )
    return "| " + " | ".join(cells) + " |"


def markdown_table() -> str:
    """The README's table of labs, made from the catalogue (a test keeps them equal).

    Examples
    --------
    >>> print(markdown_table().splitlines()[2])  # doctest: +NORMALIZE_WHITESPACE
    | Hemoglobin (`hgb`) | `hgb`, `hb`, `hemoglobin`, `haemoglobin` | g/dL |
    g/L = g/dL × 10; mmol/L = g/dL × 0.6206 | 3–25 g/dL; 30–250 g/L; 1.8–15.5 mmol/L |
    1 g/dL | | anemia | 2.8 % / 1.4 % |
    """
    header = (
        "| lab (key) | names recognised (any case) | conventional unit "
        "| other units, converted | plausible range "
        "| default meaningful change | log scale | thresholds "
        "| biological variation CVi / CVa |"
    )
    rule = "|" + "---|" * 9
    return "\n".join([header, rule, *(_table_row(lab) for lab in LABS.values())])


if __name__ == "__main__":  # python -m analytics.lab_table prints the README's table
    print(markdown_table())
