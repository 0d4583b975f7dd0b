"""Visit windows: the stated rules that turn dated results into study time points.

A hospital exports one row per result with its collection date. Each result is placed
on the days since the patient's start date (day 0 is the day the drug started), and
each study time point takes one value by its window:

- **baseline** (month 0): the *last* value from ``baseline_days`` days before the
  start up to the start day itself (default day −30 to day 0);
- **month m**: the value *closest* to day ``round(30.4375 · m)`` within
  ``± window_days`` days (default 15), never before day 1; on a tie, the earlier;
- **w weeks** (a time given in weeks, ``2w``): the same, around day ``7 · w``.

A result is used for one time point only: when it is the choice of two, it goes to
the time point whose target day is nearer (the earlier on a tie) and the other takes
its next choice. :class:`VisitWindows` holds the choices (time points, days, the start
date column, the date order); the command line's ``--anchor``, ``--anchor-file``,
``--times``, ``--window-days``, ``--baseline-days`` and ``--date-order`` set them
(:mod:`analytics.window_options`).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from analytics.errors import InputError
from analytics.labs import format_time, parse_time

__all__ = [
    "DAYS_PER_MONTH",
    "DEFAULT_TIMES",
    "VisitWindows",
    "WindowRule",
    "parse_times",
]

#: Days in a month on average (365.25 / 12).
DAYS_PER_MONTH = 30.4375
#: Time points when none are listed: the study's retrospective chart review.
DEFAULT_TIMES = ("0", "2", "6")
#: Largest window and baseline, in days.
MAX_WINDOW_DAYS = 366
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class WindowRule:
    """The window of one time point, in days since the start (day 0 = the start day).

    ``kind`` is ``"last"`` (baseline: the last value from ``from_day`` to ``to_day``)
    or ``"closest"`` (the value closest to ``target_day`` from ``from_day`` to
    ``to_day``; on a tie, the earlier).
    """

    time: float
    label: str
    kind: str
    target_day: int
    from_day: int
    to_day: int

    def describe(self) -> str:
        """The rule in words, e.g. ``month 2: the value closest to day 61 …``."""
        span = f"from day {self.from_day} to day {self.to_day}"
        if self.kind == "last":
            return f"{self.label}: the last value {span} (day 0 is the start day)"
        closest = f"the value closest to day {self.target_day}"
        return f"{self.label}: {closest}, {span}; on a tie, the earlier"

    def to_dict(self) -> dict[str, object]:
        return {
            "time": self.time,
            "label": self.label,
            "rule": "last value" if self.kind == "last" else "closest value",
            "target_day": self.target_day,
            "from_day": self.from_day,
            "to_day": self.to_day,
        }


def _target_day(months: float, in_weeks: bool) -> int:
    if in_weeks:
        return math.floor(months * 4 * 7 + 0.5)  # a week is 7 days (labs: 4 weeks = 1 month)
    return math.floor(months * DAYS_PER_MONTH + 0.5)


def _days(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InputError(f"The {name} must be a whole number of days, not {value!r}.")
    if not 0 <= value <= MAX_WINDOW_DAYS:
        raise InputError(f"The {name} must be between 0 and {MAX_WINDOW_DAYS} days, not {value}.")
    return int(value)


@dataclass(frozen=True)
class VisitWindows:
    """The choices that window dated results into time points.

    Attributes
    ----------
    times : tuple of str
        The time points as written (``"0"``, ``"2w"``, ``"6"``); empty for the default,
        :data:`DEFAULT_TIMES`.
    window_days : int
        Half-width of each follow-up window, in days.
    baseline_days : int
        How many days before the start the baseline window begins.
    anchor : str
        The start-date column the user named (``""``: recognised by its header).
    date_order : str
        ``"dmy"`` or ``"mdy"`` as the user chose it; ``""`` to settle it from the data.

    Examples
    --------
    >>> windows = VisitWindows(times=("0", "2w", "1", "2"))
    >>> [rule.describe() for rule in windows.rules()][:2]  # doctest: +NORMALIZE_WHITESPACE
    ['month 0: the last value from day -30 to day 0 (day 0 is the start day)',
     '2 weeks: the value closest to day 14, from day 1 to day 29; on a tie, the earlier']
    >>> [(r.target_day, r.from_day, r.to_day) for r in VisitWindows().rules()]
    [(0, -30, 0), (61, 46, 76), (183, 168, 198)]
    """

    times: tuple[str, ...] = ()
    window_days: int = 15
    baseline_days: int = 30
    anchor: str = ""
    date_order: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "window_days", _days("window", self.window_days))
        object.__setattr__(self, "baseline_days", _days("baseline window", self.baseline_days))
        if self.date_order not in ("", "dmy", "mdy"):
            raise InputError(f"The date order is dmy or mdy, not '{self.date_order}'.")
        object.__setattr__(self, "times", tuple(str(t).strip() for t in self.times))
        self.rules()  # refuse bad time points now, not when the file is read

    @property
    def is_default_times(self) -> bool:
        return not self.times

    def time_tokens(self) -> tuple[str, ...]:
        return self.times or DEFAULT_TIMES

    def rules(self) -> tuple[WindowRule, ...]:
        """One :class:`WindowRule` per time point, in time order."""
        rules: dict[float, WindowRule] = {}
        for token in self.time_tokens():
            parsed = parse_time(token)
            if token.startswith(("-", "−")):  # the time reader takes a dash for a space
                parsed = (-1.0, token)
            if parsed is None:
                raise InputError(f"'{token}' is not a time point (e.g. 0, 2w, 1, 2, 6).")
            months, label = parsed
            if months < 0 or not math.isfinite(months) or months > 120:
                raise InputError(f"The time point '{token}' must be between 0 and 120 months.")
            if months in rules:
                raise InputError(f"The time point '{token}' is listed twice.")
            rules[months] = self._rule(months, label.endswith("weeks"))
        return tuple(rules[t] for t in sorted(rules))

    def _rule(self, months: float, in_weeks: bool) -> WindowRule:
        label = format_time(months)
        if months == 0:
            return WindowRule(0.0, label, "last", 0, -self.baseline_days, 0)
        target = _target_day(months, in_weeks)
        low = max(target - self.window_days, 1)
        return WindowRule(months, label, "closest", target, low, target + self.window_days)

    def times_text(self) -> str:
        """The time points as the user writes them: ``0, 2, 6``."""
        return ", ".join(self.time_tokens())

    def args(self, anchor: str = "", anchor_file: str = "") -> list[str]:
        """The command-line words that give these windows (every rule written out)."""
        words = []
        if anchor or self.anchor:
            words += ["--anchor", anchor or self.anchor]
        if anchor_file:
            words += ["--anchor-file", anchor_file]
        words += ["--times", ",".join(self.time_tokens())]
        words += [
            "--window-days",
            str(self.window_days),
            "--baseline-days",
            str(self.baseline_days),
        ]
        if self.date_order:
            words += ["--date-order", self.date_order]
        return words

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        out["times"] = list(self.time_tokens())
        out["default_times"] = self.is_default_times
        out["rules"] = [rule.to_dict() for rule in self.rules()]
        return out


def parse_times(text: str) -> tuple[str, ...]:
    """``"0, 2w, 1, 2"`` as its time tokens (commas, semicolons or spaces between them)."""
    return tuple(token for token in _SEPARATORS.split(text.strip()) if token)
