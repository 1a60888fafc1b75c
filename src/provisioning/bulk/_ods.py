"""Open Document spreadsheets (.ods), read as they stream, through defusedxml.

Every program's .ods is read the same way, LibreOffice's and Gnumeric's
(whose indented `content.xml` python-calamine refuses) alike. A row or cell
may say it repeats (`number-rows-repeated`, `number-columns-repeated`):
LibreOffice ends every row with thousands of repeated empty cells and every
sheet with a million repeated empty rows. Empty repeats are only counted;
a repeat is laid out only when a value follows it, and only after the
sheet's extent is checked against `ReadLimits`, so a few bytes asking for
a million rows of values are refused, not unpacked.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Final
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from provisioning.bulk._limits import ReadLimits, refuse_extent
from provisioning.bulk._workbook import Cell, CellRange, Sheet, cell_value

__all__ = ["read_ods"]

_TABLE: Final = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE: Final = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT: Final = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_HIDDEN: Final = frozenset({"collapse", "filter"})


def read_ods(archive: zipfile.ZipFile, limits: ReadLimits) -> tuple[Sheet, ...]:
    """The sheets of an .ods archive, bounded by `limits` while they are read."""
    with archive.open("content.xml") as stream:
        return tuple(_sheets(stream, limits))


def _repeat(element: Element, name: str) -> int:
    text = element.get(f"{_TABLE}{name}", "1").strip()
    return max(int(text), 1) if text.isdigit() else 1


class _SheetBuilder:
    """One table's rows as they come, with empty repeats counted, not laid out."""

    def __init__(self, name: str, limits: ReadLimits) -> None:
        self.name = name
        self.limits = limits
        self.rows: list[tuple[Cell, ...]] = []
        self.pending_rows = 0  # empty rows not laid out yet
        self.widest = 0
        self.merged: list[CellRange] = []
        self.uncomputed: set[tuple[int, int]] = set()
        self.hidden: set[int] = set()
        self.cells: list[Cell] = []
        self.pending_cells = 0  # empty cells of this row not laid out yet

    def start_row(self) -> None:
        self.cells = []
        self.pending_cells = 0

    @property
    def row_number(self) -> int:
        """The 1-based number of the row being read."""
        return len(self.rows) + self.pending_rows + 1

    def add_cell(self, value: Cell, repeat: int) -> None:
        if value is None:
            self.pending_cells += repeat
            return
        width = len(self.cells) + self.pending_cells + repeat
        self._check(self.row_number, width)
        self.cells.extend([None] * self.pending_cells)
        self.pending_cells = 0
        self.cells.extend([value] * repeat)

    def end_row(self, repeat: int, *, hidden: bool) -> None:
        if not self.cells:
            self.pending_rows += repeat
            return
        last = self.row_number + repeat - 1
        self._check(last, len(self.cells))
        self.rows.extend([()] * self.pending_rows)
        self.pending_rows = 0
        first = len(self.rows) + 1
        self.rows.extend([tuple(self.cells)] * repeat)
        self.widest = max(self.widest, len(self.cells))
        if hidden:
            self.hidden.update(range(first, first + repeat))

    def _check(self, rows: int, width: int) -> None:
        widest = max(self.widest, width)
        if self.limits.exceeded(rows, widest):
            refuse_extent(self.name, rows, widest, self.limits)

    def sheet(self) -> Sheet:
        return Sheet(
            name=self.name,
            rows=tuple(self.rows),
            merged=tuple(self.merged),
            uncomputed=frozenset(self.uncomputed),
            hidden_rows=frozenset(self.hidden),
        )


def _sheets(stream: IO[bytes], limits: ReadLimits) -> Iterator[Sheet]:
    builder: _SheetBuilder | None = None
    nested = 0  # a table inside a cell (a sub-table) is part of that cell
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        tag = element.tag
        if tag == f"{_TABLE}table":
            nested += 1 if event == "start" else -1
            if event == "start" and nested == 1:
                builder = _SheetBuilder(element.get(f"{_TABLE}name", ""), limits)
            elif event == "end" and nested == 0 and builder is not None:
                element.clear()
                yield builder.sheet()
                builder = None
        elif builder is not None and nested == 1:
            _element(builder, event, element)


def _element(builder: _SheetBuilder, event: str, element: Element) -> None:
    """One row's or cell's start or end, of the table being read."""
    tag = element.tag
    if event == "start":
        if tag == f"{_TABLE}table-row":
            builder.start_row()
    elif tag in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
        _add_cell(builder, element)
        element.clear()
    elif tag == f"{_TABLE}table-row":
        hidden = element.get(f"{_TABLE}visibility", "visible") in _HIDDEN
        builder.end_row(_repeat(element, "number-rows-repeated"), hidden=hidden)
        element.clear()


def _add_cell(builder: _SheetBuilder, element: Element) -> None:
    repeat = _repeat(element, "number-columns-repeated")
    value = _value(element)
    column = len(builder.cells) + builder.pending_cells + 1
    if element.get(f"{_TABLE}formula") and element.get(f"{_OFFICE}value-type") is None:
        builder.uncomputed.add((builder.row_number, column))
    across = _repeat(element, "number-columns-spanned")
    down = _repeat(element, "number-rows-spanned")
    if across > 1 or down > 1:
        row = builder.row_number
        builder.merged.append((row, column, row + down - 1, column + across - 1))
    builder.add_cell(value, repeat)


def _value(cell: Element) -> Cell:
    """A cell's value as every reader gives it (see `_workbook`)."""
    kind = cell.get(f"{_OFFICE}value-type")
    if kind in ("float", "percentage", "currency"):
        return _number(cell.get(f"{_OFFICE}value", ""))
    if kind == "boolean":
        return cell.get(f"{_OFFICE}boolean-value", "").strip().lower() == "true"
    if kind == "date":
        return _date(cell.get(f"{_OFFICE}date-value", ""))
    if kind == "time":
        return _time(cell.get(f"{_OFFICE}time-value", ""))
    if kind is None:
        return None
    given = cell.get(f"{_OFFICE}string-value")
    return cell_value(given if given is not None else _text(cell))


def _number(text: str) -> Cell:
    try:
        return cell_value(float(text))
    except ValueError:
        return None


def _date(text: str) -> Cell:
    try:
        if "T" in text:
            return cell_value(datetime.fromisoformat(text[:26]))
        return date.fromisoformat(text[:10])
    except ValueError:
        return cell_value(text)


def _time(text: str) -> Cell:
    """An ISO 8601 duration (`PT09H30M00S`): a time of day under 24 hours, else a duration."""
    body = text.strip().upper().removeprefix("-").removeprefix("P")
    days, _, clock = body.partition("T")
    amounts = {"D": 0.0, "H": 0.0, "M": 0.0, "S": 0.0}
    try:
        for part, units in ((days, "D"), (clock, "HMS")):
            number = ""
            for char in part:
                if char in units:
                    amounts[char] = float(number)
                    number = ""
                else:
                    number += char
    except ValueError:
        return cell_value(text)
    span = timedelta(
        days=amounts["D"], hours=amounts["H"], minutes=amounts["M"], seconds=amounts["S"]
    )
    if timedelta(0) <= span < timedelta(days=1) and not text.strip().startswith("-"):
        minutes, second = divmod(span.seconds, 60)
        return time(minutes // 60, minutes % 60, second, span.microseconds)
    return span


_LONGEST: Final = 32_767  # the most characters a spreadsheet cell holds


def _text(cell: Element) -> str:
    """The text of a cell's paragraphs (not its comment's), one line each.

    Spaces, tabs and line breaks written as elements count; past the most a
    cell holds, the rest is dropped, however many spaces an element asks for.
    """
    parts: list[str] = []
    for number, paragraph in enumerate(cell.findall(f"{_TEXT}p")):
        if number:
            parts.append("\n")
        _paragraph(paragraph, parts)
    return "".join(parts)[:_LONGEST]


def _paragraph(element: Element, parts: list[str]) -> None:
    parts.append(element.text or "")
    for child in element:
        if sum(map(len, parts)) > _LONGEST:
            return
        if child.tag == f"{_TEXT}s":
            count = child.get(f"{_TEXT}c", "1").strip()
            parts.append(" " * min(int(count) if count.isdigit() else 1, _LONGEST))
        elif child.tag == f"{_TEXT}tab":
            parts.append("\t")
        elif child.tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif child.tag != f"{_OFFICE}annotation":
            _paragraph(child, parts)
        parts.append(child.tail or "")
