"""Typed errors raised by the analytics layer.

Every message is written for a clinician: it says what is wrong and, where it can,
which row and column of their file to look at. The user interface shows the
message as it is; it never shows a traceback.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "InputError",
    "LabNotFoundError",
    "NeedsAnswer",
    "ReadAborted",
    "UnitError",
]


class AnalysisError(ValueError):
    """A request that cannot be analysed; the message is shown to a clinician as is."""


class InputError(AnalysisError):
    """A file that cannot be read or analysed at all (no ID column, no lab column, ...)."""


class ReadAborted(InputError):
    """Reading a file was stopped: it needed too much memory or time, or crashed a reader.

    ``reason`` is ``"memory"``, ``"time"`` or ``"crash"``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class NeedsAnswer(InputError):
    """A file that can be read once the user says what its data cannot tell.

    ``question`` is ``"date_order"`` (are the dates day/month or month/day?) or
    ``"anchor"`` (where are the patients' start dates?); ``column`` names the column
    the question is about (``""`` if none). The message says how to answer, on the
    Data page and on the command line.
    """

    def __init__(self, message: str, question: str, column: str = "") -> None:
        super().__init__(message)
        self.question = question
        self.column = column

    def __reduce__(self):  # pickled with its question (the reader runs in a child process)
        return (type(self), (str(self), self.question, self.column))


class LabNotFoundError(AnalysisError):
    """The file has no values of a lab the analysis needs (no hemoglobin for anemia).

    ``lab`` is the lab's key (``"hgb"``).
    """

    def __init__(self, message: str, lab: str) -> None:
        super().__init__(message)
        self.lab = lab


class UnitError(AnalysisError):
    """A lab's unit cannot be converted to the unit its thresholds are stated in.

    ``lab`` is the lab's key, ``unit`` the unit as the file gives it.
    """

    def __init__(self, message: str, lab: str, unit: str) -> None:
        super().__init__(message)
        self.lab = lab
        self.unit = unit
