"""Small files that ask for huge sheets are refused before any reader lays them out.

Each hostile file is read in a child process: a regression that aborts the
interpreter (python-calamine's failed allocation is a SIGABRT) fails its test
instead of killing the test run.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pytest

from provisioning.bulk import (
    CalamineReader,
    OpenpyxlReader,
    ReadLimits,
    SpreadsheetError,
    WorkbookReader,
    read_workbook,
    write_annotated,
)

READERS: list[WorkbookReader] = [CalamineReader(), OpenpyxlReader()]
_ONE_CELL = '<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c></row>'


def _xlsx(sheet_data: str, *, after: str = "", prefix: str = "") -> bytes:
    """A one-sheet workbook (`Users`) whose worksheet holds `sheet_data`, as written here."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Users"
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(buffer)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    declared = f'xmlns:{prefix[:-1]}="{main}"' if prefix else f'xmlns="{main}"'
    xml = (
        f"<{prefix}worksheet {declared}><{prefix}sheetData>{sheet_data}</{prefix}sheetData>"
        f"{after}</{prefix}worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = xml.encode()
            archive.writestr(entry.filename, data)
    return out.getvalue()


def _ods(table: str) -> bytes:
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f'<office:body><office:spreadsheet><table:table table:name="Users">{table}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", content)
    return out.getvalue()


def _grid(columns: Iterable[str], rows: int) -> str:
    """`rows` rows holding a 1 in each of `columns`, written as Excel writes them."""
    cells = "".join(f'<c r="{column}{{n}}"><v>1</v></c>' for column in columns)
    return "".join(f'<row r="{n}">{cells.format(n=n)}</row>' for n in range(1, rows + 1))


def _in_child(code: str, tmp_path: Path) -> str:
    """Run `code` in a fresh interpreter; its output, after it ended by itself."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout.strip()


_READ_EVERY_WAY = """
    import sys
    from provisioning import Actor, Context, CreateAccount, run
    from provisioning.bulk import (
        CalamineReader, OpenpyxlReader, SpreadsheetError, plan_users, read_workbook,
        write_annotated,
    )
    data = open(sys.argv[1] if len(sys.argv) > 1 else "upload", "rb").read()
    ctx = Context.in_memory()
    run(ctx, Actor.platform(), CreateAccount(name="Acme", account_id="acme"))
    ways = {
        "calamine": lambda: read_workbook(data, reader=CalamineReader()),
        "openpyxl": lambda: read_workbook(data, reader=OpenpyxlReader()),
        "plan_users": lambda: plan_users(ctx, Actor.platform(), "acme", data),
        "write_annotated": lambda: write_annotated(data, (), "annotated.xlsx"),
    }
    for name, way in ways.items():
        try:
            way()
        except SpreadsheetError as error:
            print(name, error.code)
        else:
            print(name, "read")
"""


@pytest.mark.parametrize(
    ("name", "sheet_data", "after"),
    [
        # One cell at the sheet's last cell: 1.5 KB asking for 17 billion cells.
        ("last cell", _ONE_CELL + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', ""),
        ("last cell alone", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', ""),
        # A cell in the last column on each of 199,998 rows.
        (
            "a column of XFD",
            _ONE_CELL
            + "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(2, 200_000)),
            "",
        ),
        # The same reach, written so that only parsing finds it.
        ("single quotes", _ONE_CELL + "<row r='9'><c r='XFD9'><v>1</v></c></row>", ""),
        ("spaces", _ONE_CELL + '<row r = "9"><c r = "XFD9"><v>1</v></c></row>', ""),
        ("reference second", _ONE_CELL + '<row r="9"><c s="0" r="XFD9"><v>1</v></c></row>', ""),
        ("lower case", _ONE_CELL + '<row r="9"><c r="xfd9"><v>1</v></c></row>', ""),
        ("dollars", _ONE_CELL + '<row r="9"><c r="$XFD$9"><v>1</v></c></row>', ""),
        ("tall", _ONE_CELL + '<row r="999999"><c r="A999999"><v>1</v></c></row>', ""),
    ],
)
def test_a_sheet_reaching_far_is_refused_on_every_road_without_killing_the_process(
    tmp_path: Path, name: str, sheet_data: str, after: str
) -> None:
    (tmp_path / "upload").write_bytes(_xlsx(sheet_data, after=after))
    found = dict(line.split() for line in _in_child(_READ_EVERY_WAY, tmp_path).splitlines())
    expected = "spreadsheet.too_many_rows" if name == "tall" else "spreadsheet.too_large"
    assert found == dict.fromkeys(
        ["calamine", "openpyxl", "plan_users", "write_annotated"], expected
    ), name
    assert not (tmp_path / "annotated.xlsx").exists()


def test_cells_written_without_their_reference_count_where_readers_place_them() -> None:
    """A row of 40 unreferenced cells reaches column AN, as both readers lay it out."""
    wide = _ONE_CELL + '<row r="2">' + "<c><v>1</v></c>" * 40 + "</row>"
    narrow = ReadLimits(max_columns=39)
    for reader in READERS:
        with pytest.raises(SpreadsheetError) as refused:
            read_workbook(_xlsx(wide), reader=reader, limits=narrow)
        assert refused.value.code == "spreadsheet.too_large"
        assert "AN2" in refused.value.reason
        book = read_workbook(_xlsx(wide), reader=reader, limits=ReadLimits(max_columns=40))
        sheet = book.sheet("Users")
        assert sheet is not None
        assert len(sheet.rows[1]) == 40


def test_a_prefixed_or_tabbed_cell_is_parsed_not_trusted() -> None:
    prefixed = '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row><x:row r="2">'
    prefixed += "<x:c><x:v>1</x:v></x:c>" * 30 + "</x:row>"
    tabbed = _ONE_CELL + '<row\tr="2"><c\tr="AD2"><v>1</v></c></row>'
    for data in (_xlsx(prefixed, prefix="x:"), _xlsx(tabbed)):
        for reader in READERS:
            with pytest.raises(SpreadsheetError) as refused:
                read_workbook(data, reader=reader, limits=ReadLimits(max_columns=29))
            assert refused.value.code == "spreadsheet.too_large"
            assert "AD2" in refused.value.reason


def test_the_limits_bound_rows_times_columns_as_well() -> None:
    rows = _grid("ABCDEFGHIJ", 100)
    assert read_workbook(_xlsx(rows), limits=ReadLimits(max_cells=1_000)).sheets
    for reader in READERS:
        with pytest.raises(SpreadsheetError) as refused:
            read_workbook(_xlsx(rows), reader=reader, limits=ReadLimits(max_cells=999))
        assert refused.value.code == "spreadsheet.too_large"


def test_a_merge_over_the_whole_sheet_is_refused_on_every_road(tmp_path: Path) -> None:
    """openpyxl, opening an upload to annotate it, makes an object of each merged cell."""
    merged = '<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
    (tmp_path / "upload").write_bytes(_xlsx(_ONE_CELL, after=merged))
    found = dict(line.split() for line in _in_child(_READ_EVERY_WAY, tmp_path).splitlines())
    assert set(found.values()) == {"spreadsheet.too_large"}


def test_many_copies_of_a_merged_range_cost_one() -> None:
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 401))
    copies = '<mergeCell ref="A1:A400"/>' * 20_000
    book = read_workbook(_xlsx(rows, after=f"<mergeCells>{copies}</mergeCells>"))
    sheet = book.sheet("Users")
    assert sheet is not None
    assert sheet.rows[399] == (1,)  # the range's value on each of its rows
    distinct = "".join(f'<mergeCell ref="B{n}:B400"/>' for n in range(1, 400))
    with pytest.raises(SpreadsheetError) as refused:
        read_workbook(
            _xlsx(rows, after=f"<mergeCells>{distinct}</mergeCells>"),
            limits=ReadLimits(max_cells=10_000),
        )
    assert refused.value.code == "spreadsheet.too_large"


@pytest.mark.parametrize(
    ("table", "code"),
    [
        (  # a million rows of one value, in a few bytes
            (
                '<table:table-row table:number-rows-repeated="1048576">'
                '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
            ),
            "spreadsheet.too_many_rows",
        ),
        (  # a value in every column
            (
                '<table:table-row><table:table-cell table:number-columns-repeated="16384"'
                ' office:value-type="float" office:value="1"/></table:table-row>'
            ),
            "spreadsheet.too_large",
        ),
        (  # empty repeats, then a value at the far end
            (
                '<table:table-row table:number-rows-repeated="1048575"><table:table-cell/>'
                "</table:table-row><table:table-row>"
                '<table:table-cell table:number-columns-repeated="16383"/>'
                '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
            ),
            "spreadsheet.too_large",
        ),
    ],
)
def test_an_ods_asking_for_a_huge_sheet_is_refused_as_it_streams(
    tmp_path: Path, table: str, code: str
) -> None:
    (tmp_path / "upload").write_bytes(_ods(table))
    found = dict(line.split() for line in _in_child(_READ_EVERY_WAY, tmp_path).splitlines())
    assert found["calamine"] == found["plan_users"] == found["write_annotated"] == code
    assert found["openpyxl"] == "spreadsheet.unsupported"


def test_an_ods_s_empty_repeats_are_counted_not_laid_out() -> None:
    """LibreOffice ends each row and sheet with thousands of repeated empty cells."""
    table = (
        '<table:table-row><table:table-cell office:value-type="string"><text:p>Email</text:p>'
        '</table:table-cell><table:table-cell table:number-columns-repeated="16383"/>'
        '</table:table-row><table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    book = read_workbook(_ods(table))
    sheet = book.sheet("Users")
    assert sheet is not None
    assert sheet.rows == (("Email",),)


def test_a_csv_header_of_a_million_cells_is_refused_not_planned() -> None:
    header = ",".join(f"c{n}" for n in range(1_000_000)).encode()
    with pytest.raises(SpreadsheetError) as refused:
        read_workbook(header + b"\n")
    assert refused.value.code == "spreadsheet.too_large"
    assert "1,024 columns" in refused.value.reason


def test_the_command_line_refuses_the_file_in_one_line(tmp_path: Path) -> None:
    from test_cli import cli, initialised  # noqa: PLC0415 - the console script's helpers

    initialised(tmp_path)
    upload = tmp_path / "users.xlsx"
    upload.write_bytes(_xlsx(_ONE_CELL + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))
    done = cli("import", upload, "--dry-run", cwd=tmp_path)
    assert done.returncode != 0
    assert "spreadsheet.too_large" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_link_a_folder_or_a_device_is_never_replaced_by_a_written_file(tmp_path: Path) -> None:
    from provisioning import Actor, Context, CreateAccount, run  # noqa: PLC0415
    from provisioning.bulk import write_template, write_users_report  # noqa: PLC0415

    ctx = Context.in_memory()
    run(ctx, Actor.platform(), CreateAccount(name="Acme", account_id="acme"))
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "report.xlsx"
    link.symlink_to(target)
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    writers = (
        lambda where: write_users_report(ctx, Actor.platform(), "acme", where),
        lambda where: write_template(ctx, Actor.platform(), "acme", where),
        lambda where: write_annotated(b"email\nann@acme.example\n", (), where),
    )
    for write in writers:
        for where in (link, folder, Path("/dev/null")):
            with pytest.raises(SpreadsheetError) as refused:
                write(where)
            assert refused.value.code == "spreadsheet.unwritable"
    assert link.is_symlink()
    assert target.read_text() == "keep me"
    assert Path("/dev/null").is_char_device()


def test_the_command_line_reads_no_fifo_and_checks_a_size_before_reading(tmp_path: Path) -> None:
    import os  # noqa: PLC0415

    from test_cli import cli, initialised  # noqa: PLC0415 - the console script's helpers

    initialised(tmp_path)
    fifo = tmp_path / "users.csv"
    os.mkfifo(fifo)
    done = cli("import", fifo, "--dry-run", cwd=tmp_path)  # would block forever if read
    assert done.returncode == 2
    assert "not a regular file" in done.stderr


def test_a_wide_sheet_written_as_excel_writes_it_is_bounded_by_its_widest_column() -> None:
    """Past column Z the byte search reads the widest column named, then bounds the rows."""
    rows = _grid(["A", "AA", "AB", "AC", "AD"], 100)  # to AD: 30 columns
    assert read_workbook(_xlsx(rows), limits=ReadLimits(max_cells=3_000)).sheets
    for reader in READERS:
        with pytest.raises(SpreadsheetError) as refused:
            read_workbook(_xlsx(rows), reader=reader, limits=ReadLimits(max_cells=2_999))
        assert refused.value.code == "spreadsheet.too_large"
        assert "AD100" in refused.value.reason
    with pytest.raises(SpreadsheetError) as refused:
        read_workbook(_xlsx(rows), limits=ReadLimits(max_columns=29))
    assert "30 columns" in refused.value.reason
