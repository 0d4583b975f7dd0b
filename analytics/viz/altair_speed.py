"""Altair's table from schemas to classes, built once instead of on every ``from_dict``.

Each time Altair turns a dict into a chart object (an encoding given as
``alt.value(...)`` or ``alt.when(...)``, a ``from_dict``), its ``_FromDict`` converter
first hashes the JSON schema of every one of some 600 Vega-Lite classes to map schemas
to classes: a few milliseconds each time, a fifth of a second for one view's figures,
whatever the cohort's size. The table depends only on the classes, so here it is kept
per set of classes and reused; the classes found, and so every chart, are the same.

Importing this module installs the cache (:mod:`analytics.viz.style` does).
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
