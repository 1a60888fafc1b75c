"""What the cell values of an .xlsx file do not say: merged ranges and uncomputed formulas.

Neither reader reports them the same way (openpyxl's read-only mode knows
no merged cells, and both read an uncomputed formula as an empty cell), so
they are read here, once, from the worksheets' XML, through defusedxml. A
worksheet that has neither (most of them) is only searched, not parsed.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import IO, Final
from xml.etree.ElementTree import Element

import attrs
from defusedxml import ElementTree

from provisioning.bulk._workbook import CellRange

__all__ = [
    "SheetExtras",
    "cell_position",
    "column_number",
    "merged_range",
    "row_number",
    "sheet_extras",
    "sheet_parts",
]

_MAIN: Final = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIPS: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# Excel's "Strict Open XML Spreadsheet" names the same elements in namespaces of its own.
_STRICT_MAIN: Final = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"
_STRICT_RELATIONSHIPS: Final = "{http://purl.oclc.org/ooxml/officeDocument/relationships}"
_PACKAGE: Final = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_WORTH_PARSING: Final = re.compile(rb"<(?:\w+:)?(?:f|mergeCell)[\s>/]")
_HIDDEN: Final = re.compile(rb"\shidden\s*=\s*[\"'](?:1|true)")
_REFERENCE: Final = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


@attrs.frozen
class SheetExtras:
    """One worksheet's merged ranges and cells holding a formula with no computed value."""

    merged: tuple[CellRange, ...] = ()
    uncomputed: frozenset[tuple[int, int]] = frozenset()
    hidden_rows: frozenset[int] = frozenset()


def cell_position(reference: str) -> tuple[int, int] | None:
    """The (row, column) of a reference such as `C7` (None if it is not one)."""
    found = _REFERENCE.fullmatch(reference.strip())
    if found is None:
        return None
    return int(found.group(2)), column_number(found.group(1))


def column_number(letters: str) -> int:
    """The 1-based number of a column's letters (`A` is 1, `xfd` 16384)."""
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    return column


def sheet_extras(archive: zipfile.ZipFile) -> dict[str, SheetExtras]:
    """Each sheet's extras, by sheet name; sheets with none are left out.

    A workbook that asks to be computed when it is opened (`fullCalcOnLoad`,
    as xlsxwriter writes) keeps no value its formulas can be trusted for:
    each of its formulas is uncomputed.
    """
    found: dict[str, SheetExtras] = {}
    recompute = _recomputed_on_load(archive)
    for name, part in sheet_parts(archive, listed_only=True):
        try:
            data = archive.read(part)
        except KeyError:
            continue
        hidden = b"hidden" in data and _HIDDEN.search(data) is not None  # a byte search first
        if not hidden and _WORTH_PARSING.search(data) is None:
            continue
        extras = _parse(archive.open(part), recompute=recompute)
        if extras.merged or extras.uncomputed or extras.hidden_rows:
            found[name] = extras
    return found


def _recomputed_on_load(archive: zipfile.ZipFile) -> bool:
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    for main in (_MAIN, _STRICT_MAIN):
        settings = book.find(f"{main}calcPr")
        if settings is not None:
            return settings.get("fullCalcOnLoad", "").strip().lower() in ("1", "true")
    return False


def sheet_parts(
    archive: zipfile.ZipFile, *, listed_only: bool = False
) -> Iterator[tuple[str, str]]:
    """(sheet name, the worksheet's part in the archive), in the workbook's order.

    Transitional and Strict files alike. Unless `listed_only`, the parts under
    `xl/worksheets/` the workbook does not list follow, named by their part.
    """
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    try:
        links = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        links = ElementTree.fromstring(b"<Relationships/>")
    targets = {
        link.get("Id"): link.get("Target", "") for link in links.iter(f"{_PACKAGE}Relationship")
    }
    seen: set[str] = set()
    for main, relationships in ((_MAIN, _RELATIONSHIPS), (_STRICT_MAIN, _STRICT_RELATIONSHIPS)):
        for sheet in book.iter(f"{main}sheet"):
            target = targets.get(sheet.get(f"{relationships}id"))
            if not target:
                continue
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            part = posixpath.normpath(part)
            seen.add(part)
            yield sheet.get("name", ""), part
    if listed_only:
        return
    for part in archive.namelist():
        if part.startswith("xl/worksheets/") and part.endswith(".xml") and part not in seen:
            yield posixpath.basename(part).removesuffix(".xml"), part


def _parse(stream: IO[bytes], *, recompute: bool = False) -> SheetExtras:
    merged: list[CellRange] = []
    uncomputed: set[tuple[int, int]] = set()
    hidden: set[int] = set()
    row = 0
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        tag = element.tag.replace(_STRICT_MAIN, _MAIN, 1)
        if event == "start":
            if tag == f"{_MAIN}row":
                row = row_number(element, row)
                if element.get("hidden", "").strip().lower() in ("1", "true"):
                    hidden.add(row)
            continue
        if tag == f"{_MAIN}c":
            position = cell_position(element.get("r", ""))
            if position is not None and _uncomputed(element, recompute=recompute):
                uncomputed.add(position)
            element.clear()
        elif tag == f"{_MAIN}row":
            element.clear()
        elif tag == f"{_MAIN}mergeCell":
            merged.extend(merged_range(element.get("ref", "")))
    return SheetExtras(
        merged=tuple(merged), uncomputed=frozenset(uncomputed), hidden_rows=frozenset(hidden)
    )


def merged_range(reference: str) -> list[CellRange]:
    """The range of a `mergeCell` reference (`D2:D5`); none if it is not one."""
    first, _, last = reference.partition(":")
    start, end = cell_position(first), cell_position(last or first)
    if start is None or end is None:
        return []
    return [(start[0], start[1], end[0], end[1])]


def row_number(row: Element, before: int) -> int:
    """A row's number: its reference, or the one after the row before it."""
    number = row.get("r", "").strip()
    return int(number) if number.isdigit() else before + 1


def _uncomputed(cell: Element, *, recompute: bool) -> bool:
    """A formula cell whose value was never computed (an empty text result is a value).

    With `recompute`, the value a writer put there is a placeholder: uncomputed.
    """
    main = _STRICT_MAIN if cell.tag.startswith(_STRICT_MAIN) else _MAIN
    if cell.find(f"{main}f") is None:
        return False
    if recompute:
        return True
    value = cell.find(f"{main}v")
    return (value is None or not value.text) and cell.get("t") != "str"
