"""A table of many repeated values, pickled small: each text column as codes into its
distinct texts, each number column in the smallest exact form.

A cohort's lab table has a row per value (2.3 million rows at 100,000 patients) and in
most of its columns only a few distinct values (the lab, the unit, the column, the
time, the censoring mark). Pickled as a frame it takes about 220 MB at that size, and a
cohort is pickled whenever it crosses a process (the reader child sends it back) or a
cache; packed it takes about 50 MB, and unpacks to an equal frame (the same columns,
dtypes, values and index).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PackedFrame", "pack_frame"]


def _smallest_codes(codes: np.ndarray, count: int) -> np.ndarray:
    for dtype in (np.int8, np.int16, np.int32):
        if count < np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes


@dataclass(frozen=True)
class _Coded:
    """A column as codes into its distinct values (-1: missing), and its dtype."""

    codes: np.ndarray
    distinct: Any
    dtype: Any

    def unpack(self) -> Any:
        if isinstance(self.dtype, pd.StringDtype):
            texts = pd.array(np.asarray(self.distinct, dtype=object), dtype=self.dtype)
            return texts.take(self.codes.astype(np.intp), allow_fill=True)
        return np.asarray(self.distinct, dtype=self.dtype)[self.codes.astype(np.intp)]


def _pack_column(column: pd.Series) -> Any:
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        codes, distinct = pd.factorize(column.array)
        return _Coded(_smallest_codes(codes, len(distinct)), list(distinct), dtype)
    if isinstance(dtype, np.dtype) and dtype.kind in "if":
        values = column.to_numpy()
        if dtype.kind == "f" and (np.isnan(values).any() or np.signbit(values[values == 0]).any()):
            return values  # (np.unique keeps every NaN apart, and -0.0 with 0.0)
        distinct, codes = np.unique(values, return_inverse=True)
        if len(distinct) <= len(values) // 4:  # few distinct values: codes are smaller
            return _Coded(_smallest_codes(codes, len(distinct)), distinct, dtype)
        if (
            dtype == np.int64
            and len(values)
            and (np.iinfo(np.int32).min <= values.min() and values.max() <= np.iinfo(np.int32).max)
        ):
            return _Coded(np.arange(0), values.astype(np.int32), "int32-as-int64")
        return values
    return column


@dataclass(frozen=True)
class PackedFrame:
    """A frame packed by :func:`pack_frame`; :meth:`unpack` gives it back."""

    columns: pd.Index
    packed: list[Any]
    index: pd.Index

    def unpack(self) -> pd.DataFrame:
        data = {}
        for name, column in zip(list(self.columns), self.packed, strict=True):
            if isinstance(column, _Coded) and column.dtype == "int32-as-int64":
                data[name] = column.distinct.astype(np.int64)
            elif isinstance(column, _Coded):
                data[name] = column.unpack()
            else:
                data[name] = column
        frame = pd.DataFrame(data, index=self.index)
        frame.columns = self.columns
        return frame


def pack_frame(frame: pd.DataFrame) -> PackedFrame:
    """``frame`` packed (see the module's description); columns must be unique."""
    packed = [_pack_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return PackedFrame(frame.columns, packed, frame.index)
