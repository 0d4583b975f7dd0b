"""Visit windows and dates: the rules in days, hand-checked window choices (ties, the
window's first and last days, the start day, day −31), the reasons for results not
used, and every way a hospital system writes a date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.errors import InputError, NeedsAnswer
from analytics.reading.dated import hospital_lab
from analytics.reading.dates import read_dates, settle_order
from analytics.reading.window_rules import VisitWindows, parse_times
from analytics.reading.windows import assign_windows, reasons

# --------------------------------------------------------------------------- the rules

RETRO = VisitWindows(times=("0", "2", "6")).rules()
PROSPECTIVE = VisitWindows(times=("0", "2w", "1", "2")).rules()


@pytest.mark.parametrize(
    ("token", "target", "first", "last"),
    [
        # hand calculation: round half up of 30.4375 · m, window ± 15, never before day 1
        ("1", 30, 15, 45),  # 30.4375
        ("2", 61, 46, 76),  # 60.875
        ("3", 91, 76, 106),  # 91.3125
        ("6", 183, 168, 198),  # 182.625
        ("24", 731, 716, 746),  # 730.5: half up, not to even
        ("2w", 14, 1, 29),  # 2 weeks of 7 days; 14 − 15 < 1, so from day 1
        ("1w", 7, 1, 22),
    ],
)
def test_follow_up_window_in_days(token, target, first, last):
    (rule,) = [r for r in VisitWindows(times=("0", token)).rules() if r.time > 0]
    assert (rule.kind, rule.target_day, rule.from_day, rule.to_day) == (
        "closest",
        target,
        first,
        last,
    )


def test_baseline_window_and_edited_days():
    rules = VisitWindows(times=("0", "2"), window_days=7, baseline_days=14).rules()
    assert [(r.kind, r.target_day, r.from_day, r.to_day) for r in rules] == [
        ("last", 0, -14, 0),
        ("closest", 61, 54, 68),
    ]


def test_default_time_points_are_the_retrospective_design():
    windows = VisitWindows()
    assert windows.is_default_times
    assert [r.time for r in windows.rules()] == [0.0, 2.0, 6.0]
    assert windows.args() == [
        "--times",
        "0,2,6",
        "--window-days",
        "15",
        "--baseline-days",
        "30",
    ]


@pytest.mark.parametrize(
    ("times", "message"),
    [
        (("0", "soon"), "'soon' is not a time point"),
        (("0", "2", "2"), "listed twice"),
        (("0", "2w", "0.5"), "listed twice"),
        (("-1",), "between 0 and 120 months"),
        (("0", "200"), "between 0 and 120 months"),
    ],
)
def test_bad_time_points_are_refused(times, message):
    with pytest.raises(InputError, match=message):
        VisitWindows(times=times)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_days": -1}, "between 0 and 366"),
        ({"baseline_days": 400}, "between 0 and 366"),
        ({"window_days": 2.5}, "whole number of days"),
        ({"date_order": "ymd"}, "dmy or mdy"),
    ],
)
def test_bad_window_days_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        VisitWindows(**kwargs)


def test_time_lists_as_users_write_them():
    assert parse_times("0, 2w, 1, 2") == ("0", "2w", "1", "2")
    assert parse_times("0;2;6") == ("0", "2", "6")
    assert parse_times(" 0 2 6 ") == ("0", "2", "6")


# --------------------------------------------------------------------------- choosing


def _window(results, rules=RETRO):
    """Window one patient's results of one lab, given as (day, seconds, row)."""
    day = np.array([r[0] for r in results])
    seconds = np.array([r[1] for r in results])
    row = np.array([r[2] for r in results])
    assignment = assign_windows(np.zeros(len(day), int), day, seconds, row, rules)
    used = {rules[j].label: int(row[i]) for i, j in enumerate(assignment.rule) if j >= 0}
    why = reasons(assignment, rules, day, row, ["MCV"] * len(day))
    return used, dict(zip(row.tolist(), why, strict=True)), assignment


def test_baseline_takes_the_last_value_up_to_the_start_day():
    # days −31 (before the window), −30 (its first day), −5, 0 (the start day itself)
    used, why, assignment = _window([(-31, -1, 2), (-30, -1, 3), (-5, -1, 4), (0, -1, 5)])
    assert used == {"month 0": 5}
    assert why[2] == "before the baseline window: MCV on day -31"
    assert why[3] == "a later value was used for month 0: MCV on day -30, row 5 (day 0) was used"
    assert list(assignment.kind) == [
        "before_baseline_window",
        "later_value_used",
        "later_value_used",
        "",
    ]


def test_baseline_window_includes_its_first_day():
    used, _, _ = _window([(-30, -1, 2), (-31, -1, 3)])
    assert used == {"month 0": 2}


def test_follow_up_window_edges_are_inside_and_one_day_further_outside():
    # month 2: target 61, days 46 and 76 are the window's edges (± 15 exactly)
    used, _, _ = _window([(46, -1, 2)])
    assert used == {"month 2": 2}
    used, _, _ = _window([(76, -1, 2)])
    assert used == {"month 2": 2}
    used, why, assignment = _window([(45, -1, 2), (77, -1, 3)])
    assert used == {}
    assert why == {
        2: "outside every window: MCV on day 45",
        3: "outside every window: MCV on day 77",
    }
    assert list(assignment.kind) == ["outside_every_window", "outside_every_window"]


def test_closest_value_wins_and_a_tie_goes_to_the_earlier():
    # 58 and 64 are both 3 days from 61: the earlier is used; 70 is farther
    used, why, _ = _window([(64, -1, 2), (58, -1, 3), (70, -1, 4)])
    assert used == {"month 2": 3}
    assert why[2] == (
        "an earlier value as close was used for month 2: MCV on day 64, row 3 (day 58) was used"
    )
    assert why[4] == "a closer value was used for month 2: MCV on day 70, row 3 (day 58) was used"


def test_two_results_of_one_day_earlier_time_for_follow_up_later_for_baseline():
    eight, noon = 8 * 3600, 12 * 3600
    used, why, _ = _window([(61, noon, 2), (61, eight, 3), (0, eight, 4), (0, noon, 5)])
    assert used == {"month 2": 3, "month 0": 5}
    assert why[2].startswith("an earlier value of the same day was used for month 2")
    assert why[4].startswith("a later value of the same day was used for month 0")


def test_without_a_time_of_day_the_row_order_decides():
    used, _, _ = _window([(61, -1, 9), (61, -1, 4), (-2, -1, 7), (-2, -1, 3)])
    assert used == {"month 2": 4, "month 0": 7}


def test_a_result_is_used_for_one_time_point_only():
    # follow-up windows start on day 1: the start day goes to baseline, day 1 to 2 weeks
    used, _, _ = _window([(0, -1, 2), (1, -1, 3)], PROSPECTIVE)
    assert used == {"month 0": 2, "2 weeks": 3}
    # with windows of ± 20 days, day 22 is 8 from 14 and 8 from 30: the earlier time
    # point takes it, and month 1 its next choice (day 40, 10 from 30)
    wide = VisitWindows(times=("0", "2w", "1"), window_days=20).rules()
    used, _, _ = _window([(22, -1, 2), (40, -1, 3)], wide)
    assert used == {"2 weeks": 2, "month 1": 3}
    # day 25 is 11 from 14 but 5 from 30: month 1 takes it; 2 weeks takes day 5 (9 away)
    used, _, _ = _window([(25, -1, 2), (5, -1, 3)], wide)
    assert used == {"month 1": 2, "2 weeks": 3}


def test_patients_and_labs_are_windowed_apart():
    day = np.array([61, 60, 0, 0])
    group = np.array([0, 1, 0, 1])
    row = np.array([2, 3, 4, 5])
    assignment = assign_windows(group, day, np.full(4, -1), row, RETRO)
    assert list(assignment.rule) == [1, 1, 0, 0]


def test_ten_thousand_patients_use_at_most_one_result_per_time_point():
    # the benchmark's size, 10,000 patients × 20 results (its time is measured by
    # scripts/benchmark_windows.py, not here)
    rng = np.random.default_rng(12)
    n = 200_000
    group = np.repeat(np.arange(10_000), 20)
    day = rng.integers(-60, 240, n)
    assignment = assign_windows(group, day, np.full(n, -1), np.arange(n) + 2, RETRO)
    assert (assignment.rule >= 0).any()
    used = assignment.rule >= 0
    # each group uses at most one result per time point
    pairs = set(zip(group[used].tolist(), assignment.rule[used].tolist(), strict=True))
    assert len(pairs) == int(used.sum())


# --------------------------------------------------------------------------- dates


def _one(cell, order=""):
    found_order, _, (tokens,) = settle_order([("Collected", [2], [cell])], order)
    read = read_dates(tokens, found_order or order)
    if read.day[0] < 0:
        return read.problem[0] or "empty"
    day = dt.date.fromordinal(int(read.day[0])).isoformat()
    return day if read.seconds[0] < 0 else f"{day} {int(read.seconds[0]) // 60:d}"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (dt.datetime(2023, 1, 5, 8, 30), "2023-01-05 510"),  # an Excel date-time (calamine)
        (dt.date(2023, 1, 5), "2023-01-05"),  # an Excel date
        (44931.0, "2023-01-05"),  # an Excel serial in a cell not formatted as a date
        (44931.5, "2023-01-05 720"),
        ("44931", "2023-01-05"),
        (20230105, "2023-01-05"),  # yyyymmdd as a number
        ("20230105", "2023-01-05"),
        ("2023-01-05", "2023-01-05"),
        ("2023-01-05T08:30:00Z", "2023-01-05 510"),
        ("2023/01/05 08:30", "2023-01-05 510"),
        ("05-JAN-2023", "2023-01-05"),
        ("5 Jan 23", "2023-01-05"),
        ("Jan 5, 2023 8:30 PM", "2023-01-05 1230"),
        ("January 5 2023", "2023-01-05"),
        ("13/01/2023", "2023-01-13"),  # settled day first by itself
        ("01/13/2023", "2023-01-13"),  # settled month first by itself
        ("05/05/23", "2023-05-05"),  # either order gives the same day
        ("31/12/69", "1969-12-31"),  # %y: 69-99 are 19xx
        ("", "empty"),
        ("N/A", "empty"),
        (None, "empty"),
    ],
)
def test_date_cells(cell, expected):
    assert _one(cell) == expected


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("31/02/2023", "'31/02/2023' is not a date read as day/month/year"),
        ("2023-13-01", "'2023-13-01' is not a date (no such day or time)"),
        ("2023-01-05 25:00", "'2023-01-05 25:00' is not a date (no such day or time)"),
        ("yesterday", "'yesterday' is not a date (e.g. 2023-01-05, 05/01/2023, 05-Jan-2023)"),
        (12.0, "'12' is not a date (as an Excel day number it is not between 1950 and 2100)"),
        (dt.time(8, 30), "'08:30:00' is a time of day without a date"),
        ("2" * 80, "a text of 80 characters is not a date"),
    ],
)
def test_cells_that_are_not_dates_say_why(cell, problem):
    assert _one(cell) == problem


def test_day_first_is_settled_by_any_first_number_above_twelve():
    order, note, _ = settle_order(
        [("Collected", [2, 3, 4], ["05/01/2023", "06/02/2023", "13/02/2023"])]
    )
    assert order == "dmy"
    # the note goes into outputs: where, never the date itself
    assert note == "dates read day first: row 4 of column 'Collected' has a first number above 12"


def test_month_first_is_settled_by_any_second_number_above_twelve():
    order, note, _ = settle_order(
        [("Collected", [2], ["05/01/2023"]), ("Start", ["patient 'P1'"], ["02/13/2023"])]
    )
    assert order == "mdy"
    assert note == "dates read month first: a date of column 'Start' has a second number above 12"


def test_dates_that_cannot_tell_are_asked_not_guessed():
    with pytest.raises(NeedsAnswer) as raised:
        settle_order([("Collected", [2, 3], ["05/01/2023", "06/02/2023"])])
    assert raised.value.question == "date_order"
    assert raised.value.column == "Collected"
    message = str(raised.value)
    assert (
        "'05/01/2023' in column 'Collected' (row 2) is either 5 January 2023 or 1 May 2023"
        in message
    )
    assert "--date-order dmy" in message and "--date-order mdy" in message


def test_dates_in_both_orders_are_asked_about():
    with pytest.raises(NeedsAnswer, match="mix two orders"):
        settle_order([("Collected", [2, 3], ["13/01/2023", "01/13/2023"])])
    # once the user chooses, the dates that do not fit are unreadable
    order, _, (tokens,) = settle_order([("Collected", [2, 3], ["13/01/2023", "01/13/2023"])], "dmy")
    read = read_dates(tokens, order)
    assert read.day[0] == dt.date(2023, 1, 13).toordinal()
    assert read.problem[1] == "'01/13/2023' is not a date read as day/month/year"


def test_a_chosen_order_reads_every_date_that_way():
    assert _one("05/01/2023", "mdy") == "2023-05-01"
    assert _one("05/01/2023", "dmy") == "2023-01-05"


# --------------------------------------------------------------------------- lab names


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("HGB", "hgb"),
        ("HEMOGLOBIN", "hgb"),
        ("Hemoglobin (Hgb)", "hgb"),
        ("HEMOGLOBIN, BLOOD", "hgb"),
        ("MCV", "mcv"),
        ("FERRITIN", "ferritin"),
        ("FERRITIN, SERUM", "ferritin"),
        ("IRON SAT", "tsat"),
        ("% SATURATION", "tsat"),
        ("IRON, SERUM", "iron"),
        ("HEPCIDIN-25", "hepcidin"),
    ],
)
def test_hospital_lab_names_map_through_the_catalogue(name, key):
    assert hospital_lab(name).key == key


def test_other_tests_are_not_taken_for_a_known_lab():
    assert hospital_lab("SODIUM") is None
    assert hospital_lab("SERUM") is None
