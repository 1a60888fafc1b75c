"""The files admins bring, as real programs and the systems they leave write them.

Each file of `tests/corpus/` is imported into a fresh account and its
outcome checked: who is created, how, and which issues are said where. A
file the reader matters for is read by every reader that reads its format.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from conftest import OPERATOR
from provisioning import Context, SpreadsheetError, queries
from provisioning.bulk import (
    UserRow,
    UsersImport,
    WorkbookReader,
    apply_users,
    plan_users,
    read_workbook,
    write_annotated,
    write_template,
    write_users_report,
)
from provisioning.model import User, UserStatus
from test_bulk_reading import READERS, USERS

CORPUS = Path(__file__).parent / "corpus"


def located(planned: UsersImport) -> set[tuple[str, str]]:
    return {(issue.code, str(issue.location)) for issue in planned.issues}


def user(ctx: Context, address: str) -> User:
    (found,) = queries.users(ctx, OPERATOR, "acme", search=address).items
    return queries.get_user(ctx, OPERATOR, found.id)


def _readers(name: str) -> list[WorkbookReader | None]:
    return [*READERS] if name.endswith(".xlsx") else [None]


# -- what real programs write ------------------------------------------------------------------


def test_gnumeric_s_ods_is_read_like_the_others() -> None:
    """python-calamine refused Gnumeric's indented content.xml ("Cannot detect file format")."""
    book = read_workbook(CORPUS / "gnumeric.ods")
    assert (book.format, book.names) == ("ods", ("Users", "Account"))
    sheet = book.sheet("Users")
    assert sheet is not None
    assert sheet.rows == USERS
    account = book.sheet("Account")
    assert account is not None
    assert account.cell(2, 2) == "system:member"


def test_libreoffice_s_csv_holds_the_same_values_as_text() -> None:
    sheet = read_workbook(CORPUS / "libreoffice.csv").sheet("Users")
    assert sheet is not None
    assert sheet.rows[1] == (
        "Ann",
        "Lee",
        "ann@acme.example",
        "Y",
        "0791234567",
        "2026-01-05",
        "Ann Lee",
    )
    assert sheet.rows[3][:4] == ("Bob", "Ng\u00a0", "BOB@acme.example", "n")


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_formulas_xlsxwriter_left_to_compute_are_not_read_as_their_zero(
    acme: Context, reader: WorkbookReader
) -> None:
    """xlsxwriter writes <v>0</v> and asks the program that opens it to compute everything."""
    sheet = read_workbook(CORPUS / "xlsxwriter.xlsx", reader=reader).sheet("Users")
    assert sheet is not None
    assert sheet.cell(3, 2) is None  # =UPPER("ng"): no value, not 0
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / "xlsxwriter.xlsx", reader=reader)
    assert ("bulk.formula_not_computed", "Users!B3") in located(planned)
    assert not any(issue.message.startswith("'0'") for issue in planned.issues)
    assert not planned.ok


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_pandas_one_sheet_called_sheet1_is_the_users_sheet(
    acme: Context, tmp_path: Path, reader: WorkbookReader
) -> None:
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / "pandas.xlsx", reader=reader)
    assert ("bulk.sheet_assumed", "Users") in located(planned)
    assert planned.ok
    assert [row.row for row in planned.rows] == [2, 3]
    data = (CORPUS / "pandas.xlsx").read_bytes()
    bad = openpyxl.load_workbook(io.BytesIO(data))
    bad["Sheet1"]["C3"] = "not an address"
    buffer = io.BytesIO()
    bad.save(buffer)
    refused = plan_users(acme, OPERATOR, "acme", buffer.getvalue())
    write_annotated(buffer.getvalue(), refused.issues, tmp_path / "annotated.xlsx")
    marked = openpyxl.load_workbook(tmp_path / "annotated.xlsx")["Sheet1"]["C3"]
    assert marked.comment is not None  # the issue is on its cell, in the sheet's own name


def test_several_sheets_none_called_users_stay_refused(acme: Context) -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.append(["Email", "First name", "Last name"])
    book.create_sheet("Sheet2").append(["Email", "First name", "Last name"])
    buffer = io.BytesIO()
    book.save(buffer)
    planned = plan_users(acme, OPERATOR, "acme", buffer.getvalue(), policy="skip_invalid")
    assert ("bulk.sheet_missing", "Users") in located(planned)
    assert not planned.ok  # a file-level error stops the import under every policy


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_merged_ranges_of_a_strict_open_xml_workbook_are_seen(reader: WorkbookReader) -> None:
    if reader.name == "openpyxl":
        with pytest.raises(SpreadsheetError) as refused:
            read_workbook(CORPUS / "strict-merged.xlsx", reader=reader)
        assert refused.value.code == "spreadsheet.unsupported"
        return
    sheet = read_workbook(CORPUS / "strict-merged.xlsx", reader=reader).sheet("Users")
    assert sheet is not None
    assert sheet.merged == ((2, 4, 5, 4),)
    assert [row[3] if len(row) > 3 else None for row in sheet.rows[1:6]] == [
        "Y",
        "Y",
        "Y",
        None,  # a blank row stays blank
        "N",
    ]


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("hidden-openpyxl.xlsx", READERS[0]),
        ("hidden-openpyxl.xlsx", READERS[1]),
        ("hidden-libreoffice.xlsx", READERS[0]),
        ("hidden-libreoffice.xlsx", READERS[1]),
        ("hidden-libreoffice.ods", None),
    ],
)
def test_a_hidden_row_is_imported_with_a_warning(
    acme: Context, name: str, reader: WorkbookReader | None
) -> None:
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / name, reader=reader)
    assert planned.ok
    assert ("bulk.row_hidden", "Users!3") in located(planned)
    assert [row.row for row in planned.rows] == [2, 3, 4]


def test_the_template_s_mobile_column_is_text(acme: Context, tmp_path: Path) -> None:
    write_template(acme, OPERATOR, "acme", tmp_path / "template.xlsx")
    users = openpyxl.load_workbook(tmp_path / "template.xlsx")["Users"]
    mobile = next(cell.column_letter for cell in users[1] if cell.value == "Mobile")
    assert users.column_dimensions[mobile].number_format == "@"


# -- the layouts of the systems admins leave -----------------------------------------------------


def test_google_workspace_s_bulk_upload(acme: Context) -> None:
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / "google-upload.csv")
    assert not planned.ok
    errors = {(i.code, str(i.location)) for i in planned.errors}
    assert errors == {("bulk.password_hashed", "Users!D4")}  # a SHA-1 is never a password
    hashed = next(i for i in planned.errors if i.code == "bulk.password_hashed")
    assert "5baa61e4" not in hashed.message
    assert "SHA-1" in hashed.message
    assert ("bulk.columns_ignored", "Users!1") in located(planned)
    kept = plan_users(acme, OPERATOR, "acme", CORPUS / "google-upload.csv", policy="skip_invalid")
    assert kept.skipped == (4,)
    apply_users(acme, kept)
    ann, bob = user(acme, "ann@"), user(acme, "bob@")
    # Recovery Phone gives the mobile; Mobile Phone fills in where it is empty.
    assert (str(ann.profile.mobile), str(bob.profile.mobile)) == ("+41791234567", "+41797777777")
    assert str(ann.profile.alternate_email) == "ann@home.example"
    assert ann.credentials.must_change  # Change Password at Next Sign-In: TRUE
    assert (ann.status, bob.status) == (UserStatus.ACTIVE, UserStatus.DISABLED)  # Suspended


def test_google_workspace_s_user_download(acme: Context, outbox: Any) -> None:
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / "google-download.csv")
    assert planned.ok
    assert {(i.code, str(i.location)) for i in planned.warnings} >= {
        ("bulk.password_placeholder", "Users!G2"),
        ("bulk.password_placeholder", "Users!G3"),
    }
    assert not any(i.code.startswith("password.") for i in planned.issues)
    outbox.clear()
    apply_users(acme, planned)
    ann, bob = user(acme, "ann@"), user(acme, "bob@")
    assert (ann.status, bob.status) == (UserStatus.ACTIVE, UserStatus.DISABLED)
    assert bob.credentials.setup_token_hash is None  # suspended: no link until enabled
    assert [message.to for message in outbox.messages] == ["ann@home.example"]


def test_microsoft_entra_s_bulk_create_template(acme: Context) -> None:
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / "entra-create.csv")
    assert planned.ok
    found = located(planned)
    assert ("bulk.example_row", "Users!3") in found  # the template's "Example:" row, left out
    assert not any(code == "bulk.row_above_header" for code, _ in found)  # version:v1.0
    assert [row.row for row in planned.rows] == [4, 5]
    apply_users(acme, planned)
    ann, bob = user(acme, "ann@"), user(acme, "bob@")
    assert str(ann.profile.mobile) == "+41791234567"
    assert (ann.status, bob.status) == (UserStatus.ACTIVE, UserStatus.DISABLED)  # Block: Yes
    assert ann.credentials.password_hash is not None


def test_microsoft_entra_s_user_download(acme: Context) -> None:
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / "entra-download.csv")
    assert planned.ok
    apply_users(acme, planned)
    ann, bob = user(acme, "ann@"), user(acme, "bob@")
    assert (ann.profile.first_name, ann.profile.last_name) == ("Ann", "Lee")
    assert str(ann.profile.alternate_email) == "ann@home.example"
    assert (ann.status, bob.status) == (UserStatus.ACTIVE, UserStatus.DISABLED)


def test_a_modoboa_export_is_refused_as_having_no_header_and_echoes_nothing(acme: Context) -> None:
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / "modoboa.csv", policy="skip_invalid")
    assert not planned.ok
    ((issue),) = planned.issues
    assert (issue.code, str(issue.location)) == ("bulk.no_header", "Users!1")
    assert "Modoboa" in issue.message
    assert "SHA512" not in issue.message
    assert "acme.example" not in issue.message


def test_a_first_row_of_data_is_never_echoed_as_a_header(acme: Context) -> None:
    data = b"ann@acme.example,Ann,Lee,Tr1cky-Otter-Lamp\nbob@acme.example,Bob,Ng,Qu1et-Harbor\n"
    planned = plan_users(acme, OPERATOR, "acme", data, policy="skip_invalid")
    assert [i.code for i in planned.issues] == ["bulk.no_header"]
    assert "Tr1cky" not in repr(planned.issues)
    assert not planned.ok


def test_a_header_the_import_cannot_place_still_says_its_name(acme: Context) -> None:
    planned = plan_users(acme, OPERATOR, "acme", b"First name,Last name,Mail box\nAnn,Lee,x\n")
    assert {i.code for i in planned.errors} == {"bulk.column_missing"}
    assert ("bulk.column_unknown", "Users!C1") in located(planned)


# -- the report imports back -------------------------------------------------------------------


Writer = Callable[[Context, Path], Path]


def _xlsx(ctx: Context, folder: Path) -> Path:
    write_users_report(ctx, OPERATOR, "acme", folder / "report.xlsx")
    return folder / "report.xlsx"


def _csv(ctx: Context, folder: Path) -> Path:
    write_users_report(ctx, OPERATOR, "acme", folder / "report.csv", format="csv")
    return folder / "report.csv"


def _libreoffice_csv(_: Context, __: Path) -> Path:
    """LibreOffice's CSV of the .xlsx report of the same users (made once, kept here)."""
    return CORPUS / "report-libreoffice.csv"


@pytest.mark.parametrize("write", [_xlsx, _csv, _libreoffice_csv], ids=lambda w: w.__name__)
def test_the_users_report_imports_back_as_all_unchanged(
    acme: Context, tmp_path: Path, write: Writer
) -> None:
    apply_users(
        acme,
        plan_users(acme, OPERATOR, "acme", CORPUS / "google-upload.csv", policy="skip_invalid"),
    )
    report = write(acme, tmp_path)
    again = plan_users(acme, OPERATOR, "acme", report, updates=True)
    assert again.ok, again.issues
    assert (len(again.unchanged), again.changed, again.rows) == (3, (), ())


def test_the_report_s_text_cells_need_no_apostrophe_and_run_no_formula(
    acme: Context, tmp_path: Path
) -> None:
    data = b'First name,Last name,Email,Aliases\n"=HYPERLINK(""x"")",Lee,ann@acme.example,\n'
    apply_users(acme, plan_users(acme, OPERATOR, "acme", data))
    cells = openpyxl.load_workbook(_xlsx(acme, tmp_path))["Users"]
    ann = next(row for row in cells.iter_rows(min_row=2) if row[0].value == "ann@acme.example")
    assert (ann[1].value, ann[1].data_type) == ('=HYPERLINK("x")', "s")  # text, no apostrophe
    text = _csv(acme, tmp_path).read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text  # CSV has no cell types: the apostrophe keeps it text
    assert plan_users(acme, OPERATOR, "acme", tmp_path / "report.csv").unchanged == (2, 3)


# -- every file of the corpus, with its expected outcome ----------------------------------------

# file: (ok as it is, how many users its rows plan, codes among its issues)
EXPECTED: dict[str, tuple[bool, int, set[str]]] = {
    # the same Users and Account sheets, as programs save them: 0791234567 has no country code,
    # 12.5 is no number, so Ann's Account row is not applied either
    **dict.fromkeys(
        [
            f"{program}.{kind}"
            for program in ("libreoffice", "gnumeric")
            for kind in ("xlsx", "ods", "xls")
        ]
        + ["openpyxl.xlsx"],
        (False, 3, {"bulk.column_unknown", "phone.invalid", "bulk.user_row_failed"}),
    ),
    "libreoffice.csv": (False, 3, {"bulk.column_unknown", "phone.invalid"}),
    "merged-libreoffice.xlsx": (True, 4, {"bulk.cells_merged"}),
    "merged-libreoffice.xls": (True, 4, {"bulk.cells_merged"}),
    "strict-merged.xlsx": (True, 4, {"bulk.cells_merged"}),
    "xlsxwriter.xlsx": (False, 2, {"bulk.formula_not_computed"}),
    "pandas.xlsx": (True, 2, {"bulk.sheet_assumed"}),
    "hidden-openpyxl.xlsx": (True, 3, {"bulk.row_hidden"}),
    "hidden-libreoffice.xlsx": (True, 3, {"bulk.row_hidden"}),
    "hidden-libreoffice.ods": (True, 3, {"bulk.row_hidden"}),
    "google-upload.csv": (False, 3, {"bulk.password_hashed", "bulk.columns_ignored"}),
    "google-download.csv": (True, 2, {"bulk.password_placeholder", "bulk.columns_ignored"}),
    "entra-create.csv": (True, 2, {"bulk.example_row", "bulk.columns_ignored"}),
    "entra-download.csv": (True, 2, {"bulk.columns_ignored"}),
    "modoboa.csv": (False, 0, {"bulk.no_header"}),
    "report-libreoffice.csv": (True, 2, {"bulk.columns_ignored"}),  # postmaster@ is unchanged
}


def test_every_file_of_the_corpus_has_an_expected_outcome() -> None:
    files = {path.name for path in CORPUS.iterdir() if path.suffix != ".md"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        (name, reader)
        for name in sorted(EXPECTED)
        for reader in (READERS if name.endswith(".xlsx") and "strict" not in name else [None])
    ],
    ids=str,
)
def test_each_file_of_the_corpus_imports_as_expected(
    acme: Context, name: str, reader: WorkbookReader | None
) -> None:
    ok, planned_users, codes = EXPECTED[name]
    planned = plan_users(acme, OPERATOR, "acme", CORPUS / name, reader=reader)
    assert (planned.ok, sum(isinstance(row, UserRow) for row in planned.rows)) == (
        ok,
        planned_users,
    ), planned.issues
    assert codes <= {issue.code for issue in planned.issues}
