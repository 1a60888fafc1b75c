"""What a reader makes of a spreadsheet: sheets of rows of plain cell values.

Every reader gives the same values for the same file, whatever wrote it:
text as it was typed (less the spaces, tabs and line breaks around it, which
some writers keep and others drop), whole numbers as `int`, other numbers as `float`,
`bool`, dates as `date` (a date and time as `datetime`), times as `time`,
durations as `timedelta`, and `None` for an empty cell (including one that
holds only spaces, and a formula with no value kept). A formula gives the
value its program last computed. Row and column positions are the
spreadsheet's own: `rows[0]` is row 1 and `rows[r][0]` column A; trailing
empty cells and rows are left out.

A sheet also says which of its cells were merged (`merged`: the value of a
merged range is its first cell's, which `spread_merged` repeats down the
range's rows) and which hold a formula whose value no program computed
(`uncomputed`: such a cell reads as empty, and the importer reports it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Final

import attrs

from provisioning.bulk._limits import ReadLimits, refuse_extent

__all__ = ["Cell", "CellRange", "Sheet", "Workbook", "cell_value", "spread_merged", "trimmed_rows"]

Cell = str | int | float | bool | date | datetime | time | timedelta | None
"""One cell's value, as every reader gives it."""

CellRange = tuple[int, int, int, int]
"""A block of cells: first row, first column, last row, last column (1-based, inclusive)."""

_MIDNIGHT: Final = time(0, 0)
# The spaces XML lets a writer drop around a text: some keep them and others do not, so
# no reader keeps them (a non-breaking space stays, for whoever reads the cell to strip).
_XML_SPACE: Final = " \t\r\n"


@attrs.frozen
class Sheet:
    """One sheet: its name and its rows (`rows[0]` is the spreadsheet's row 1)."""

    name: str
    rows: tuple[tuple[Cell, ...], ...]
    merged: tuple[CellRange, ...] = ()
    """The merged ranges of cells."""
    uncomputed: frozenset[tuple[int, int]] = frozenset()
    """The (row, column) of each cell holding a formula no program computed a value for."""
    hidden_rows: frozenset[int] = frozenset()
    """The 1-based numbers of the rows holding values that are hidden (by hand or a filter)."""

    def __repr__(self) -> str:
        return f"<Sheet {self.name!r}: {len(self.rows):,} row(s)>"

    def cell(self, row: int, column: int) -> Cell:
        """The value at a 1-based row and column (None beyond the sheet's end)."""
        if not 1 <= row <= len(self.rows):
            return None
        values = self.rows[row - 1]
        return values[column - 1] if 1 <= column <= len(values) else None


@attrs.frozen
class Workbook:
    """A read workbook: the format recognised from its content, and its sheets in order."""

    format: str
    sheets: tuple[Sheet, ...]

    def __repr__(self) -> str:
        listed = ", ".join(f"{s.name} ({len(s.rows):,} rows)" for s in self.sheets)
        return f"<Workbook {self.format}: {listed or 'no sheets'}>"

    @property
    def names(self) -> tuple[str, ...]:
        """The sheets' names, in the workbook's order."""
        return tuple(sheet.name for sheet in self.sheets)

    def sheet(self, name: str) -> Sheet | None:
        """The sheet called `name`, compared case-insensitively, or None."""
        wanted = name.strip().casefold()
        for sheet in self.sheets:
            if sheet.name.strip().casefold() == wanted:
                return sheet
        return None

    def by_name(self) -> Mapping[str, Sheet]:
        """The sheets by their names."""
        return {sheet.name: sheet for sheet in self.sheets}


def cell_value(value: object) -> Cell:
    """A reader's raw value as the `Cell` every reader agrees on."""
    result: Cell
    if isinstance(value, str):
        trimmed = value.strip(_XML_SPACE)
        result = trimmed if trimmed.strip() else None
    elif isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        result = int(value)
    elif isinstance(value, datetime) and value.time() == _MIDNIGHT and value.tzinfo is None:
        result = value.date()
    elif value is None or isinstance(value, int | float | date | time | timedelta):
        result = value  # bool is an int
    else:
        result = str(value)
    return result


def trimmed_rows(
    rows: Iterable[Iterable[object]], *, sheet: str, limits: ReadLimits
) -> tuple[tuple[Cell, ...], ...]:
    """Rows of `Cell`s without trailing empty cells and rows, bounded while they stream.

    A sheet whose rows (up to the last one holding a value, or any row past
    the row limit), columns (to the widest row's last value) or rows times
    columns go beyond `limits` raises `SpreadsheetError` as soon as it does.
    """
    kept: list[tuple[Cell, ...]] = []
    filled = widest = 0
    for raw in rows:
        values = [cell_value(value) for value in raw]
        while values and values[-1] is None:
            values.pop()
        kept.append(tuple(values) if values else ())
        if values:
            filled, widest = len(kept), max(widest, len(values))
            if limits.exceeded(filled, widest):
                refuse_extent(sheet, filled, widest, limits)
        elif len(kept) > limits.max_rows:
            refuse_extent(sheet, len(kept), widest, limits)
    return tuple(kept[:filled])


def spread_merged(sheet: Sheet) -> Sheet:
    """The sheet with each merged range's value repeated in its first column, on every row.

    A range over several rows (a class of service for a team, say) holds its
    value on each of them that holds anything else, as the spreadsheet shows
    it (a blank row stays blank); a range over several columns counts as its
    first column alone.
    """
    if not sheet.merged:
        return sheet
    rows = list(sheet.rows)
    for first_row, first_column, last_row, _ in sheet.merged:
        if first_row > len(rows) or last_row == first_row:
            continue
        source = rows[first_row - 1]
        value = source[first_column - 1] if first_column <= len(source) else None
        if value is None:
            continue
        for number in range(first_row + 1, min(last_row, len(rows)) + 1):
            cells = list(rows[number - 1])
            if all(cell is None for cell in cells):
                continue
            cells.extend([None] * (first_column - len(cells)))
            cells[first_column - 1] = value
            rows[number - 1] = tuple(cells)
    return attrs.evolve(sheet, rows=tuple(rows))
