"""Reading workbooks: the format from the content, safety checks, and two reader adapters.

`read_workbook(source)` takes a path, bytes or a binary file. It recognises
the format from the bytes, never from a file name: .xlsx, .xlsm, .xlsb,
legacy .xls, .ods, or CSV text (UTF-8, with or without a byte-order mark,
or UTF-16 with one, as Excel saves "Unicode text"; read as the `Users` sheet
alone). Before any reader sees a zip-based file,
the sizes its entries declare are checked against `ReadLimits`, so a zip
bomb is refused unopened.

Two adapters implement the `WorkbookReader` port and pass one contract
suite: `CalamineReader` (python-calamine, the default: fast, and it refuses
XML entity bombs) reads every format; `OpenpyxlReader` (openpyxl in
read-only mode, parsing through defusedxml) reads .xlsx and .xlsm. Whatever
makes a file unusable is a `SpreadsheetError`, never a reader's own error.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import warnings
import zipfile
from pathlib import Path
from typing import IO, Final, Protocol

import attrs

from provisioning.bulk._extent import check_extent
from provisioning.bulk._limits import (
    DEFAULT_LIMITS,
    ReadLimits,
    refuse_merged,
    too_large,
    unreadable,
)
from provisioning.bulk._ods import read_ods
from provisioning.bulk._workbook import CellRange, Sheet, Workbook, spread_merged, trimmed_rows
from provisioning.bulk._xlsx import sheet_extras
from provisioning.errors import SpreadsheetError, codes

__all__ = [
    "CSV_SHEET",
    "DEFAULT_LIMITS",
    "CalamineReader",
    "OpenpyxlReader",
    "ReadLimits",
    "Source",
    "WorkbookReader",
    "read_workbook",
    "recognise",
]

CODES: Final = codes(
    invalid=(
        "spreadsheet.encrypted",
        "spreadsheet.unsupported",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

Source = str | os.PathLike[str] | bytes | IO[bytes]
"""Where a workbook comes from: a path, its bytes, or a binary file open for reading."""

CSV_SHEET: Final = "Users"
"""The sheet a CSV file is read as."""

_ZIP: Final = b"PK\x03\x04"
_CFB: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .xls, or encrypted OOXML
_ENCRYPTED: Final = "EncryptionInfo".encode("utf-16-le")
_ODS_MIME: Final = b"application/vnd.oasis.opendocument.spreadsheet"


class WorkbookReader(Protocol):
    """Reads the sheets of a workbook whose format `recognise` found.

    `read` returns the sheets with `Cell` values (see `_workbook`), raises
    `SpreadsheetError` for a file it cannot use, and never anything else.
    """

    @property
    def name(self) -> str:
        """What the reader is called in messages."""
        ...

    @property
    def formats(self) -> frozenset[str]:
        """The formats it reads (`xlsx`, `ods` ...)."""
        ...

    def read(self, data: bytes, format: str, limits: ReadLimits) -> Workbook:  # noqa: A002
        """The workbook in `data`, of the given format."""
        ...


def recognise(data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> str:
    """The format of a workbook's bytes: xlsx, xlsm, xlsb, xls, ods or csv.

    A zip-based file's declared sizes are checked here, before anything is
    unpacked.
    """
    if len(data) > limits.max_bytes:
        raise too_large(f"the file has {len(data):,} bytes, more than {limits.max_bytes:,}")
    if data.startswith(_ZIP):
        return _zip_format(data, limits)
    if data.startswith(_CFB):
        if _ENCRYPTED in data:
            raise SpreadsheetError(
                code="spreadsheet.encrypted",
                reason="the workbook is protected by a password: save a copy without one",
            )
        return "xls"
    if data.startswith(_UTF16_BOMS) or _looks_like_text(data):
        return "csv"
    if _other_text(data):
        raise _not_utf8()
    raise unreadable("this is not a spreadsheet (.xlsx, .xlsm, .xlsb, .xls, .ods or CSV)")


_SAMPLE: Final = 65536
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # Excel's "Unicode text"
# Bytes no text file holds: the C0 controls but tab, line feed, form feed and carriage return.
_BINARY: Final = frozenset(range(32)) - {9, 10, 12, 13}


def _looks_like_text(data: bytes) -> bool:
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return exc.start > _SAMPLE - 4  # a character cut off at the sample's end
    return True


def _other_text(data: bytes) -> bool:
    """Whether the bytes read as text in some 8-bit code page (they are not UTF-8)."""
    sample = data[:_SAMPLE]
    return bool(sample) and not _BINARY.intersection(sample) and b"\n" in sample


def _not_utf8() -> SpreadsheetError:
    return unreadable(
        "this CSV file is not UTF-8 text (Excel's plain CSV is saved in the computer's own"
        " code page): save it as CSV UTF-8 and upload it again"
    )


def _zip_format(data: bytes, limits: ReadLimits) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise unreadable("the file is a broken zip archive, not a usable workbook") from exc
    unpacked = sum(entry.file_size for entry in entries)
    bomb = any(
        entry.file_size > limits.max_ratio * max(entry.compress_size, 1024) for entry in entries
    )
    if unpacked > limits.max_unpacked_bytes or bomb:
        raise too_large(
            f"the workbook unpacks to {unpacked:,} bytes"
            + (", far more than it holds packed" if bomb else "")
            + f" (at most {limits.max_unpacked_bytes:,}): refused unopened",
        )
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" in names:
        macros = "xl/vbaProject.bin" in names
        return "xlsm" if macros else "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "mimetype" in names:
        with archive.open("mimetype") as mimetype:
            if mimetype.read(len(_ODS_MIME) + 16).strip() == _ODS_MIME:
                return "ods"
    raise unreadable("the zip archive is not a spreadsheet (no workbook inside)")


@attrs.frozen
class CalamineReader:
    """python-calamine: .xlsx, .xlsm, .xlsb and .xls; .ods is read as it streams (`_ods`)."""

    name: str = "calamine"
    formats: frozenset[str] = frozenset({"xlsx", "xlsm", "xlsb", "xls", "ods"})

    def read(self, data: bytes, format: str, limits: ReadLimits) -> Workbook:  # noqa: A002
        """The workbook in `data`, every sheet from its cell A1."""
        import python_calamine  # noqa: PLC0415 - the reader's own dependency, loaded when used

        if format == "ods":
            return _read_ods(data, limits)
        check_extent(data, format, limits)  # before calamine lays any sheet out in memory
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheets = []
            for name in book.sheet_names:
                sheet = book.get_sheet_by_name(name)
                raw = sheet.to_python(skip_empty_area=False)
                rows = trimmed_rows(raw, sheet=name, limits=limits)
                merged = _calamine_merged(sheet) if format in ("xls", "xlsb") else ()
                sheets.append(Sheet(name=name, rows=rows, merged=merged))
        except SpreadsheetError:
            raise
        except python_calamine.PasswordError as exc:
            raise SpreadsheetError(
                code="spreadsheet.encrypted",
                reason="the workbook is protected by a password: save a copy without one",
            ) from exc
        except Exception as exc:
            raise unreadable(f"the {format} file could not be read: {_first_line(exc)}") from exc
        except BaseException as exc:  # a panic of the Rust side is no Exception
            if type(exc).__name__ != "PanicException":
                raise
            raise unreadable(f"the {format} file could not be read: {_first_line(exc)}") from exc
        return Workbook(format=format, sheets=tuple(sheets))


@attrs.frozen
class OpenpyxlReader:
    """openpyxl in read-only mode, with defusedxml: .xlsx and .xlsm."""

    name: str = "openpyxl"
    formats: frozenset[str] = frozenset({"xlsx", "xlsm"})

    def read(self, data: bytes, format: str, limits: ReadLimits) -> Workbook:  # noqa: A002
        """The workbook in `data`; dimensions are recomputed, as some programs write none."""
        import openpyxl  # noqa: PLC0415 - loaded when used

        check_extent(data, format, limits)  # openpyxl pads every row to the widest
        if _strict(data):
            raise SpreadsheetError(
                code="spreadsheet.unsupported",
                reason="the openpyxl reader does not read Strict Open XML workbooks:"
                " use the default reader, or save the file as an ordinary .xlsx",
            )
        try:
            with warnings.catch_warnings():  # a writer's missing default style, say: not ours
                warnings.simplefilter("ignore")
                book = openpyxl.load_workbook(
                    io.BytesIO(data), read_only=True, data_only=True, keep_links=False
                )
        except Exception as exc:
            raise unreadable(f"the {format} file could not be read: {_first_line(exc)}") from exc
        try:
            sheets = []
            for worksheet in book.worksheets:
                if not hasattr(worksheet, "reset_dimensions"):  # a chartsheet: no cells
                    continue
                worksheet.reset_dimensions()
                rows = worksheet.iter_rows(values_only=True)
                sheets.append(
                    Sheet(
                        name=worksheet.title,
                        rows=trimmed_rows(rows, sheet=worksheet.title, limits=limits),
                    )
                )
        except SpreadsheetError:
            raise
        except Exception as exc:
            raise unreadable(f"the {format} file could not be read: {_first_line(exc)}") from exc
        finally:
            book.close()
        return Workbook(format=format, sheets=tuple(sheets))


def _strict(data: bytes) -> bool:
    """Whether an .xlsx file is Strict Open XML (its workbook in the Strict namespace)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b"http://purl.oclc.org/ooxml/spreadsheetml/main" in archive.read(
                "xl/workbook.xml"
            )
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return False


def _calamine_merged(sheet: object) -> tuple[CellRange, ...]:
    """A calamine sheet's merged ranges, 1-based (its .xlsx ones are read from the XML)."""
    ranges = getattr(sheet, "merged_cell_ranges", None) or ()
    return tuple(
        (first_row + 1, first_column + 1, last_row + 1, last_column + 1)
        for (first_row, first_column), (last_row, last_column) in ranges
    )


def _read_ods(data: bytes, limits: ReadLimits) -> Workbook:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = read_ods(archive, limits)
    except SpreadsheetError:
        raise
    except Exception as exc:
        raise unreadable(f"the ods file could not be read: {_first_line(exc)}") from exc
    return Workbook(format="ods", sheets=sheets)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _read_csv(data: bytes, limits: ReadLimits) -> Workbook:
    encoding = "utf-16" if data.startswith(_UTF16_BOMS) else "utf-8-sig"
    try:
        text = data.decode(encoding, errors="strict")
    except UnicodeDecodeError:  # the start was text, a later part is not
        if encoding == "utf-16":
            raise unreadable("this UTF-16 text is broken: save it as CSV UTF-8") from None
        raise _not_utf8() from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t")
    except csv.Error:  # rows of different lengths (a Modoboa export, say): the most common one
        dialect = _plain_dialect(text[:8192])
    try:
        rows = trimmed_rows(
            csv.reader(io.StringIO(text, newline=""), dialect), sheet=CSV_SHEET, limits=limits
        )
    except csv.Error as exc:
        raise unreadable(f"the CSV file could not be read: {exc}") from exc
    return Workbook(format="csv", sheets=(Sheet(name=CSV_SHEET, rows=rows),))


def _plain_dialect(sample: str) -> type[csv.Dialect]:
    """Excel's CSV dialect with the delimiter that the most of the first lines hold."""
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    best = max(",;\t", key=lambda d: (sum(d in line for line in lines), sample.count(d)))
    if best == ",":
        return csv.excel
    return type("_Delimited", (csv.excel,), {"delimiter": best})


def _bytes_of(source: Source, limits: ReadLimits) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise too_large(f"{path.name} has {size:,} bytes, more than {limits.max_bytes:,}")
            return path.read_bytes()
        except OSError as exc:
            raise unreadable(f"{path} cannot be read: {exc.strerror or exc}") from exc
    try:
        data = source.read(limits.max_bytes + 1)
    except (OSError, ValueError) as exc:
        raise unreadable(f"the file cannot be read: {exc}") from exc
    if not isinstance(data, bytes):
        raise unreadable("the file must be opened in binary mode")
    return data


def read_workbook(
    source: Source,
    *,
    reader: WorkbookReader | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Workbook:
    r"""Read a workbook (or CSV) from a path, bytes or a binary file.

    Raises `SpreadsheetError` for a file that is not a usable workbook; the
    sheets' contents are checked by whoever maps them (see `bulk`).

    Examples:
        >>> book = read_workbook(b"email,first name\nann@acme.example,Ann\n")
        >>> book.format, book.sheet("users").rows
        ('csv', (('email', 'first name'), ('ann@acme.example', 'Ann')))
    """
    data = _bytes_of(source, limits)
    found = recognise(data, limits)
    if found == "csv":
        return _read_csv(data, limits)
    chosen = reader if reader is not None else CalamineReader()
    if found not in chosen.formats:
        raise SpreadsheetError(
            code="spreadsheet.unsupported",
            reason=f"the {chosen.name} reader does not read {found} files: use the default reader",
        )
    book = chosen.read(data, found, limits)
    if found in ("xlsx", "xlsm"):
        book = _with_extras(book, data)
    return attrs.evolve(book, sheets=tuple(_spread(sheet, limits) for sheet in book.sheets))


def _spread(sheet: Sheet, limits: ReadLimits) -> Sheet:
    """`spread_merged`, once its ranges are known to cost no more than the sheet may hold."""
    ranges = tuple(dict.fromkeys(sheet.merged))  # the same range written twice counts once
    spread = sum(  # the cells each range's rows are widened to
        max(0, min(last_row, len(sheet.rows)) - first_row) * first_column
        for first_row, first_column, last_row, _ in ranges
    )
    refuse_merged(sheet.name, len(ranges), spread, limits)
    return spread_merged(attrs.evolve(sheet, merged=ranges))


def _with_extras(book: Workbook, data: bytes) -> Workbook:
    """The sheets with their merged ranges, uncomputed formulas and hidden rows, from the XML."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            extras = sheet_extras(archive)
    except SpreadsheetError:
        raise
    except Exception as exc:  # a part the reader read but the scan cannot
        raise unreadable(f"the workbook's sheets could not be read: {_first_line(exc)}") from exc
    if not extras:
        return book
    sheets = tuple(
        sheet
        if (found := extras.get(sheet.name)) is None
        else attrs.evolve(
            _blanked(sheet, found.uncomputed),
            merged=found.merged,
            uncomputed=found.uncomputed,
            hidden_rows=found.hidden_rows,
        )
        for sheet in book.sheets
    )
    return attrs.evolve(book, sheets=sheets)


def _blanked(sheet: Sheet, cells: frozenset[tuple[int, int]]) -> Sheet:
    """The sheet with its uncomputed formulas' cells empty: a writer's placeholder is no value."""
    if not cells:
        return sheet
    rows = list(sheet.rows)
    for row, column in cells:
        if row <= len(rows) and column <= len(rows[row - 1]):
            values = list(rows[row - 1])
            values[column - 1] = None
            rows[row - 1] = tuple(values)
    return attrs.evolve(sheet, rows=tuple(rows))
