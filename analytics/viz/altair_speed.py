"""Altair's table from schemas to classes, built once instead of on every ``from_dict``.

Each time Altair turns a dict into a chart object (an encoding given as
``alt.value(...)`` or ``alt.when(...)``, a ``from_dict``), its ``_FromDict`` converter
first hashes the JSON schema of every one of some 600 Vega-Lite classes to map schemas
to classes: a few milliseconds each time, a fifth of a second for one view's figures,
whatever the cohort's size. The table depends only on the classes, so here it is kept
per set of classes and reused; the classes found, and so every chart, are the same.

Altair also checks each piece of a chart against the schema as it is made: every
encoding object when it is created (its "debug mode") and every property given to
``properties()``, a quarter of the time of building a small chart. Here both are off
while a chart is built; the finished spec is checked as a whole instead, where it
leaves the program (:func:`analytics.output.figure_files` validates every exported
spec; the tests validate the spec of every chart the pages draw).

Importing this module installs the cache and turns the piecewise checks off
(:mod:`analytics.viz.style` does).
"""

from __future__ import annotations

from typing import Any

import altair.utils.schemapi as _schemapi

__all__: list[str] = []

_TABLES: dict[tuple[type, ...], Any] = {}
_build = _schemapi._FromDict.__init__


def _init_from_cache(self: Any, wrapper_classes: Any, /) -> None:
    classes = tuple(wrapper_classes)  # the same classes give the same table
    table = _TABLES.get(classes)
    if table is None:
        _build(self, classes)
        _TABLES[classes] = self.class_dict
    else:
        self.class_dict = table


if getattr(_schemapi._FromDict.__init__, "__name__", "") != "_init_from_cache":
    _schemapi._FromDict.__init__ = _init_from_cache  # type: ignore[method-assign]


_validate_property = _schemapi.SchemaBase.validate_property.__func__


def _validate_property_when_debugging(
    cls: Any, name: str, value: Any, schema: dict[str, Any] | None = None
) -> None:
    """Altair's check of one property, only in its debug mode."""
    if _schemapi.DEBUG_MODE:
        _validate_property(cls, name, value, schema)


if _schemapi.SchemaBase.validate_property.__func__ is _validate_property:
    _schemapi.disable_debug_mode()
    _schemapi.SchemaBase.validate_property = classmethod(  # type: ignore[method-assign]
        _validate_property_when_debugging
    )
