"""The numerical core of the mixed model: REML fit and Satterthwaite degrees of freedom.

The model is ``value ~ time (as categories) + (1 | patient)``: fixed effects in
treatment coding (an intercept for the baseline, one difference per later time) and a
random intercept per patient. Every quantity is computed from per-patient sums, so the
cost is linear in the number of values and patients.

The variance parameters are those of lme4 and lmerTest: the relative standard
deviation :math:`\\theta = \\sigma_{patient} / \\sigma` and the residual
:math:`\\sigma`. lmerTest (``as_lmerModLT`` in ``R/lmer.R``) takes the Hessian of the
REML deviance and the Jacobian of the covariance of the fixed effects in these two
parameters numerically (numDeriv); here both are computed analytically, which agrees
to the accuracy of numDeriv's Richardson extrapolation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = [
    "BOUNDARY_THETA",
    "Design",
    "FitProblem",
    "RemlFit",
    "fit_reml",
    "fstat_ddf",
    "make_design",
    "type1_rows",
]

#: Below this relative SD (sigma_patient / sigma) the fit is on the boundary, as lme4's
#: ``isSingular(tol = 1e-4)`` decides.
BOUNDARY_THETA = 1e-4

#: The grid of theta searched before the refinement: 0, then 10^-3 .. 10^4.
_GRID = np.concatenate(([0.0], np.logspace(-3.0, 4.0, 71)))


class FitProblem(Exception):
    """The model cannot be fitted; the message says why, in words."""


@dataclass(frozen=True)
class Design:
    """The data of one fit, standardised: ``(value - centre) / scale``.

    ``counts`` (m) are the values per patient, ``patient_x`` (m × p) the column sums
    of the design matrix per patient, ``patient_y`` (m) the value sums per patient.
    """

    x: np.ndarray
    y: np.ndarray
    patient: np.ndarray
    counts: np.ndarray
    patient_x: np.ndarray
    patient_y: np.ndarray
    xtx: np.ndarray
    xty: np.ndarray
    centre: float
    scale: float

    @property
    def n_values(self) -> int:
        return len(self.y)

    @property
    def n_fixed(self) -> int:
        return self.x.shape[1]


def make_design(
    values: np.ndarray, patient: np.ndarray, time_index: np.ndarray, n_times: int, reference: int
) -> Design:
    """Treatment-coded design: column 0 the intercept, then each time but ``reference``.

    ``patient`` holds codes 0..m-1 and ``time_index`` codes 0..n_times-1; every code
    must occur (the caller checks that each time has a value).
    """
    others = [t for t in range(n_times) if t != reference]
    x = np.zeros((len(values), n_times))
    x[:, 0] = 1.0
    for column, time in enumerate(others, start=1):
        x[time_index == time, column] = 1.0
    centre = float(np.mean(values))
    scale = float(np.std(values))
    if not scale > 0 or not math.isfinite(scale):
        raise FitProblem("every value is the same, so there is no variation to model")
    y = (values - centre) / scale
    m = int(patient.max()) + 1
    patient_x = np.zeros((m, n_times))
    np.add.at(patient_x, patient, x)
    return Design(
        x=x,
        y=y,
        patient=patient,
        counts=np.bincount(patient, minlength=m).astype(float),
        patient_x=patient_x,
        patient_y=np.bincount(patient, weights=y, minlength=m),
        xtx=x.T @ x,
        xty=x.T @ y,
        centre=centre,
        scale=scale,
    )


@dataclass(frozen=True)
class _Pieces:
    """A(θ) = X'V⁻¹X (V = I + θ²ZZ'), its first two θ-derivatives, b = X'V⁻¹y, log|V|.

    ``logdet_v`` holds log|V| and its first two θ-derivatives.
    """

    a: tuple[np.ndarray, np.ndarray, np.ndarray]
    b: np.ndarray
    logdet_v: tuple[float, float, float]


def _pieces(design: Design, theta: float) -> _Pieces:
    n = design.counts
    denominator = 1.0 + n * theta**2
    weights = (theta**2 / denominator, 2 * theta / denominator**2)
    weights += ((2.0 - 6.0 * n * theta**2) / denominator**3,)
    sx, sy = design.patient_x, design.patient_y
    a = tuple(-(sx.T * w) @ sx for w in weights)
    return _Pieces(
        a=(design.xtx + a[0], a[1], a[2]),
        b=design.xty - (sx.T * weights[0]) @ sy,
        logdet_v=(
            float(np.sum(np.log1p(n * theta**2))),
            float(np.sum(2 * n * theta / denominator)),
            float(np.sum(2 * n * (1 - n * theta**2) / denominator**2)),
        ),
    )


def _profiled(design: Design, theta: float) -> tuple[float, float, np.ndarray, np.ndarray]:
    """REML deviance with sigma profiled out, the residual quadratic form, beta, A."""
    pieces = _pieces(design, theta)
    a = pieces.a[0]
    sign, logdet_a = np.linalg.slogdet(a)
    if sign <= 0:
        raise FitProblem("the time points cannot be separated with these values")
    beta = np.linalg.solve(a, pieces.b)
    residual = design.y - design.x @ beta
    per_patient = np.bincount(design.patient, weights=residual, minlength=len(design.counts))
    # r'V⁻¹r per patient: r'r - w (sum r)²; np.sum, as BLAS's dot stalls on busy cores
    shrink = theta**2 / (1.0 + design.counts * theta**2)
    quadratic = float(np.sum(residual * residual)) - float(np.sum(shrink * per_patient**2))
    dof = design.n_values - design.n_fixed
    if not quadratic > 1e-24 * design.n_values:
        return -math.inf, 0.0, beta, a
    deviance = pieces.logdet_v[0] + logdet_a + dof * (1.0 + math.log(2 * math.pi * quadratic / dof))
    return deviance, quadratic, beta, a


def _deviance(design: Design, theta: float) -> float:
    return _profiled(design, theta)[0]


def _slope(design: Design, theta: float) -> float:
    """Derivative in theta of the profiled REML deviance.

    :math:`d\\log|V|/d\\theta + \\operatorname{tr}(A^{-1}A') + (N - p)\\,(r^2)'/r^2`,
    with :math:`(r^2)' = -\\sum_i w_i' e_i^2` (:math:`e_i` the sum of patient i's
    residuals).
    """
    _, quadratic, beta, a = _profiled(design, theta)
    pieces = _pieces(design, theta)
    w1 = 2 * theta / (1.0 + design.counts * theta**2) ** 2
    residual_sums = design.patient_y - design.patient_x @ beta
    slope_quadratic = -float(np.sum(w1 * residual_sums**2))
    dof = design.n_values - design.n_fixed
    trace = float(np.trace(np.linalg.solve(a, pieces.a[1])))
    return pieces.logdet_v[1] + trace + dof * slope_quadratic / quadratic


def _minimise(design: Design) -> float:
    """The theta minimising the profiled REML deviance.

    A grid over 0 and 10⁻³–10⁴ finds the lowest point; the root of the analytic slope
    between its neighbours (Brent's method) gives the minimum to machine precision.
    """
    values = np.array([_deviance(design, float(theta)) for theta in _GRID])
    if not np.all(np.isfinite(values)):
        raise FitProblem(
            "the time points explain the values exactly, leaving no variation within patients"
        )
    best = int(np.argmin(values))
    if best == len(_GRID) - 1:
        raise FitProblem(
            "the values vary between patients but hardly at all within patients once the "
            "time points are accounted for: the within-patient variance is too small next to the "
            "differences between patients to be estimated reliably"
        )
    # near zero the slope is 2 theta times the slope in theta²: its sign just above 0
    # says whether the deviance rises from the boundary
    low = float(_GRID[best - 1]) if best >= 2 else 1e-8
    high = float(_GRID[best + 1])
    slope_low, slope_high = _slope(design, low), _slope(design, high)
    if best <= 1 and slope_low >= 0:
        return 0.0
    if slope_low < 0 < slope_high:
        return float(
            optimize.brentq(
                lambda t: _slope(design, t), low, high, xtol=1e-14, rtol=1e-14, maxiter=200
            )
        )
    found = optimize.minimize_scalar(
        lambda theta: _deviance(design, theta),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-12, "maxiter": 500},
    )
    return float(found.x)


@dataclass(frozen=True)
class RemlFit:
    """The REML estimates on the standardised scale and what Satterthwaite needs.

    ``theta`` = sigma_patient / sigma; ``sigma`` the residual SD; ``beta`` the fixed
    effects; ``cov_beta`` their covariance; ``jacobian`` (2 × p × p) its derivatives
    with respect to (theta, sigma); ``cov_varpar`` the asymptotic covariance of
    (theta, sigma), twice the inverse of the Hessian of the REML deviance.
    """

    design: Design
    theta: float
    sigma: float
    beta: np.ndarray
    cov_beta: np.ndarray
    jacobian: np.ndarray
    hessian: np.ndarray
    cov_varpar: np.ndarray
    deviance: float

    @property
    def boundary(self) -> bool:
        return self.theta < BOUNDARY_THETA

    def contrast(self, row: np.ndarray) -> tuple[float, float, float]:
        """Estimate, SE (original units) and Satterthwaite df of ``row @ beta``.

        ``row`` is in the treatment coding of the design (lmerTest's ``contest1D``).
        """
        variance = float(row @ self.cov_beta @ row)
        gradient = np.array([row @ j @ row for j in self.jacobian])
        df = 2.0 * variance**2 / float(gradient @ self.cov_varpar @ gradient)
        estimate = float(row @ self.beta) * self.design.scale + row[0] * self.design.centre
        return estimate, math.sqrt(variance) * self.design.scale, df

    def f_test(self, rows: np.ndarray) -> tuple[float, int, float]:
        """F, numerator df and Satterthwaite denominator df of ``rows @ beta = 0``.

        lmerTest's ``contestMD``: the eigen-decomposition of Var(L beta) turns the
        hypothesis into q independent t statistics; F is their mean square and the
        denominator df combines their df (:func:`fstat_ddf`).
        """
        covariance = rows @ self.cov_beta @ rows.T
        eigenvalues, vectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues, vectors = eigenvalues[order], vectors[:, order]
        keep = eigenvalues > max(math.sqrt(np.finfo(float).eps) * eigenvalues[0], 0.0)
        rotated = (vectors.T @ rows)[keep]
        d = eigenvalues[keep]
        q = int(keep.sum())
        t_squared = (rotated @ self.beta) ** 2 / d
        nu = []
        for row, variance in zip(rotated, d, strict=True):
            gradient = np.array([row @ j @ row for j in self.jacobian])
            nu.append(2.0 * variance**2 / float(gradient @ self.cov_varpar @ gradient))
        return float(np.sum(t_squared) / q), q, fstat_ddf(np.array(nu))


def fstat_ddf(nu: np.ndarray, tol: float = 1e-8) -> float:
    """Denominator df of an F built from q t statistics with df ``nu`` (lmerTest).

    ``get_Fstat_ddf`` in lmerTest's ``R/contest.R``: nu itself for one statistic, their
    mean when all are equal (within ``tol``), 2 when any is at most 2, else
    :math:`2E/(E - q)` with :math:`E = \\sum \\nu_m/(\\nu_m - 2)`.
    """
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    expected = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * expected / (expected - len(nu))


def type1_rows(xtx: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The hypothesis rows lmerTest's ``anova()`` tests for the time term.

    With one term, lmerTest's type III contrasts are its type I contrasts
    (``get_contrasts_type1``): the rows of the time columns in the transposed unit
    lower-triangular factor of the Doolittle decomposition of X'X (``doolittle`` in
    ``R/contrast_utils.R``, entries below ``eps`` in size set to 0).
    """
    n = xtx.shape[0]
    lower = np.eye(n)
    upper = np.zeros((n, n))
    for i in range(n):
        upper[i, :] = xtx[i, :] - lower[i, :i] @ upper[:i, :]
        for j in range(i + 1, n):
            value = xtx[j, i] - lower[j, :i] @ upper[:i, i]
            lower[j, i] = 0.0 if abs(upper[i, i]) < eps else value / upper[i, i]
    lower[np.abs(lower) < eps] = 0.0
    return lower.T[1:, :]


def fit_reml(design: Design) -> RemlFit:
    """Fit the random-intercept model by REML and derive what Satterthwaite needs.

    Raises
    ------
    FitProblem
        When the deviance has no finite minimum (no variation within patients, or
        values fully explained by the time points).
    """
    theta = _minimise(design)
    deviance, quadratic, beta, a = _profiled(design, theta)
    dof = design.n_values - design.n_fixed
    sigma = math.sqrt(quadratic / dof)
    pieces = _pieces(design, theta)
    a_inv = np.linalg.inv(a)
    cov_beta = sigma**2 * a_inv
    # d cov(beta)/d theta = sigma² A⁻¹ (-A') A⁻¹ and d cov(beta)/d sigma = 2 sigma A⁻¹
    jacobian = np.stack([-(sigma**2) * a_inv @ pieces.a[1] @ a_inv, 2.0 * sigma * a_inv])
    hessian = _hessian(design, theta, pieces, a_inv, beta, sigma)
    eigenvalues, vectors = np.linalg.eigh(hessian)
    positive = eigenvalues > 1e-8
    inverse = (vectors[:, positive] / eigenvalues[positive]) @ vectors[:, positive].T
    return RemlFit(
        design=design,
        theta=theta,
        sigma=sigma,
        beta=beta,
        cov_beta=cov_beta,
        jacobian=jacobian,
        hessian=hessian,
        cov_varpar=2.0 * inverse,
        deviance=deviance,
    )


def _hessian(
    design: Design,
    theta: float,
    pieces: _Pieces,
    a_inv: np.ndarray,
    beta: np.ndarray,
    sigma: float,
) -> np.ndarray:
    """Hessian in (theta, sigma) of the REML deviance.

    :math:`D = \\log|V_\\theta| + \\log|A| + r^2/\\sigma^2 + (N-p)\\log(2\\pi\\sigma^2)`
    with :math:`r^2 = c - b'A^{-1}b` (lmerTest's ``devfun_vp``). With :math:`e_i` the
    sum of patient i's residuals and :math:`w_i = \\theta^2/(1 + n_i\\theta^2)`,
    :math:`dr^2/d\\theta = -\\sum w_i' e_i^2` and
    :math:`d^2r^2/d\\theta^2 = -\\sum w_i'' e_i^2 - 2\\beta'^T A \\beta'`, where
    :math:`\\beta' = -A^{-1}\\sum w_i' s_i e_i` is the derivative of beta.
    """
    _, a1, a2 = pieces.a
    n = design.counts
    denominator = 1.0 + n * theta**2
    w1 = 2 * theta / denominator**2
    w2 = (2.0 - 6.0 * n * theta**2) / denominator**3
    residual_sums = design.patient_y - design.patient_x @ beta
    beta1 = -a_inv @ (design.patient_x.T @ (w1 * residual_sums))
    r1 = -float(np.sum(w1 * residual_sums**2))
    r2 = -float(np.sum(w2 * residual_sums**2)) - 2.0 * float(beta1 @ pieces.a[0] @ beta1)
    logdet_a2 = float(np.trace(a_inv @ a2) - np.trace(a_inv @ a1 @ a_inv @ a1))
    dof = design.n_values - design.n_fixed
    quadratic = dof * sigma**2
    theta_theta = pieces.logdet_v[2] + logdet_a2 + r2 / sigma**2
    theta_sigma = -2.0 * r1 / sigma**3
    sigma_sigma = 6.0 * quadratic / sigma**4 - 2.0 * dof / sigma**2
    return np.array([[theta_theta, theta_sigma], [theta_sigma, sigma_sigma]])
