"""How far a sheet reaches, found before any reader lays it out in memory.

A reader lays a sheet out as a grid from cell A1 to its last cell, so a file
of a few bytes holding one cell at `XFD1048576` asks for 17 billion cells:
python-calamine aborts the process on that allocation, openpyxl runs out of
memory. The extent is read here from the cells' own references, bounded
against `ReadLimits` (rows, columns, and rows times columns), and a sheet
beyond them is refused before any reader sees it.

An .xlsx worksheet is first searched, at the speed of a byte search, for
anything that could reach beyond the limits: a reference of two or more
column letters or a row number at the row limit, a cell or row written
without its reference, or one written in a way the search does not follow
(spaces around `=`, another quote, a namespace prefix). Only a sheet where
the search finds such a thing is parsed to its exact extent. An .xlsb
worksheet's records are walked (its rows and cells carry their positions in
binary). Open Document sheets are bounded while they are read (`_ods`), CSV
and openpyxl's rows while they stream (`_workbook.trimmed_rows`); a legacy
.xls cannot reach beyond 65,536 rows of 256 columns.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from functools import cache
from typing import IO, Final

from defusedxml import ElementTree

from provisioning.bulk._limits import ReadLimits, refuse_extent, refuse_merged, unreadable
from provisioning.bulk._xlsx import (
    cell_position,
    column_number,
    merged_range,
    row_number,
    sheet_parts,
)
from provisioning.errors import SpreadsheetError

__all__ = ["check_extent"]


def check_extent(data: bytes, format: str, limits: ReadLimits) -> None:  # noqa: A002
    """Refuse a workbook any of whose sheets reaches beyond `limits` (xlsx, xlsm, xlsb)."""
    if format not in ("xlsx", "xlsm", "xlsb"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if format == "xlsb":
                for name, part in _binary_worksheets(archive):
                    with archive.open(part) as stream:
                        rows, columns = _xlsb_extent(stream, limits)
                    refuse_extent(name, rows, columns, limits)
                return
            for name, part in sheet_parts(archive):
                try:
                    xml = archive.read(part)
                except KeyError:
                    continue
                _check_merged(xml, name, limits)
                if _surely_within(xml, limits):
                    continue
                rows, columns = _xlsx_extent(xml, limits)
                refuse_extent(name, rows, columns, limits)
    except SpreadsheetError:
        raise
    except Exception as exc:
        # Refused, not passed on: a reader that reads what this scan cannot might lay it out.
        raise unreadable(f"the workbook's sheets could not be read: {type(exc).__name__}") from exc


# -- .xlsx: a byte search first, the exact extent where it finds something --------------------

# A cell or row whose first attribute is not its reference written as `r="` (or none at all).
_UNPLACED: Final = re.compile(rb'<c(?:[\t\n\r/>]| (?!r="))|<row(?:[\t\n\r/>]| (?!r="))')
_PREFIXED: Final = re.compile(rb"<[\w.-]+:(?:c|row)[\s/>]")


# An `r` attribute written with spaces around `=` or in single quotes, or whose value is not a
# plain reference (`B7`; a row's `7`): what the searches below do not follow.
_ODD_REFERENCE: Final = re.compile(rb"r(?:\s+=|=\s|='|=\"(?![A-Za-z]{0,3}[0-9]{1,7}\"))")
_WIDE: Final = re.compile(rb'r="([A-Za-z]{2,})[0-9]')  # a reference past column Z


def _greater_than(number: int) -> bytes:
    """A pattern for the whole numbers greater than `number` (leading zeros allowed)."""
    digits = str(number)
    longer = rb"[1-9]\d{%d,}" % len(digits)
    same = [
        digits[:at].encode() + rb"[%d-9]" % (int(digits[at]) + 1) + rb"\d" * (len(digits) - at - 1)
        for at in range(len(digits))
        if digits[at] != "9"
    ]
    return rb"0*(?:" + b"|".join([longer, *same]) + rb")(?!\d)"


@cache
def _taller(rows: int) -> re.Pattern[bytes]:
    """A search for a reference to a row past `rows`."""
    return re.compile(rb'r="[A-Za-z]+' + _greater_than(rows))


def _widest(xml: bytes, start: int, end: int) -> int:
    """The widest column a reference names, Z at least (one search where none is past Z)."""
    found = set(_WIDE.findall(xml, start, end))
    return max([_NARROW, *(column_number(letters.decode("ascii")) for letters in found)])


_NARROW: Final = 26  # one letter: columns A to Z


def _surely_within(xml: bytes, limits: ReadLimits) -> bool:
    """Whether byte searches prove the worksheet within the limits (False: parse it).

    Every cell and row must name its place as Excel writes it (`<c r="B7"`),
    or the searches cannot vouch for where the readers put it. Then the
    widest column named and a search for a row past what that width allows
    decide. The searches look between the first and the last mention of
    `sheetData`, where the readers find cells (the page margins' `header="0.3"`
    after it is no reference).
    """
    start = max(xml.find(b"sheetData"), 0)
    end = xml.rfind(b"sheetData")
    end = len(xml) if end <= start else end
    if (
        _UNPLACED.search(xml, start, end) is not None
        or (b":c" in xml and _PREFIXED.search(xml) is not None)
        or _ODD_REFERENCE.search(xml, start, end) is not None
    ):
        return False
    columns = _widest(xml, start, end)
    tallest = min(limits.max_rows, limits.max_cells // columns)
    if columns > limits.max_columns or tallest < 1:
        return False
    return _taller(tallest).search(xml, start, end) is None


_MERGE: Final = re.compile(rb"<(?:[\w.-]+:)?mergeCell\s[^>]*?ref\s*=\s*[\"']([^\"']*)")


def _check_merged(xml: bytes, sheet: str, limits: ReadLimits) -> None:
    """Refuse merged ranges reaching beyond the limits, or covering more cells than a sheet may.

    An editor lays out each cell of a merged range (openpyxl, opening an
    upload to annotate it, makes an object of each).
    """
    if b"mergeCell" not in xml:
        return
    ranges = set(_MERGE.findall(xml))
    if len(ranges) > limits.max_merged:  # too many to count what they cover
        refuse_merged(sheet, len(ranges), 0, limits)
    covered = 0
    for reference in ranges:
        for first_row, first_column, last_row, last_column in merged_range(
            reference.decode("ascii", "replace")
        ):
            refuse_extent(sheet, last_row, last_column, limits)
            covered += (abs(last_row - first_row) + 1) * (abs(last_column - first_column) + 1)
    refuse_merged(sheet, len(ranges), covered, limits)


def _xlsx_extent(xml: bytes, limits: ReadLimits) -> tuple[int, int]:
    """The rows and columns from A1 to a worksheet's last cell, as a reader places its cells.

    A row or cell without a reference follows the one before it, as the
    readers place it. Stops as soon as the extent is beyond the limits.
    """
    rows = columns = row = column = 0
    for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
        local = element.tag.rpartition("}")[2]
        if event == "end":
            if local == "row":
                element.clear()
            continue
        if local == "row":
            row, column = row_number(element, row), 0
        elif local == "c":
            position = cell_position(element.get("r") or "")
            if position is None:
                cell_row, column = row, column + 1
            else:
                cell_row, column = position
            rows, columns = max(rows, cell_row), max(columns, column)
            if limits.exceeded(rows, columns):
                break
    return rows, columns


# -- .xlsb: the records of a binary worksheet -------------------------------------------------

_XLSB_ROW: Final = 0x0000  # BrtRowHdr: the row's 0-based number first
_XLSB_CELLS: Final = frozenset(range(0x01, 0x0C))  # BrtCellBlank ... BrtFmlaError: column first
_XLSB_END_DATA: Final = 0x0092  # BrtEndSheetData


def _binary_worksheets(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    """(sheet name, part) of an .xlsb file's worksheets: every sheet part, named by its part."""
    for name in sorted(archive.namelist()):
        if name.startswith("xl/worksheets/") and name.endswith(".bin"):
            yield posixpath.basename(name).removesuffix(".bin"), name


def _varint(stream: IO[bytes], most: int) -> int | None:
    value = 0
    for shift in range(0, 7 * most, 7):
        byte = stream.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
    return value


def _xlsb_extent(stream: IO[bytes], limits: ReadLimits) -> tuple[int, int]:
    rows = columns = row = 0
    while True:
        kind = _varint(stream, 2)
        size = _varint(stream, 4)
        if kind is None or size is None or kind == _XLSB_END_DATA:
            break
        body = stream.read(size)
        if kind == _XLSB_ROW and len(body) >= 4:  # noqa: PLR2004 - a 4-byte row number
            row = struct.unpack_from("<I", body)[0] + 1
        elif kind in _XLSB_CELLS and len(body) >= 4:  # noqa: PLR2004 - a 4-byte column number
            column = struct.unpack_from("<I", body)[0] + 1
            rows, columns = max(rows, row), max(columns, column)
            if limits.exceeded(rows, columns):
                break
    return rows, columns
