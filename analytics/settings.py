"""The choices behind a view: how to analyse, and how to draw (and how dated results
were windowed into time points: :class:`VisitWindows`, chosen when the file is read).

:class:`AnalysisSettings` changes numbers (significance and confidence levels, the
rule for censored values, the age cut-off, the clinical thresholds, the equivalence
margin, the prior of the Bayes factor, the CVs of the reference change value);
:class:`ChartOptions` changes only how a chart looks (colour, order, direction,
band, subgroups of the forest plot, complete cases of the trajectories, the power
curve's effect). Both are frozen, so they can be cached,
compared and passed whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from analytics.analysis import SPLITS
from analytics.cohort import CENSORED_RULES
from analytics.errors import AnalysisError
from analytics.limits import LIMITS
from analytics.reading.window_rules import VisitWindows
from analytics.stats.bayes import DEFAULT_PRIOR_SCALE, check_prior_scale
from analytics.stats.equivalence import check_margin
from analytics.stats.prevalence import Thresholds
from analytics.stats.rcv import check_cv

__all__ = ["AnalysisSettings", "ChartOptions", "VisitWindows"]


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


@dataclass(frozen=True)
class AnalysisSettings:
    """How every number of a view is computed.

    Attributes
    ----------
    alpha : float
        Significance level (tests, power).
    confidence : float
        Confidence level of every interval.
    censored : str
        How values beyond a detection limit enter (see
        :data:`analytics.cohort.CENSORED_RULES`).
    age_cutoff : float
        Age (years) below which a patient without a recorded age group is pediatric.
    thresholds : Thresholds
        Anemia and microcytosis thresholds.
    margin : float, optional
        Equivalence margin of the selected lab, in the file's unit of that lab; None:
        the lab's default meaningful change (``Lab.equivalence_margin``, converted).
    prior_scale : float
        Scale of the Cauchy prior on d_z of the Bayes factor (default √2/2).
    cv_analytical, cv_within : float, optional
        Analytical and within-subject biological CV (%) of the selected lab for the
        reference change value; None: the catalogue's (``Lab.cv_analytical``,
        ``Lab.cv_within``).

    Examples
    --------
    >>> settings = AnalysisSettings(alpha=0.1, censored="half")
    >>> settings.confidence
    0.95
    >>> settings.args()
    ['--alpha', '0.1', '--censored', 'half']
    >>> AnalysisSettings(margin=2, cv_within=3.5).evidence_args()
    ['--margin', '2', '--cv-within', '3.5']
    >>> AnalysisSettings(alpha=1.5)
    Traceback (most recent call last):
    ...
    analytics.errors.AnalysisError: The alpha must lie strictly between 0 and 1, not 1.5.
    """

    alpha: float = 0.05
    confidence: float = 0.95
    censored: str = "limit"
    age_cutoff: float = float(LIMITS["default_age_cutoff"].value)
    thresholds: Thresholds = field(default_factory=Thresholds)
    margin: float | None = None
    prior_scale: float = DEFAULT_PRIOR_SCALE
    cv_analytical: float | None = None
    cv_within: float | None = None

    def __post_init__(self) -> None:
        if self.censored not in CENSORED_RULES:
            raise AnalysisError(f"Unknown rule for censored values: {self.censored!r}.")
        for name in ("alpha", "confidence"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 < value < 1:
                raise AnalysisError(f"The {name} must lie strictly between 0 and 1, not {value}.")
        if not 0 < self.age_cutoff < 120:
            raise AnalysisError("The age cut-off must be between 0 and 120 years.")
        if not isinstance(self.thresholds, Thresholds):
            raise AnalysisError("Thresholds must be a Thresholds object.")
        if self.margin is not None:
            check_margin(self.margin)
        check_prior_scale(self.prior_scale)
        if self.cv_analytical is not None:
            check_cv(self.cv_analytical, "analytical CV")
        if self.cv_within is not None:
            check_cv(self.cv_within, "within-subject CV")

    def args(self) -> list[str]:
        """The command-line words for the levels and the censored rule (none at defaults)."""
        words: list[str] = []
        if self.alpha != 0.05:
            words += ["--alpha", f"{self.alpha:g}"]
        if self.confidence != 0.95:
            words += ["--confidence", f"{self.confidence:g}"]
        if self.censored != "limit":
            words += ["--censored", self.censored]
        return words

    def evidence_args(self) -> list[str]:
        """``--margin``, ``--prior-scale``, ``--cv-analytical``, ``--cv-within`` as set
        (none at defaults); the commands of one lab's comparison take them."""
        words: list[str] = []
        if self.margin is not None:
            words += ["--margin", f"{self.margin:.10g}"]
        if self.prior_scale != DEFAULT_PRIOR_SCALE:
            words += ["--prior-scale", f"{self.prior_scale:.10g}"]
        if self.cv_analytical is not None:
            words += ["--cv-analytical", f"{self.cv_analytical:.10g}"]
        if self.cv_within is not None:
            words += ["--cv-within", f"{self.cv_within:.10g}"]
        return words

    def threshold_args(self) -> list[str]:
        """``--threshold NAME=VALUE`` for each threshold changed from its default."""
        defaults = asdict(Thresholds())
        words: list[str] = []
        for name, value in asdict(self.thresholds).items():
            if value != defaults[name]:
                words += ["--threshold", f"{name}={value:g}"]
        return words


@dataclass(frozen=True)
class ChartOptions:
    """How a chart is drawn; no number of the view depends on these.

    Attributes
    ----------
    color_by : {None, "sex", "iron", "age_group", "cohort", "epo"}
        Colour the change bars by this patient attribute.
    sort : bool
        Change bars sorted by the change (a waterfall) instead of in patient order.
    flip : bool
        Plot baseline − follow-up (as the thesis did) in the change bars, the
        mean-difference plot and the forest plot; the axis title says so. The other
        charts show values, or a distribution whose shape does not depend on the sign.
    band : float, optional
        Shade ± this change (lab units) on the change bars: smaller than a clinically
        meaningful change.
    split : str
        Subgroups of the forest plot, a key of :data:`analytics.analysis.SPLITS`.
    complete_cases : bool
        The trajectory chart shows only the patients with a value at every time point,
        so its mean line follows the same patients throughout.
    observed_power : bool
        The power curve is drawn at the observed effect (post-hoc power, with its
        caveat) instead of at the meaningful change; off unless asked for.

    Examples
    --------
    >>> options = ChartOptions(color_by="sex", flip=True)
    >>> options.args()
    ['--color-by', 'sex', '--flip']
    >>> ChartOptions(complete_cases=True, observed_power=True).args()
    ['--complete-cases', '--observed-power']
    >>> ChartOptions().split
    'sex'
    """

    color_by: str | None = None
    sort: bool = False
    flip: bool = False
    band: float | None = None
    split: str = "sex"
    complete_cases: bool = False
    observed_power: bool = False

    def __post_init__(self) -> None:
        choices = ", ".join(SPLITS)
        if self.color_by is not None and self.color_by not in SPLITS:
            raise AnalysisError(f"Cannot colour by '{self.color_by}'; use one of {choices}.")
        if self.split not in SPLITS:
            raise AnalysisError(f"Unknown subgroup split '{self.split}'; use one of {choices}.")
        if self.band is not None and (not _is_number(self.band) or not self.band > 0):
            raise AnalysisError("The meaningful-change band must be a positive number.")

    def args(self) -> list[str]:
        """The command-line words for these options (none at defaults)."""
        words: list[str] = []
        if self.color_by:
            words += ["--color-by", self.color_by]
        if self.sort:
            words += ["--sort"]
        if self.flip:
            words += ["--flip"]
        if self.band:
            words += ["--band", f"{self.band:g}"]
        if self.split != "sex":
            words += ["--split", self.split]
        if self.complete_cases:
            words += ["--complete-cases"]
        if self.observed_power:
            words += ["--observed-power"]
        return words
