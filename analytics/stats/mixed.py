"""A linear mixed model on every available value, with Satterthwaite degrees of freedom.

``value ~ time (as categories) + (1 | patient)``, fitted by REML, is what R's
``lmerTest::lmer(value ~ factor(time) + (1 | patient))`` fits. A patient missing some
time points still contributes the values they have, where the complete-case Friedman
test and repeated-measures ANOVA leave them out. Inference uses t and F references
with Satterthwaite degrees of freedom computed as lmerTest computes them
(``summary()``, ``contest()``, ``anova()``), never the z statistics of statsmodels'
``MixedLM``, which are far too optimistic with 5–20 patients.

The numerical core (the fit, the Hessian, the df) is :mod:`analytics.stats.mixed_fit`.
Kenward–Roger degrees of freedom are not offered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import AnalysisError
from analytics.labs import format_time
from analytics.plain import format_level, jsonable
from analytics.stats.common import check_level, float_array, holm_adjust, quantity_frame
from analytics.stats.mixed_fit import FitProblem, RemlFit, fit_reml, make_design, type1_rows

__all__ = [
    "MIXED_METHOD",
    "MixedContrast",
    "MixedMean",
    "MixedModelResult",
    "MixedOmnibus",
    "mixed_model",
    "mixed_model_not_fitted",
]

#: The model, in words, as every output names it.
MIXED_METHOD = (
    "Linear mixed model (REML): value ~ time as categories + random intercept per patient"
)
_DF_METHOD = "Satterthwaite"


@dataclass(frozen=True)
class MixedMean:
    """The model's estimated mean at one time point (t-based CI on Satterthwaite df)."""

    time: float
    label: str
    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys: time, estimate, se, df, ci_low, ci_high."""
        keys = ("time", "estimate", "se", "df", "ci_low", "ci_high")
        return {key: jsonable(getattr(self, key)) for key in keys}


@dataclass(frozen=True)
class MixedContrast:
    """One time point minus baseline; ``p_holm`` is Holm-adjusted over the contrasts."""

    time: float
    label: str
    estimate: float
    se: float
    df: float
    t: float
    p: float
    p_holm: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys: time, estimate, se, df, t, p, p_holm, ci_low, ci_high."""
        keys = ("time", "estimate", "se", "df", "t", "p", "p_holm", "ci_low", "ci_high")
        return {key: jsonable(getattr(self, key)) for key in keys}


@dataclass(frozen=True)
class MixedOmnibus:
    """The F test that the mean is the same at every time point."""

    f: float | None = None
    df_num: int | None = None
    df_den: float | None = None
    p: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys: f, df_num, df_den, p (None when not fitted)."""
        return {key: jsonable(getattr(self, key)) for key in ("f", "df_num", "df_den", "p")}


@dataclass(frozen=True)
class MixedModelResult:
    """The mixed model of one lab across its time points.

    Attributes
    ----------
    method, df_method : str
        The model in words and "Satterthwaite".
    fitted : bool
        False when the model could not be fitted or tested; ``note`` says why.
    boundary : bool
        True when the between-patient variance is estimated as zero.
    baseline_time, confidence
        The reference time of the contrasts and the CI level.
    n_patients, n_values, n_complete
        Patients with at least one value, the values used, and the patients with
        every time point (those the complete-case tests use).
    sd_patient, sd_residual, icc
        Between-patient and residual SD; the intraclass correlation
        sd_patient² / (sd_patient² + sd_residual²).
    omnibus : MixedOmnibus
        F for time with numerator and Satterthwaite denominator df.
    means, contrasts
        Each time's estimated mean; each later time minus baseline (Holm over them).
    family : str
        The Holm family.
    patients_partial : tuple of (patient, tuple of time labels)
        Patients who contributed some values, with the times they miss.
    patients_without_values : tuple of str
        Patients with no value of the lab (not in the model).
    note : str or None
        Why the model was not fitted or tested, in words.
    """

    method: str
    df_method: str
    fitted: bool
    boundary: bool
    baseline_time: float
    confidence: float
    n_patients: int
    n_values: int
    n_complete: int
    sd_patient: float | None
    sd_residual: float | None
    icc: float | None
    omnibus: MixedOmnibus
    means: tuple[MixedMean, ...]
    contrasts: tuple[MixedContrast, ...]
    family: str
    patients_partial: tuple[tuple[str, tuple[str, ...]], ...]
    patients_without_values: tuple[str, ...]
    note: str | None

    def sentence(self) -> str:
        """What the model uses, in words, e.g. "uses 19 values from 5 patients, 1 of them
        (P03) with a missing month-1 value", and what the complete-case tests use."""
        values = "value" if self.n_values == 1 else "values"
        patients = "patient" if self.n_patients == 1 else "patients"
        text = f"The mixed model uses {self.n_values} {values} from {self.n_patients} {patients}"
        if not self.patients_partial:
            return text + ", none with a missing value."
        text += ", " + _partial_words(self.patients_partial)
        tests = "the complete-case tests (Friedman, repeated-measures ANOVA)"
        if self.n_complete < 2:
            has = "has" if self.n_complete == 1 else "have"
            return (
                f"{text}; {tests} need at least 2 patients with every time point, and "
                f"{self.n_complete} {has} them."
            )
        return f"{text}; {tests} use only the {self.n_complete} patients with every time point."

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the keys of ``timecourse --json``'s ``mixed_model``, unrounded."""
        return {
            "method": self.method,
            "df_method": self.df_method,
            "fitted": self.fitted,
            "boundary": self.boundary,
            "baseline": self.baseline_time,
            "confidence": self.confidence,
            "n_patients": self.n_patients,
            "n_values": self.n_values,
            "n_complete": self.n_complete,
            "sd_patient": jsonable(self.sd_patient),
            "sd_residual": jsonable(self.sd_residual),
            "icc": jsonable(self.icc),
            "omnibus": self.omnibus.to_dict(),
            "means": [mean.to_dict() for mean in self.means],
            "contrasts": [contrast.to_dict() for contrast in self.contrasts],
            "family": self.family,
            "patients_partial": [
                {"patient": patient, "missing": list(missing)}
                for patient, missing in self.patients_partial
            ],
            "patients_without_values": list(self.patients_without_values),
            "note": self.note,
            "sentence": self.sentence(),
        }

    def summary_frame(self) -> pd.DataFrame:
        """The model as ``quantity``/``label``/``value`` rows: counts, variances, F, note."""
        partial = "; ".join(
            f"{pid} (no {' or '.join(times)})" for pid, times in self.patients_partial
        )
        rows = [
            ("method", "Model", self.method),
            ("df_method", "Degrees of freedom", self.df_method),
            ("n_patients", "Patients with at least one value", self.n_patients),
            ("n_values", "Values used", self.n_values),
            ("n_complete", "Patients with every time point", self.n_complete),
            ("patients_partial", "Patients with some values missing", partial or None),
            ("sd_patient", "SD between patients", self.sd_patient),
            ("sd_residual", "SD within patients (residual)", self.sd_residual),
            ("icc", "Intraclass correlation", self.icc),
            ("f", "F for time", self.omnibus.f),
            ("df_num", "F numerator df", self.omnibus.df_num),
            ("df_den", "F denominator df (Satterthwaite)", self.omnibus.df_den),
            ("p", "F p", self.omnibus.p),
            ("family", "Holm family", self.family),
            ("note", "Note", self.note),
        ]
        return quantity_frame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per time: the model's mean (SE, df, CI) and its change from baseline
        (estimate, SE, df, t, p, Holm p, CI); the change columns are empty at baseline."""
        level = format_level(self.confidence)
        contrasts = {c.time: c for c in self.contrasts}
        rows = []
        for mean in self.means:
            contrast = contrasts.get(mean.time)
            row: dict[str, Any] = {
                "time": mean.label,
                "months": mean.time,
                "mean": mean.estimate,
                "SE": mean.se,
                "df": mean.df,
                f"{level} CI low": mean.ci_low,
                f"{level} CI high": mean.ci_high,
            }
            names = {
                "estimate": "change",
                "se": "change SE",
                "df": "change df",
                "t": "t",
                "p": "p",
                "p_holm": "p_holm",
                "ci_low": f"change {level} CI low",
                "ci_high": f"change {level} CI high",
            }
            for key, name in names.items():
                row[name] = None if contrast is None else getattr(contrast, key)
            rows.append(row)
        return pd.DataFrame(rows)


def _adjective(label: str) -> str:
    """``month 1`` -> ``month-1``, ``2 weeks`` -> ``2-week`` (as in "a month-1 value")."""
    number, _, unit = label.partition(" ")
    if unit in ("week", "weeks"):
        return f"{number}-week"
    return label.replace(" ", "-")


def _partial_words(partial: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """``1 of them (P03) with a missing month-1 value``; several gaps grouped by the
    times missing, at most 5 patients named per group and 5 groups shown."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for patient, times in partial:
        groups.setdefault(times, []).append(patient)
    count = len(partial)
    if len(groups) == 1:
        [(times, ids)] = groups.items()
        return f"{count} of them ({_listed(ids)}) with {_missing_words(times)}"
    shown = [
        f"{len(ids)} with {_missing_words(times)} ({_listed(ids)})"
        for times, ids in list(groups.items())[:5]
    ]
    rest = sum(len(ids) for ids in list(groups.values())[5:])
    if rest:
        shown.append(f"{rest} with other values missing")
    return f"{count} of them with values missing: " + ", ".join(shown)


def _missing_words(times: tuple[str, ...]) -> str:
    labels = [_adjective(label) for label in times]
    if len(labels) == 1:
        return f"a missing {labels[0]} value"
    return f"missing {', '.join(labels[:-1])} and {labels[-1]} values"


def _listed(ids: list[str], limit: int = 5) -> str:
    if len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join(ids[:limit]) + f" and {len(ids) - limit} more"


# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    """The long form of the table: one entry per value present."""

    table: pd.DataFrame
    baseline: float
    values: np.ndarray
    patient: np.ndarray
    time_index: np.ndarray
    partial: tuple[tuple[str, tuple[str, ...]], ...]
    without: tuple[str, ...]
    n_complete: int


def _long_form(values: pd.DataFrame, baseline: float | None) -> _Data:
    if not isinstance(values, pd.DataFrame) or values.shape[1] < 2:
        raise AnalysisError(
            "The mixed model needs a table with one row per patient and at least 2 time columns."
        )
    try:
        times = [float(column) for column in values.columns]
    except (TypeError, ValueError) as problem:
        raise AnalysisError(
            "Each column must be a time in months (for example 0, 2, 6)."
        ) from problem
    if len(set(times)) != len(times):
        raise AnalysisError("Two columns have the same time point; each time must appear once.")
    ids = list(map(str, values.index.tolist()))
    if len(set(ids)) != len(ids):
        raise AnalysisError("A patient appears more than once; each row must be one patient.")
    columns = {
        time: float_array(values.iloc[:, position], format_time(time), ids)
        for position, time in enumerate(times)
    }
    table = pd.DataFrame(columns, index=pd.Index(ids, name="patient_id"))[sorted(times)]
    start = min(times) if baseline is None else float(baseline)
    if start not in table.columns:
        raise AnalysisError(f"The baseline {format_time(start)} is not one of the time points.")
    present = table.notna().to_numpy()
    with_values = present.any(axis=1)
    used = table[with_values]
    mask = present[with_values]
    rows, cols = np.nonzero(mask)
    partial = tuple(
        (pid, tuple(format_time(t) for t, ok in zip(table.columns, row, strict=True) if not ok))
        for pid, row in zip(used.index.tolist(), mask, strict=True)
        if not row.all()
    )
    return _Data(
        table=table,
        baseline=start,
        values=used.to_numpy(dtype=float)[rows, cols],
        patient=rows,
        time_index=cols,
        partial=partial,
        without=tuple(str(pid) for pid in table.index[~with_values]),
        n_complete=int(mask.all(axis=1).sum()),
    )


def _why_not(data: _Data) -> str | None:
    """Why these values cannot support the model, in words; None when they can."""
    counts = np.bincount(data.patient, minlength=int(data.patient.max(initial=-1)) + 1)
    repeated = int(np.sum(counts >= 2))
    if repeated < 2:
        return (
            "Not fitted: the mixed model needs at least 2 patients with 2 or more values of "
            f"this lab; here {repeated} {'has' if repeated == 1 else 'have'}."
        )
    per_time = data.table.notna().sum()
    empty = [format_time(t) for t, n in per_time.items() if n == 0]
    if empty:
        return f"Not fitted: no patient has a {' or '.join(empty)} value."
    n_values, k = len(data.values), data.table.shape[1]
    within = n_values - len(counts) - (k - 1)
    if within < 1:
        return (
            f"Not fitted: {n_values} values from {len(counts)} patients at {k} time points "
            "leave no within-patient variation to estimate the residual variance."
        )
    return None


def mixed_model_not_fitted(
    values: pd.DataFrame, note: str, baseline: float | None = None, confidence: float = 0.95
) -> MixedModelResult:
    """A result that says, in ``note``, why no model is shown (e.g. two time points)."""
    data = _long_form(values, baseline)
    return _empty(data, check_level(confidence, "confidence level"), note)


def _empty(
    data: _Data, confidence: float, note: str, fit: RemlFit | None = None
) -> MixedModelResult:
    sd_patient = sd_residual = icc = None
    if fit is not None:
        sd_residual = fit.sigma * fit.design.scale
        sd_patient = fit.theta * sd_residual
        icc = fit.theta**2 / (1.0 + fit.theta**2)
    return MixedModelResult(
        method=MIXED_METHOD,
        df_method=_DF_METHOD,
        fitted=False,
        boundary=fit is not None and fit.boundary,
        baseline_time=data.baseline,
        confidence=confidence,
        n_patients=len(data.table) - len(data.without),
        n_values=len(data.values),
        n_complete=data.n_complete,
        sd_patient=sd_patient,
        sd_residual=sd_residual,
        icc=icc,
        omnibus=MixedOmnibus(),
        means=(),
        contrasts=(),
        family="",
        patients_partial=data.partial,
        patients_without_values=data.without,
        note=note,
    )


_BOUNDARY_NOTE = (
    "Not tested: the between-patient variance is estimated as zero (a boundary fit). The "
    "patients' values are no more alike than values of different patients, so the model "
    "cannot separate the two sources of variation and its degrees of freedom are not "
    "reliable. The complete-case tests and the paired contrasts stand on their own."
)


def _columns(data: _Data) -> tuple[float, list[float]]:
    """The baseline and the later times, in the order of the design's columns."""
    return data.baseline, [t for t in data.table.columns if t != data.baseline]


def _means(fit: RemlFit, data: _Data, quantile: Any) -> tuple[MixedMean, ...]:
    p = fit.design.n_fixed
    baseline, others = _columns(data)
    rows = []
    for column, time in enumerate([baseline, *others]):
        row = np.zeros(p)
        row[0] = 1.0
        if column:
            row[column] = 1.0
        estimate, se, df = fit.contrast(row)
        half = float(quantile(df)) * se
        rows.append(
            MixedMean(
                float(time), format_time(time), estimate, se, df, estimate - half, estimate + half
            )
        )
    return tuple(sorted(rows, key=lambda mean: mean.time))


def _contrasts(fit: RemlFit, data: _Data, quantile: Any) -> tuple[MixedContrast, ...]:
    p = fit.design.n_fixed
    _, others = _columns(data)
    raw = []
    for column, time in enumerate(others, start=1):
        row = np.zeros(p)
        row[column] = 1.0
        estimate, se, df = fit.contrast(row)
        t = estimate / se
        half = float(quantile(df)) * se
        raw.append((time, estimate, se, df, t, float(2 * stats.t.sf(abs(t), df)), half))
    holm = holm_adjust(np.array([r[5] for r in raw]))
    return tuple(
        MixedContrast(
            float(time), format_time(time), estimate, se, df, t, p, float(adjusted),
            estimate - half, estimate + half,
        )
        for (time, estimate, se, df, t, p, half), adjusted in zip(raw, holm, strict=True)
    )  # fmt: skip


_holm = holm_adjust  # (the name the tests know it by)


def _fitted(data: _Data, fit: RemlFit, confidence: float) -> MixedModelResult:
    def quantile(df: float) -> float:
        return float(stats.t.ppf(0.5 + confidence / 2.0, df))

    means = _means(fit, data, quantile)
    contrasts = _contrasts(fit, data, quantile)
    f, df_num, df_den = fit.f_test(type1_rows(fit.design.xtx))
    numbers = [f, df_den, *(m.df for m in means), *(c.df for c in contrasts)]
    if not all(math.isfinite(x) and x > 0 for x in numbers[1:]) or not math.isfinite(f):
        return _empty(
            data, confidence, "Not tested: the degrees of freedom could not be computed.", fit
        )
    base = _empty(data, confidence, "", fit)
    count = len(contrasts)
    noun = "contrast" if count == 1 else "contrasts"
    return replace(
        base,
        fitted=True,
        omnibus=MixedOmnibus(f, df_num, df_den, float(stats.f.sf(f, df_num, df_den))),
        means=means,
        contrasts=contrasts,
        family=f"{count} mixed-model {noun} against {format_time(data.baseline)} (Holm)",
        note=None,
    )


def mixed_model(
    values: pd.DataFrame, baseline: float | None = None, confidence: float = 0.95
) -> MixedModelResult:
    """Fit ``value ~ time + (1 | patient)`` by REML on every value present.

    Parameters
    ----------
    values : pandas.DataFrame
        Indexed by patient; columns are times in months; NaN for missing.
    baseline : float, optional
        The reference time of the contrasts; default the earliest.
    confidence : float
        Level of the confidence intervals.

    Returns
    -------
    MixedModelResult
        With ``fitted`` False and the reason in ``note`` when the values cannot support
        the model (fewer than 2 patients with 2 values, a time point without values,
        no within-patient variation) or the fit lies on the boundary (between-patient
        variance zero, lme4's ``isSingular``: sigma_patient/sigma below 1e-4).

    Raises
    ------
    AnalysisError
        For a malformed table (non-numeric values or times, duplicates, unknown baseline).

    Notes
    -----
    Missing data: every value present is used; patients with some values missing are
    listed in ``patients_partial``; patients with none in ``patients_without_values``.

    The fit maximises the REML likelihood profiled over the residual variance in the
    one parameter theta = sigma_patient / sigma (a grid over 0 and 10⁻³–10⁴, then
    bounded Brent). Fixed effects are in treatment coding against ``baseline``.
    Means and contrasts are lmerTest's ``contest1D``: Satterthwaite df
    :math:`2\\,\\mathrm{Var}(\\hat c)^2 / (g^T A g)`, with g the gradient of the
    contrast variance in (theta, sigma) and A twice the inverse Hessian of the REML
    deviance. The F test for time is ``anova()``'s (type I = type III hypothesis with
    one term, denominator df by ``contestMD``'s eigen-decomposition). Holm over the
    contrasts against baseline.
    """
    confidence = check_level(confidence, "confidence level")
    data = _long_form(values, baseline)
    problem = _why_not(data)
    if problem is not None:
        return _empty(data, confidence, problem)
    times = list(data.table.columns)
    reference = times.index(data.baseline)
    try:
        design = make_design(data.values, data.patient, data.time_index, len(times), reference)
        fit = fit_reml(design)
    except FitProblem as problem:
        return _empty(data, confidence, f"Not fitted: {problem}.")
    if fit.boundary:
        return _empty(data, confidence, _BOUNDARY_NOTE, fit)
    return _fitted(data, fit, confidence)
