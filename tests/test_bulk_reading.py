"""Reading workbooks: one contract for both readers, formats from content, unusable files."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioning.bulk import (
    CalamineReader,
    OpenpyxlReader,
    ReadLimits,
    SpreadsheetError,
    Workbook,
    WorkbookReader,
    read_workbook,
    recognise,
)

CORPUS = Path(__file__).parent / "corpus"
READERS: list[WorkbookReader] = [CalamineReader(), OpenpyxlReader()]

USERS = (
    ("First name", "Last name", "Email [Required]", "Personal mailbox", "Mobile", "Joined", "Full"),
    ("Ann", "Lee", "ann@acme.example", "Y", "0791234567", date(2026, 1, 5), "Ann Lee"),
    (),  # a blank row in the middle stays, so rows keep their numbers
    ("Bob", "Ng\u00a0", "BOB@acme.example", "n", 41791234567, datetime(2026, 1, 6, 9, 30)),  # noqa: DTZ001
    ("Čedomir", "Šimić", "cedomir@acme.example", None, 12.5, True),
)


def _users(book: Workbook) -> tuple[tuple[Any, ...], ...]:
    sheet = book.sheet("users")
    assert sheet is not None
    return sheet.rows


# -- the reader contract ----------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
@pytest.mark.parametrize("name", ["libreoffice.xlsx", "openpyxl.xlsx", "gnumeric.xlsx"])
def test_every_reader_reads_what_real_programs_wrote_alike(
    reader: WorkbookReader, name: str
) -> None:
    book = read_workbook(CORPUS / name, reader=reader)
    assert (book.format, book.names) == ("xlsx", ("Users", "Account"))
    expected: tuple[tuple[Any, ...], ...] = USERS
    if name == "openpyxl.xlsx":  # openpyxl keeps no value for its formula: an empty cell
        expected = (USERS[0], USERS[1][:-1], *USERS[2:])
    assert _users(book) == expected
    account = book.sheet("Account")
    assert account is not None
    assert account.cell(2, 2) == "system:member"
    assert account.cell(9, 9) is None


def test_the_default_reader_reads_ods_and_legacy_xls_too() -> None:
    assert _users(read_workbook(CORPUS / "libreoffice.xls")) == USERS
    assert _users(read_workbook(CORPUS / "gnumeric.xls")) == USERS
    ods = read_workbook(CORPUS / "libreoffice.ods")
    assert ods.format == "ods"
    *rows, last = _users(ods)
    assert tuple(rows) == USERS[:-1]
    assert last == (*USERS[-1][:-1], 1)  # ODS keeps TRUE as the number 1 with a boolean style


@pytest.mark.parametrize(
    ("reader", "name"),
    [(reader, "merged-libreoffice.xlsx") for reader in READERS]
    + [(CalamineReader(), "merged-libreoffice.xls")],
    ids=lambda value: getattr(value, "name", value),
)
def test_a_merged_range_gives_its_value_to_each_of_its_rows(
    reader: WorkbookReader, name: str
) -> None:
    users = read_workbook(CORPUS / name, reader=reader).sheet("Users")
    assert users is not None
    assert users.merged == ((2, 4, 5, 4),)
    assert [row[3:4] for row in users.rows[1:]] == [("Y",), ("Y",), ("Y",), (), ("N",)]


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_a_formula_no_program_computed_is_known_as_such(reader: WorkbookReader) -> None:
    computed = read_workbook(CORPUS / "libreoffice.xlsx", reader=reader).sheet("Users")
    uncomputed = read_workbook(CORPUS / "openpyxl.xlsx", reader=reader).sheet("Users")
    assert computed is not None
    assert uncomputed is not None
    assert computed.uncomputed == frozenset()
    assert uncomputed.uncomputed == frozenset({(2, 7)})


def test_the_format_comes_from_the_content_not_the_name(tmp_path: Path) -> None:
    disguised = tmp_path / "users.csv"
    disguised.write_bytes((CORPUS / "libreoffice.xlsx").read_bytes())
    assert read_workbook(disguised).format == "xlsx"
    with (CORPUS / "libreoffice.ods").open("rb") as stream:
        assert read_workbook(stream).format == "ods"
    assert read_workbook((CORPUS / "libreoffice.xls").read_bytes()).format == "xls"


def test_a_csv_is_the_users_sheet_with_or_without_a_byte_order_mark() -> None:
    text = "email;first name\nann@acme.example;Ann\n\nbob@acme.example;Bob\n"
    for data in (text.encode(), b"\xef\xbb\xbf" + text.encode()):  # Excel's "CSV UTF-8"
        book = read_workbook(data)
        assert book.format == "csv"
        assert _users(book) == (
            ("email", "first name"),
            ("ann@acme.example", "Ann"),
            (),
            ("bob@acme.example", "Bob"),
        )


def test_a_utf16_text_with_its_byte_order_mark_is_read_as_excel_saves_unicode_text() -> None:
    text = "email\tfirst name\nann@acme.example\tAnnelie\u0301se\n"
    for codec in ("utf-16-le", "utf-16-be"):
        mark = "\ufeff".encode(codec)
        book = read_workbook(mark + text.encode(codec))
        assert book.format == "csv"
        assert _users(book) == (("email", "first name"), ("ann@acme.example", "Annelie\u0301se"))


def test_a_csv_in_another_code_page_says_to_save_it_as_utf8() -> None:
    ansi = "email,first name\nann@acme.example,Ren\u00e9e\n".encode("cp1252")
    late = b"email,first name\n" + b"ann@acme.example,Ann\n" * 5_000 + "Ren\u00e9e".encode("cp1252")
    for data in (ansi, late):  # the second is UTF-8 for its first 64 KiB, and then not
        with pytest.raises(SpreadsheetError) as caught:
            read_workbook(data)
        assert caught.value.code == "spreadsheet.unreadable"
        assert "save it as CSV UTF-8" in caught.value.reason
    assert _code("\ufeffa\tb\n".encode("utf-16-le")[:-1]) == "spreadsheet.unreadable"


# -- files that are not usable workbooks ------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _code(source: Any, **options: Any) -> str:
    with pytest.raises(SpreadsheetError) as caught:
        read_workbook(source, **options)
    assert caught.value.reason  # words for people, never a bare traceback
    return caught.value.code


def test_a_zip_bomb_is_refused_before_anything_is_unpacked() -> None:
    bomb = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * 20_000_000})
    assert len(bomb) < 100_000
    assert _code(bomb) == "spreadsheet.too_large"
    honest = (CORPUS / "libreoffice.xlsx").read_bytes()
    assert _code(honest, limits=ReadLimits(max_unpacked_bytes=10_000)) == "spreadsheet.too_large"
    assert _code(honest, limits=ReadLimits(max_bytes=1_000)) == "spreadsheet.too_large"


def test_files_that_are_no_workbook_say_so(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    assert _code(png) == "spreadsheet.unreadable"
    assert _code(b"PK\x03\x04 not really a zip") == "spreadsheet.unreadable"
    assert _code(_zip({"word/document.xml": b"<w/>"})) == "spreadsheet.unreadable"
    broken = _zip({"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"<"})
    for reader in READERS:
        assert _code(broken, reader=reader) == "spreadsheet.unreadable"
    assert _code(tmp_path / "missing.xlsx") == "spreadsheet.unreadable"
    with (tmp_path / "text.csv").open("w+", encoding="utf-8") as text:
        assert _code(text) == "spreadsheet.unreadable"  # opened in text mode


def test_an_encrypted_workbook_is_named_as_such() -> None:
    # What Excel writes for a password-protected .xlsx: an OLE compound file with this stream.
    protected = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptionInfo".encode("utf-16-le")
    )
    assert _code(protected) == "spreadsheet.encrypted"


def test_row_limits_and_formats_a_reader_cannot_read() -> None:
    small = ReadLimits(max_rows=3)
    for reader in READERS:
        assert _code(CORPUS / "libreoffice.xlsx", reader=reader, limits=small) == (
            "spreadsheet.too_many_rows"
        )
    assert _code(b"a\nb\nc\nd\n", limits=small) == "spreadsheet.too_many_rows"
    assert _code(CORPUS / "libreoffice.ods", reader=OpenpyxlReader()) == "spreadsheet.unsupported"
    assert recognise((CORPUS / "libreoffice.xls").read_bytes()) == "xls"


# -- anything at all --------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12)
_VALUES = st.one_of(
    st.none(),
    _TEXT,
    st.integers(min_value=-(2**31), max_value=2**31),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)),
)


_VALUES_OR_FORMULAS = st.one_of(_VALUES, st.sampled_from(["=1+1", '=UPPER("a")', "=A1"]))
_RANGES = st.lists(
    st.tuples(st.integers(1, 8), st.integers(1, 6), st.integers(0, 3), st.integers(0, 2)),
    max_size=3,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_VALUES_OR_FORMULAS, max_size=6), max_size=8),
    title=st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=20),
    ranges=_RANGES,
)
def test_both_readers_agree_on_any_cells_and_sheet_shape(
    rows: list[list[object]], title: str, ranges: list[tuple[int, int, int, int]]
) -> None:
    """Values, formulas no program computed, and merged ranges, in any shape."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for values in rows:
        sheet.append(values)
    taken: set[tuple[int, int]] = set()
    for row, column, down, across in ranges:
        cells = {
            (r, c) for r in range(row, row + down + 1) for c in range(column, column + across + 1)
        }
        if len(cells) > 1 and not cells & taken:  # merged ranges may not overlap
            taken |= cells
            sheet.merge_cells(
                start_row=row, start_column=column, end_row=row + down, end_column=column + across
            )
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    calamine, plain = (read_workbook(data, reader=reader) for reader in READERS)
    assert calamine == plain


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=2000),
    prefix=st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]),
)
def test_any_bytes_give_a_workbook_or_a_spreadsheet_error(data: bytes, prefix: bytes) -> None:
    for reader in READERS:
        try:
            book = read_workbook(prefix + data, reader=reader)
        except SpreadsheetError:
            continue
        assert isinstance(book, Workbook)
