"""Correcting what each column holds, with pickers instead of typed roles.

Every column gets a role picker (patient ID, sex, age, ..., lab value, ignore); a lab
column also gets a lab picker (the lab catalogue, or the name the file gives), a time
picker (the time points) and a unit picker. The corrections come out as the
``{column: ROLE}`` mapping that the loader and the command line's ``--map`` take
(:func:`analytics.reading.headers.parse_role`), so Apply re-reads the file exactly as
``--map "COLUMN=ROLE"`` would.

State: the choices of one file are kept in ``st.session_state[f"{prefix}_picks"]``
(plain session state, so they survive paging through the columns and visiting other
pages) and start again from the file's roles when another file, sheet or mapping is in
use. The widgets' keys are ``{prefix}_role_{i}``, ``{prefix}_lab_{i}``,
``{prefix}_time_{i}``, ``{prefix}_unit_{i}_{lab}`` (``i`` is the column's position),
``{prefix}_page`` and ``{prefix}_apply``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import streamlit as st

from analytics.labs import LABS, canonical_lab, format_time, lab_key
from analytics.reading.headers import ROLE_LABELS, ColumnRole, parse_role
from analytics.reading.role_hints import named_lab
from ui.shell import escape_md

__all__ = [
    "MENU",
    "PAGE_SIZE",
    "ROLE_CHOICES",
    "Pick",
    "column_pickers",
    "corrections",
    "lab_choices",
    "pick_of",
    "time_choices",
    "unit_choices",
]

#: The roles offered, in the order of the menu.
ROLE_CHOICES = (
    "patient_id",
    "sex",
    "age",
    "age_group",
    "iron",
    "epo",
    "cohort",
    "reason_for_sirolimus",
    "immunosuppressants",
    "reason_for_transplant",
    "attribute",
    "lab",
    "ignore",
    "analyte",
    "time",
    "value",
    "unit",
    "date",
    "anchor",
)
#: What the menu says for each role (the warnings of the loader use the same words).
MENU = {**ROLE_LABELS, "lab": "lab value", "ignore": "ignore this column"}
#: Columns shown at once; a longer file is paged.
PAGE_SIZE = 40
#: Time points offered for every lab column, in months (0.25 is 1 week).
STANDARD_TIMES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0, 12.0, 18.0, 24.0)
_NO_UNIT = ""
_WIDTHS = [3, 3, 4, 2, 2]


@dataclass(frozen=True)
class Pick:
    """What the pickers of one column say."""

    role: str
    lab: str = ""
    time: float = 0.0
    unit: str = ""

    def role_string(self) -> str:
        """The ``ROLE`` of a ``COLUMN=ROLE`` correction (``lab:tsat:0:%``, ``iron``)."""
        if self.role != "lab":
            return self.role
        unit = f":{self.unit.strip()}" if self.unit.strip() else ""
        return f"lab:{_safe_name(self.lab)}:{self.time:g}{unit}"


def _safe_name(name: str) -> str:
    """A lab name that can stand between the colons of a lab role."""
    return re.sub(r"\s+", " ", name.replace(":", " ")).strip()


def own_lab_name(column: str) -> str:
    """The lab name a column gives itself: its header without a unit in brackets."""
    name = _safe_name(re.sub(r"[\(\[][^\(\)\[\]]*[\)\]]", " ", column))
    return name or _safe_name(column) or "lab"


def _default_lab(role: ColumnRole) -> str:
    if role.role == "lab":
        return role.lab_key if role.known_lab else _safe_name(role.lab_name)
    found = named_lab(role.column)
    return found.key if found is not None else own_lab_name(role.column)


def pick_of(role: ColumnRole) -> Pick:
    """The pickers' starting point: the column as it was read."""
    if role.role != "lab":
        return Pick(role.role)
    return Pick("lab", _default_lab(role), float(role.time or 0.0), role.unit)


def lab_choices(role: ColumnRole) -> list[str]:
    """The catalogue's labs, then the name the column gives when it is not one of them."""
    own = _default_lab(role) if role.role == "lab" else own_lab_name(role.column)
    choices = list(LABS)
    if canonical_lab(own) is None:
        choices.append(own)
    return choices


def lab_label(choice: str) -> str:
    lab = LABS.get(choice)
    if lab is None:
        return f"{choice} (other lab)"
    return lab.name if lab.short.lower() == lab.name.lower() else f"{lab.name} ({lab.short})"


def time_choices(current: float, seen: Iterable[float] = ()) -> list[float]:
    """The standard time points, those the file has, and the column's own."""
    return sorted({*STANDARD_TIMES, *(float(t) for t in seen), float(current)})


def unit_choices(lab: str, current: str) -> list[str]:
    """A catalogue lab's units (conventional first), and the column's own unit."""
    known = LABS.get(lab)
    units = list(known.conversions) if known is not None else []
    if current and current not in units:
        units.append(current)
    return units or [_NO_UNIT]


def _same(role: ColumnRole, pick: Pick) -> bool:
    """Whether the pick says what the column was read as (no correction needed)."""
    if pick.role != role.role:
        return False
    if role.role != "lab":
        return True
    wanted = parse_role(role.column, pick.role_string())
    return (lab_key(_safe_name(role.lab_key)), role.time, role.unit.strip()) == (
        wanted.lab_key,
        wanted.time,
        wanted.unit.strip(),
    )


def corrections(roles: Sequence[ColumnRole], picks: dict[int, Pick]) -> dict[str, str]:
    """``{column: ROLE}`` for every column whose pick differs from how it was read."""
    return {
        role.column: picks[i].role_string()
        for i, role in enumerate(roles)
        if i in picks and not _same(role, picks[i])
    }


# --------------------------------------------------------------------------- widgets


def _picks(prefix: str, identity: Hashable) -> dict[int, Pick]:
    """The choices kept for this file; emptied when another file or mapping is in use."""
    if st.session_state.get(f"{prefix}_for") != identity:
        for key in [k for k in st.session_state if str(k).startswith(f"{prefix}_")]:
            del st.session_state[key]  # widgets of the previous file start again too
        st.session_state[f"{prefix}_for"] = identity
        st.session_state[f"{prefix}_picks"] = {}
    return st.session_state[f"{prefix}_picks"]


def _restore(key: str, value, options: list | None = None) -> None:
    """Give the widget its value from the server: its live one, else the kept pick.

    A keyed widget keeps its identity (and, in the browser, its shown value) whatever
    its options, so the value is always sent from here; otherwise the browser would
    go on showing the previous file's choice under the same key.
    """
    current = st.session_state.get(key, value)
    if options is not None and current not in options:
        current = value if value in options else options[0]
    st.session_state[key] = current


def _select(label: str, options: list, value, key: str, format_func=str, **kwargs):
    _restore(key, value, options)
    return st.selectbox(
        label,
        options,
        key=key,
        format_func=format_func,
        label_visibility=kwargs.pop("label_visibility", "collapsed"),
        **kwargs,
    )


def _lab_pickers(cells, role: ColumnRole, pick: Pick, i: int, prefix: str, seen) -> Pick:
    """The lab, time and unit pickers of a lab column."""
    column = escape_md(role.column)
    start = pick if pick.role == "lab" else pick_of_lab(role)
    with cells[2]:
        lab = _select(
            f"Lab in {column}", lab_choices(role), start.lab, f"{prefix}_lab_{i}", lab_label
        )
    with cells[3]:
        time = _select(
            f"Time of {column}",
            time_choices(start.time, seen),
            start.time,
            f"{prefix}_time_{i}",
            format_time,
        )
    unit_start = start.unit if lab == start.lab else ""
    with cells[4]:
        if lab in LABS:
            units = unit_choices(lab, unit_start)
            unit = _select(f"Unit of {column}", units, unit_start, f"{prefix}_unit_{i}_{lab}")
        else:
            _restore(f"{prefix}_unit_{i}_{lab}", unit_start)
            unit = st.text_input(
                f"Unit of {column}",
                key=f"{prefix}_unit_{i}_{lab}",
                placeholder="unit, e.g. mmol/L",
                label_visibility="collapsed",
            )
    return Pick("lab", lab, float(time), unit)


def pick_of_lab(role: ColumnRole) -> Pick:
    """Where the lab pickers start when a column is newly given the lab role."""
    lab = _default_lab(role)
    known = LABS.get(lab)
    return Pick("lab", lab, float(role.time or 0.0), known.unit if known else role.unit)


def _column_row(role: ColumnRole, pick: Pick, i: int, prefix: str, seen, flagged) -> Pick:
    """One column's pickers, side by side; returns what they say."""
    cells = st.columns(_WIDTHS, vertical_alignment="center")
    marks = " ⚠" if role.column in flagged else ""
    marks += " (corrected)" if role.source == "set by you" else ""
    cells[0].text(role.column + marks)
    with cells[1]:
        chosen = _select(
            f"What {escape_md(role.column)} holds",
            list(ROLE_CHOICES),
            pick.role,
            f"{prefix}_role_{i}",
            MENU.get,
        )
    if chosen != "lab":
        return Pick(chosen)
    return _lab_pickers(cells, role, pick, i, prefix, seen)


def _page(prefix: str, n_columns: int) -> range:
    """The positions of the columns shown: all, or one page of :data:`PAGE_SIZE`."""
    if n_columns <= PAGE_SIZE:
        return range(n_columns)
    starts = list(range(0, n_columns, PAGE_SIZE))
    start = _select(
        "Columns shown",
        starts,
        0,
        f"{prefix}_page",
        lambda s: f"columns {s + 1}–{min(s + PAGE_SIZE, n_columns)} of {n_columns}",
        label_visibility="visible",
    )
    return range(start, min(start + PAGE_SIZE, n_columns))


def column_pickers(
    roles: Sequence[ColumnRole],
    *,
    prefix: str,
    identity: Hashable,
    times: Iterable[float] = (),
    flagged: Iterable[str] = (),
    apply_label: str = "Apply column corrections",
) -> dict[str, str] | None:
    """Draw the pickers of every column; the corrections when Apply is clicked, else None.

    ``identity`` names the file and mapping the roles belong to; ``times`` are the
    file's time points (offered besides the standard ones); ``flagged`` the columns
    the validation report warns about.
    """
    picks = _picks(prefix, identity)
    seen, flagged = tuple(times), set(flagged)
    header = st.columns(_WIDTHS)
    for cell, title in zip(
        header, ("Column in the file", "Holds", "Lab", "Time", "Unit"), strict=True
    ):
        cell.caption(title)
    for i in _page(prefix, len(roles)):
        role = roles[i]
        picks[i] = _column_row(role, picks.get(i, pick_of(role)), i, prefix, seen, flagged)
    if not st.button(apply_label, key=f"{prefix}_apply", type="primary"):
        return None
    return corrections(roles, picks)
