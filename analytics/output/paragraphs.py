"""The paired comparison written as a paper's Results and Methods paragraphs.

:func:`results_paragraph` gives the patients analysed and excluded (with the reason),
mean ± SD at each time, the mean change with its CI, t(df), the exact p, d_z with its
CI, the equivalence test, the Bayes factor and the patients beyond the reference change
value; :func:`methods_paragraph` the tests used, the missing-data and censoring rule, the
multiplicity correction and the software with its versions. The Paired tests page shows
both to copy, the HTML report prints them and the ZIP bundle holds them as
``results.txt`` and ``methods.txt``. Numbers come straight from the result objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from analytics.cohort import CENSORED_RULES
from analytics.flow import excluded_sentence, pair_reasons, summarise_excluded
from analytics.labs import format_time
from analytics.panel import short_number
from analytics.plain import format_interval, format_level, format_number

if TYPE_CHECKING:
    from analytics.analysis import Selection
    from analytics.filters import FilteredCohort
    from analytics.output.view import ViewOutputs
    from analytics.settings import AnalysisSettings
    from analytics.stats.paired import PairedResult

__all__ = ["exact_p", "methods_paragraph", "paragraphs", "results_paragraph"]

#: Significant digits of the numbers in the paragraphs (p-values: see :func:`exact_p`).
DIGITS = 3


def exact_p(p: float) -> str:
    """An exact p for a paper: ``p = 0.0215``, ``p = 0.00115``, ``p = 3.2 × 10⁻⁶``.

    >>> exact_p(0.02149), exact_p(0.000003212)
    ('p = 0.0215', 'p = 3.21 × 10^-6')
    """
    if p >= 0.001:
        return f"p = {float(f'{p:.3g}'):g}"
    mantissa, exponent = f"{p:.2e}".split("e")
    return f"p = {float(mantissa):g} × 10^{int(exponent)}"


def _n(value: float) -> str:
    return format_number(value, digits=DIGITS)


def _signed(value: float) -> str:
    return format_number(value, digits=DIGITS, signed=True)


def results_paragraph(
    paired: PairedResult,
    selection: Selection,
    *,
    n_selected: int | None = None,
    excluded_text: str = "",
) -> str:
    """The Results paragraph of one paired comparison.

    ``n_selected`` is the number of patients the filters kept; ``excluded_text`` says
    who was not analysed and why (default: the excluded patients listed with reasons).
    """
    u = f" {selection.unit}" if selection.unit else ""
    t0, t1 = format_time(selection.baseline), format_time(selection.follow_up)
    level = format_level(paired.confidence)
    parts = []
    of = f"Of {n_selected} patients, " if n_selected is not None else ""
    if n_selected == paired.n_pairs and not paired.excluded:
        of = "All " if n_selected > 1 else ""
    who = f"{of}{paired.n_pairs} had {selection.name} at both {t0} and {t1} and were analysed"
    if paired.excluded:
        why = excluded_text or "; ".join(f"{pid}: {reason}" for pid, reason in paired.excluded)
        who += f"; {paired.n_excluded} were not ({why.rstrip('.')})"
    parts.append(who + ".")
    parts.append(
        f"{selection.name} was {_n(paired.baseline_mean)} ± {_n(paired.baseline_sd)}{u} "
        f"(mean ± SD) at {t0} and {_n(paired.follow_up_mean)} ± {_n(paired.follow_up_sd)}{u} "
        f"at {t1}."
    )
    parts.append(
        f"The mean change (follow-up − baseline) was {_signed(paired.mean_change)}{u} "
        f"({level} CI {format_interval(paired.ci_low, paired.ci_high, digits=DIGITS, signed=True)}"
        f"{u}; paired t({paired.df}) = {_n(paired.t)}, {exact_p(paired.p_two_sided)}), "
        f"d_z = {_n(paired.cohen_dz)} ({level} CI "
        f"{format_interval(paired.dz_ci_low, paired.dz_ci_high, digits=DIGITS, signed=True)})."
    )
    parts.extend(_evidence_sentences(paired, u))
    if paired.censored_note:
        parts.append(paired.censored_note)
    return " ".join(parts)


def _evidence_sentences(paired: PairedResult, u: str) -> list[str]:
    parts = []
    eq = paired.equivalence
    if eq is not None:
        shown = "was" if eq.equivalent else "was not"
        parts.append(
            f"Against an equivalence margin of ±{short_number(eq.margin)}{u}, "
            f"the two one-sided tests gave {exact_p(eq.p)} ({format_level(eq.confidence)} CI "
            f"{format_interval(eq.ci_low, eq.ci_high, digits=DIGITS, signed=True)}{u}): the "
            f"change {shown} shown to lie within the margin."
        )
    bayes = paired.bayes
    if bayes is not None:
        bf10 = _n(bayes.bf10) if bayes.bf10 is not None else "more than 10^307"
        parts.append(
            f"The Bayes factor was BF10 = {bf10} (BF01 = {_n(bayes.bf01)}; Cauchy prior "
            f"scale {bayes.prior_scale:.3g}), {bayes.evidence}."
        )
    rcv = paired.rcv
    if rcv is not None:
        judged = len(rcv.patients) - rcv.n_undecided
        parts.append(
            f"{rcv.n_rise + rcv.n_fall} of {judged} patients changed by more than the reference "
            f"change value ({rcv.n_rise} rose by more than "
            f"{format_number(rcv.rise_limit_percent, digits=DIGITS)} %, {rcv.n_fall} fell by "
            f"more than {format_number(-rcv.fall_limit_percent, digits=DIGITS)} %)"
            + (f"; {rcv.n_undecided} could not be judged." if rcv.n_undecided else ".")
        )
    return parts


def methods_paragraph(
    paired: PairedResult,
    selection: Selection,
    analysis: AnalysisSettings,
    versions: Mapping[str, str | None],
    *,
    family: str | None = None,
) -> str:
    """The Methods paragraph: tests, missing data and censoring, multiplicity, software."""
    level = format_level(paired.confidence)
    parts = [
        "Change was follow-up − baseline for each patient with both values (complete "
        "pairs); patients without either value were excluded and are listed. "
        f"Values beyond a detection limit: {CENSORED_RULES[analysis.censored]}.",
        f"The mean change was tested with the paired t-test (two-sided, alpha {paired.alpha:g}) "
        f"with its {level} confidence interval; the effect size is Cohen's d_z (mean change / "
        "SD of the changes) with its interval from the noncentral t distribution. "
        f"Sensitivity analyses: the Wilcoxon signed-rank test ({paired.wilcoxon_method}), "
        f"a sign-flip permutation test ({paired.sign_flip_method}) and a BCa bootstrap "
        "interval of the mean change.",
    ]
    parts.extend(
        _evidence_methods(paired, analysis, f" {selection.unit}" if selection.unit else "")
    )
    multiplicity = (
        "The comparison of the two chosen time points is a single prespecified test and "
        "is not adjusted for multiplicity"
    )
    if family:
        multiplicity += "; the comparisons of every time point against baseline are " + (
            f"Holm-adjusted within the lab (family: {family})"
        )
    parts.append(multiplicity + ".")
    parts.append(_software(versions))
    return " ".join(parts)


def _evidence_methods(paired: PairedResult, analysis: AnalysisSettings, unit: str) -> list[str]:
    parts = []
    eq = paired.equivalence
    if eq is not None:
        source = (
            "set by the user"
            if analysis.margin is not None
            else "the lab's default meaningful change"
        )
        parts.append(
            "Equivalence was tested with two one-sided paired t-tests (TOST; Schuirmann 1987) "
            f"against a margin of ±{short_number(eq.margin)}{unit} ({source}), each at "
            f"alpha {eq.alpha:g}, with the "
            f"{format_level(eq.confidence)} confidence interval."
        )
    if paired.bayes is not None:
        parts.append(
            "The JZS Bayes factor (Rouder et al. 2009) used a Cauchy prior on d_z of scale "
            f"{paired.bayes.prior_scale:.3g}, as BayesFactor::ttestBF computes it, with its "
            "robustness at scales 0.5, 0.707, 1 and 1.414."
        )
    rcv = paired.rcv
    if rcv is not None:
        parts.append(
            "Each patient's change was compared with the log-normal reference change value "
            f"at 95 % (Fokkema et al. 2006; z = {rcv.z:g}), with an analytical CV of "
            f"{rcv.cv_analytical:g} % and a within-subject CV of {rcv.cv_within:g} % "
            f"({rcv.source.rstrip('.')})."
        )
    return parts


def _software(versions: Mapping[str, str | None]) -> str:
    names = (
        ("python", "Python"),
        ("scipy", "SciPy"),
        ("statsmodels", "statsmodels"),
        ("numpy", "NumPy"),
        ("pandas", "pandas"),
    )
    listed = ", ".join(f"{label} {versions[key]}" for key, label in names if versions.get(key))
    app = versions.get("app")
    tool = f" with sirolimus-dashboard {app}" if app else ""
    return f"Analyses were run{tool} ({listed})." if listed else f"Analyses were run{tool}."


def paragraphs(outputs: ViewOutputs) -> tuple[str, str] | None:
    """(results, methods) of a view with a lab; None for the all-labs view."""
    from analytics.output.files import versions

    paired, selection = outputs.paired, outputs.selection
    if paired is None or selection is None:
        return None
    filtered: FilteredCohort = outputs.filtered
    cohort = filtered.cohort
    reasons = pair_reasons(cohort, selection, outputs.analysis.censored)
    groups = summarise_excluded(paired.excluded, cohort.patients, reasons)
    excluded = excluded_sentence(groups, what="").lstrip(" —")
    results = results_paragraph(
        paired, selection, n_selected=cohort.n_patients, excluded_text=excluded
    )
    family = outputs.timecourse.family if outputs.timecourse is not None else None
    methods = methods_paragraph(paired, selection, outputs.analysis, versions(), family=family)
    return results, methods
