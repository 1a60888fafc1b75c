"""How much a workbook may hold, and the error for a sheet that reaches beyond it."""

from __future__ import annotations

from typing import Final

import attrs

from provisioning.errors import Location, SpreadsheetError, codes

__all__ = ["DEFAULT_LIMITS", "ReadLimits", "refuse_extent", "refuse_merged"]

CODES: Final = codes(
    invalid=("spreadsheet.unreadable",),
    limit=(
        "spreadsheet.too_large",
        "spreadsheet.too_many_rows",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


@attrs.frozen
class ReadLimits:
    """How much a workbook may hold before it is refused (`spreadsheet.too_large` ...).

    `max_bytes` bounds the file itself, `max_unpacked_bytes` what a zip-based
    file's entries declare they unpack to, and `max_ratio` how much any one
    entry may unpack to per packed byte. Each sheet is bounded from its cell
    A1 to its last cell: `max_rows` rows, `max_columns` columns, and
    `max_cells` for rows times columns (what a reader lays out in memory);
    `max_merged` bounds a sheet's merged ranges.
    """

    max_bytes: int = 200 * 2**20
    max_unpacked_bytes: int = 1 * 2**30
    max_ratio: int = 200
    max_rows: int = 200_000
    max_columns: int = 1_024
    max_cells: int = 6_000_000
    max_merged: int = 10_000

    def exceeded(self, rows: int, columns: int) -> bool:
        """Whether a sheet of `rows` by `columns`, from A1, is beyond these limits."""
        return rows > self.max_rows or columns > self.max_columns or rows * columns > self.max_cells


DEFAULT_LIMITS: Final = ReadLimits()
"""The limits a workbook is read with unless the caller gives others."""


def too_large(reason: str) -> SpreadsheetError:
    """`spreadsheet.too_large`: the file, an unpacked part or a sheet is beyond the limits."""
    return SpreadsheetError(code="spreadsheet.too_large", reason=reason)


def unreadable(reason: str) -> SpreadsheetError:
    """`spreadsheet.unreadable`: the file is not a workbook this library can read."""
    return SpreadsheetError(code="spreadsheet.unreadable", reason=reason)


def refuse_extent(sheet: str, rows: int, columns: int, limits: ReadLimits) -> None:
    """Raise when a sheet of `rows` by `columns` (from A1) is beyond the limits."""
    if columns > limits.max_columns or rows * columns > limits.max_cells:
        raise too_large(
            f"sheet {sheet!r} reaches cell {Location(sheet, rows, columns).cell}"
            f" ({rows:,} rows by {columns:,} columns; at most {limits.max_columns:,} columns"
            f" and {limits.max_cells:,} cells): delete what lies beyond the data",
        )
    if rows > limits.max_rows:
        raise SpreadsheetError(
            code="spreadsheet.too_many_rows",
            reason=f"sheet {sheet!r} has more than {limits.max_rows:,} rows: split the file",
        )


def refuse_merged(sheet: str, ranges: int, cells: int, limits: ReadLimits) -> None:
    """Raise when a sheet's merged ranges are too many, or cover more cells than it may hold."""
    if ranges > limits.max_merged or cells > limits.max_cells:
        raise too_large(
            f"sheet {sheet!r} has {ranges:,} merged ranges"
            + (f" over {cells:,} cells" if cells else "")
            + f" (at most {limits.max_merged:,} ranges and {limits.max_cells:,} cells):"
            " unmerge them",
        )
