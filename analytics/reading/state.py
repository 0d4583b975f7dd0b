"""What one read of a file has found so far: issues, excluded rows and row counts.

Every step of the loader (the header, the wide or long layout, the attribute sheets)
takes the :class:`ReadState` of the read and records into it what it finds, so that
in the end every input row is either used or excluded with its reason:
``n_rows_in == n_rows_used + len(excluded)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.cohort import ExcludedRow, IssueLog
from analytics.reading.grid import Grid

__all__ = ["ReadState", "padded"]


@dataclass
class ReadState:
    """The grid being read and what has been found in it so far."""

    grid: Grid
    issues: IssueLog = field(default_factory=IssueLog)
    excluded: list[ExcludedRow] = field(default_factory=list)
    n_rows_in: int = 0
    n_rows_used: int = 0
    #: lab key -> (name, known lab), in the order the labs first appear
    lab_names: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: dated results (analytics.reading.dated): whether the file is read as such, the
    #: start-date column the user named, and where start dates were found, as
    #: (column, sheet or file; "" for this sheet)
    dated: bool = False
    anchor_column: str = ""
    anchor_sources: list[tuple[str, str]] = field(default_factory=list)

    def warn(
        self, message: str, row: int | None = None, column: str | None = None, *, kind: str
    ) -> None:
        self.issues.record("warning", kind, message, row, column)

    def note(
        self, message: str, row: int | None = None, column: str | None = None, *, kind: str
    ) -> None:
        self.issues.record("note", kind, message, row, column)

    def exclude(self, row: int, reason: str, sheet: str = "", *, kind: str) -> None:
        self.excluded.append(ExcludedRow(row, reason, sheet, kind))

    def exclude_empty(self, row: int) -> None:
        """Exclude an empty row: blank, or a further line of a multi-line cell."""
        start = self.grid.continuation_rows.get(row - 1)
        if start is None:
            self.exclude(row, "empty row", kind="empty_row")
        else:
            self.exclude(
                row,
                f"a further line of the cell with line breaks that starts in row {start + 1}",
                kind="continuation_row",
            )


def padded(row: list[object], width: int) -> list[object]:
    """The row's first ``width`` cells, with ``None`` added where the row is shorter."""
    return list(row[:width]) + [None] * (width - min(len(row), width))
