"""The mixed model in words and rounded tables: shared by the HTML report and the page.

Presentation only: numbers are rounded here for reading (2 decimals, df to 1, p as
:func:`analytics.plain.format_p`); the result and the exports keep full precision.
"""

from __future__ import annotations

from analytics.output.report_html import escape, table
from analytics.plain import format_interval, format_level, format_number, format_p
from analytics.stats.mixed import MixedModelResult

__all__ = ["f_sentence", "mixed_header", "mixed_model_section", "mixed_rows", "variance_sentence"]


def mixed_header(result: MixedModelResult, unit: str = "") -> list[str]:
    """Column headings of :func:`mixed_rows` (the CI level and the lab's unit named)."""
    level = format_level(result.confidence)
    suffix = f" ({unit})" if unit else ""
    return [
        "time",
        f"model mean{suffix} (SE)",
        f"{level} CI",
        f"change vs baseline{suffix}",
        f"{level} CI of change",
        "t",
        "df",
        "p (raw)",
        "p (Holm)",
    ]


def mixed_rows(result: MixedModelResult) -> list[list[str]]:
    """One row per time: the model's mean (SE) and CI, then the change against baseline
    with its t, Satterthwaite df and p (the means' own df are in the exports)."""
    contrasts = {c.time: c for c in result.contrasts}
    rows = []
    for mean in result.means:
        row = [
            mean.label,
            f"{format_number(mean.estimate, 2)} ({format_number(mean.se, 2, keep_small=True)})",
            format_interval(mean.ci_low, mean.ci_high, 2),
        ]
        contrast = contrasts.get(mean.time)
        if contrast is None:
            row += ["baseline", "", "", "", "", ""]
        else:
            row += [
                format_number(contrast.estimate, 2, signed=True, keep_small=True),
                format_interval(contrast.ci_low, contrast.ci_high, 2, signed=True),
                format_number(contrast.t, 2),
                format_number(contrast.df, 1),
                format_p(contrast.p),
                format_p(contrast.p_holm),
            ]
        rows.append(row)
    return rows


def f_sentence(result: MixedModelResult) -> str:
    """``F(3, 11.0) = 12.38, p = 0.000744`` for the test that the mean is the same at
    every time point."""
    omnibus = result.omnibus
    return (
        f"F({omnibus.df_num}, {format_number(omnibus.df_den, 1)}) = "
        f"{format_number(omnibus.f, 2)}, {format_p(omnibus.p, prefix=True)}"
    )


def variance_sentence(result: MixedModelResult, unit: str = "") -> str:
    """The variance components in words (the between- and within-patient SD)."""
    if result.sd_residual is None:
        return ""
    suffix = f" {unit}" if unit else ""
    return (
        f"SD between patients {format_number(result.sd_patient, 2, keep_small=True)}{suffix}, "
        f"within patients (residual) {format_number(result.sd_residual, 2)}{suffix}."
    )


def mixed_model_section(result: MixedModelResult | None, unit: str = "") -> str:
    """The report's part on the mixed model: what it uses, the F test, the table."""
    if result is None:
        return ""
    parts = [
        "<h3>Mixed model on every value</h3>",
        f"<p>{escape(result.sentence())}</p>",
    ]
    if not result.fitted:
        parts.append(
            f'<p class="note">{escape(result.note)} {escape(variance_sentence(result, unit))}</p>'
        )
        return "".join(parts)
    parts += [
        f"<p>Time: {escape(f_sentence(result))} (Satterthwaite degrees of freedom). "
        f"{escape(variance_sentence(result, unit))}</p>",
        table(mixed_header(result, unit), mixed_rows(result), [False] + [True] * 8),
        f'<p class="note">{escape(result.method)}, on every value present; '
        "t and F tests with Satterthwaite degrees of freedom, as R's lmerTest computes them. "
        f"Holm family: {escape(result.family)}.</p>",
    ]
    return "".join(parts)
