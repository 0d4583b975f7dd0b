"""Widgets whose values survive page switches.

Streamlit deletes a widget's value at the end of a run in which the widget was not
drawn (i.e. while another page is shown). These helpers keep a copy under
``keep_<key>`` and give it back to the widget the next time it is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

__all__ = [
    "kept",
    "persistent_checkbox",
    "persistent_multiselect",
    "persistent_number",
    "persistent_radio",
    "persistent_selectbox",
]


def kept(key: str, default: Any) -> Any:
    """The widget's current value, or its last kept value while it is not drawn."""
    if key in st.session_state:
        return st.session_state[key]
    return st.session_state.get(f"keep_{key}", default)


def _restore(key: str, default: Any, options: Sequence[Any] | None) -> None:
    """Set the widget's state before it is drawn: its live value, else the kept one.

    Assigning every time (not only when the key is missing) matters: a widget with the
    same key drawn on another page is a different widget to Streamlit, which would
    otherwise start it again from its first option.
    """
    value = st.session_state.get(key, st.session_state.get(f"keep_{key}", default))
    if options is not None and value not in options:
        value = st.session_state.get(f"keep_{key}", default)
        if value not in options:
            value = default
    st.session_state[key] = value


def persistent_selectbox(
    label: str,
    options: Sequence[Any],
    key: str,
    *,
    default: Any = None,
    help: str | None = None,
    format_func: Callable[[Any], str] = str,
    container: Any = None,
) -> Any:
    """A selectbox that remembers its value across pages; falls back to ``default``."""
    options = list(options)
    fallback = default if default in options else options[0]
    _restore(key, fallback, options)
    where = container if container is not None else st
    value = where.selectbox(label, options, key=key, help=help, format_func=format_func)
    st.session_state[f"keep_{key}"] = value
    return value


def persistent_number(
    label: str, key: str, *, default: float, container: Any = None, **kwargs: Any
) -> float:
    """A number input that remembers its value across pages."""
    _restore(key, default, None)
    where = container if container is not None else st
    value = where.number_input(label, key=key, **kwargs)
    st.session_state[f"keep_{key}"] = value
    return value


def persistent_checkbox(
    label: str, key: str, *, default: bool = False, container: Any = None, **kwargs: Any
) -> bool:
    """A checkbox that remembers its value across pages."""
    _restore(key, default, None)
    where = container if container is not None else st
    value = bool(where.checkbox(label, key=key, **kwargs))
    st.session_state[f"keep_{key}"] = value
    return value


def persistent_multiselect(
    label: str,
    options: Sequence[Any],
    key: str,
    *,
    default: Sequence[Any],
    help: str | None = None,
    format_func: Callable[[Any], str] = str,
    container: Any = None,
) -> list[Any]:
    """A multiselect that remembers its choice across pages.

    Choices no longer offered (another file was opened) are dropped, and then the
    ``default`` choices of the new options are added to what is left.
    """
    options = list(options)
    chosen = st.session_state.get(key, st.session_state.get(f"keep_{key}"))
    if chosen is None:
        chosen = list(default)
    kept_choice = [value for value in chosen if value in options]
    if len(kept_choice) < len(chosen):
        kept_choice += [v for v in default if v in options and v not in kept_choice]
    st.session_state[key] = kept_choice
    where = container if container is not None else st
    value = where.multiselect(label, options, key=key, help=help, format_func=format_func)
    st.session_state[f"keep_{key}"] = list(value)
    return list(value)


def persistent_radio(
    label: str,
    options: Sequence[Any],
    key: str,
    *,
    default: Any = None,
    container: Any = None,
    **kwargs: Any,
) -> Any:
    """A horizontal radio (a row of choices, like tabs) that remembers its choice across
    pages; ``default`` None starts with nothing chosen."""
    options = list(options)
    _restore(key, default, [*options, default])
    where = container if container is not None else st
    value = where.radio(label, options, key=key, horizontal=True, **kwargs)
    st.session_state[f"keep_{key}"] = value
    return value
