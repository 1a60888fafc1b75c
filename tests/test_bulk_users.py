"""Importing users from a workbook: cells, located issues, policies, the whole batch."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from access_world import user as access_user
from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    CreateClassOfService,
    CreateMailbox,
    CreateRole,
    CreateUser,
    DeleteAccount,
    NotFound,
    PermissionDenied,
    SetGrant,
    SpreadsheetError,
    UpdateAccount,
    ValidationFailed,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns, Outbox
from provisioning.bulk import (
    REPORT_COLUMNS,
    apply_users,
    importing,
    plan_users,
    read_workbook,
    user_rows,
    write_annotated,
    write_template,
    write_users_report,
)
from provisioning.engine import _parallel, _plan
from provisioning.errors import Issue, Location
from provisioning.model import MailboxKind

HEADER = ["First name", "Last name", "Email [Required]", "Personal mailbox*", "Mobile"]


def workbook(*rows: list[Any], header: list[str] | None = None, sheet: str = "Users") -> bytes:
    book = openpyxl.Workbook()
    users = book.create_sheet(sheet, 0)
    book.remove(book.worksheets[1])
    users.append(HEADER if header is None else header)
    for row in rows:
        users.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True, params=["at once", "in parts"])
def road(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs twice: each file planned at once, and planned two users at a time.

    A large file is planned and applied in parts; what it does and reports
    must not depend on that.
    """
    if request.param == "in parts":
        monkeypatch.setattr(importing, "LARGE", 0)
        monkeypatch.setattr(importing, "PART", 2)
    return str(request.param)


def located(issues: Any) -> list[tuple[str, str]]:
    return [(issue.code, str(issue.location)) for issue in issues]


def test_a_clean_workbook_creates_every_user_in_one_batch(acme: Context, outbox: Outbox) -> None:
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", "Y", "+41 79 123 45 67"],
        ["Bob", "Ng", " BOB@acme.example\u00a0", "n", None],
        [],
        ["Cy", "Ode", "cy@acme.example", None, 41791234568],
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert planned.ok
    # Only warnings: nobody can recover a password alone, and the lost "+" was found again.
    assert ("bulk.mobile_recovered", "Users!E5") in located(planned.issues)
    outbox.clear()
    result = apply_users(acme, planned)
    assert [row for row, _ in result.created] == [2, 3, 5]
    ann, bob, cy = (queries.get_user(acme, OPERATOR, user_id) for _, user_id in result.created)
    assert [str(user.username) for user in (ann, bob, cy)] == [
        "ann@acme.example",
        "BOB@acme.example",
        "cy@acme.example",
    ]
    assert ann.profile.display_name == "Ann Lee"
    assert str(cy.profile.mobile) == "+41791234568"
    with acme.store.snapshot() as uow:
        assert [m.kind for m in uow.mailboxes.of_owner(ann.id)] == [MailboxKind.PERSONAL]
        assert uow.mailboxes.of_owner(bob.id) == []
    welcomes = [m for m in outbox.messages if m.template == "user.created"]
    assert len(welcomes) == 3
    assert all("token" in m.secrets for m in welcomes)  # no password: a set-password link
    assert repr(result) == (  # the two warnings
        "<BulkResult 3 created, 0 updated, 0 unchanged, 0 skipped, 2 issue(s)>"
    )


def test_every_problem_is_reported_at_once_located_to_its_cell(acme: Context) -> None:
    access_user(acme, "owner@acme.example", aliases=("taken@acme.example",))
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", "maybe", None],
        ["Bob", "Ng", "bob@acme.example", "Y", 791234567],
        ["Ann", "Again", "ANN@acme.example", "N", None],
        ["Tia", "Ken", "taken@acme.example", None, None],
        ["No", "Domain", "x@elsewhere.example", None, None],
        ["Bad", "Address", "not an address", None, None],
        header=[*HEADER, "Favourite colour"],
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert not planned.ok
    errors = located(planned.errors)
    assert errors[:4] == [
        ("bulk.yes_no_invalid", "Users!D2"),
        ("bulk.mobile_lost_digits", "Users!E3"),
        ("bulk.duplicate_row", "Users!C4"),
        ("bulk.duplicate_row", "Users!C2"),
    ]
    assert ("address.taken", "Users!C5") in errors
    assert ("bulk.domain_not_active", "Users!C6") in errors
    assert ("username.invalid", "Users!C7") in errors
    assert ("bulk.column_unknown", "Users!F1") in located(planned.warnings)
    duplicate = next(i for i in planned.errors if i.code == "bulk.duplicate_row")
    assert "row 2" in duplicate.message
    assert str(next(i for i in planned.errors if i.code == "username.invalid")).startswith(
        "username.invalid @ Users!C7"
    )
    with pytest.raises(ValidationFailed):
        apply_users(acme, planned)
    assert repr(planned).startswith(
        "<UsersImport refused: 4 command(s)"
    )  # the duplicate makes none
    assert "bulk.duplicate_row" in repr(planned)
    assert "Users!C7" in planned._repr_html_()


def test_a_character_a_cell_may_not_hold_hides_none_of_the_rows_other_problems(
    acme: Context,
) -> None:
    header = [*HEADER, "Time zone", "Alternate email", "Class of service"]
    data = workbook(
        ["Ann\u202e", "Lee", "ann@acme.example", "Y", None, "Mars/Olympus", "ann@", "gold"],
        ["Bob", "Ng\x7f", "bob@acme.example", "Y", None, "europe/zurich", "BOB@acme.example", None],
        header=header,
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert located(planned.errors) == [
        ("text.invalid", "Users!A2"),
        ("cos.not_found", "Users!H2"),
        ("email.invalid", "Users!G2"),
        ("timezone.invalid", "Users!F2"),
        ("text.invalid", "Users!B3"),
    ]
    assert ("user.recovery_own_address", "Users!G3") in located(planned.warnings)
    with pytest.raises(ValidationFailed):
        apply_users(acme, planned)
    assert queries.users(acme, OPERATOR, "acme", search="bob").total == 0


def test_a_time_zone_in_any_case_is_stored_as_iana_spells_it_and_then_unchanged(
    acme: Context,
) -> None:
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", "Y", None, "europe/zurich"],
        header=[*HEADER, "Time zone"],
    )
    ((_, ann_id),) = apply_users(acme, plan_users(acme, OPERATOR, "acme", data)).created
    assert queries.get_user(acme, OPERATOR, ann_id).profile.timezone == "Europe/Zurich"
    again = plan_users(acme, OPERATOR, "acme", data)
    assert (again.unchanged, again.changed) == ((2,), ())


def test_a_title_above_the_header_row_is_left_out_with_a_warning(acme: Context) -> None:
    book = openpyxl.Workbook()
    users = book.active
    assert users is not None
    users.title = "Users"
    users.append(["Acme staff, December"])
    users.append([])
    users.append(["First name", "Last name", "Email"])
    users.append(["Ann", "Lee", "ann@acme.example"])
    upload = io.BytesIO()
    book.save(upload)
    planned = plan_users(acme, OPERATOR, "acme", upload.getvalue())
    assert planned.ok
    assert ("bulk.row_above_header", "Users!1") in located(planned.warnings)
    assert [row.row for row in planned.rows] == [4]


def test_mobiles_without_their_country_code_are_read_in_the_accounts_region(
    acme: Context,
) -> None:
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", "Y", "079 123 45 67"],
        ["Bob", "Ng", "bob@acme.example", "Y", 791234568],  # saved as a number: lost its 0
        ["Cy", "Ode", "cy@acme.example", "Y", 41791234569],  # lost its +
    )
    assert located(plan_users(acme, OPERATOR, "acme", data).errors) == [
        ("bulk.mobile_lost_digits", "Users!E3"),
        ("phone.invalid", "Users!E2"),  # no region: only E.164 can be read
    ]
    account = queries.get_account(acme, OPERATOR, "acme")
    run(
        acme, OPERATOR, UpdateAccount(account_id="acme", version=account.version, phone_region="CH")
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert [code for code, _ in located(planned.warnings) if code.startswith("bulk.")] == [
        "bulk.mobile_recovered",
        "bulk.mobile_recovered",
    ]
    created = apply_users(acme, planned).created
    mobiles = [str(queries.get_user(acme, OPERATOR, i).profile.mobile) for _, i in created]
    assert mobiles == ["+41791234567", "+41791234568", "+41791234569"]
    again = plan_users(acme, OPERATOR, "acme", data)
    assert (again.unchanged, again.changed) == ((2, 3, 4), ())


def test_an_internationalised_domain_is_one_address_however_it_is_spelt(
    acme: Context, dns: MemoryDns, tmp_path: Path
) -> None:
    active_domain(acme, dns, "acme", "bücher.example", admin_email="it@holding.example")
    run(acme, OPERATOR, CreateMailbox(account_id="acme", address="sales@bücher.example"))
    path = tmp_path / "template.xlsx"
    write_template(acme, OPERATOR, "acme", path)
    users = [
        ["Ann", "Lee", "ann@bücher.example"],
        ["Bob", "Ng", "bob@xn--bcher-kva.example"],
        ["Cy", "Ode", "CY@BÜCHER.EXAMPLE"],
    ]
    data = _with_access(
        path,
        ("Users", users),
        ("Account", [["ANN@xn--bcher-kva.example", "administrator", None]]),
        ("Mailbox sales@bücher.example", [["cy@bücher.example", "agent", None]]),
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert planned.errors == ()
    assert [type(row.command).__name__ for row in planned.rows].count("SetGrant") == 2
    apply_users(acme, planned)
    again = plan_users(acme, OPERATOR, "acme", data)  # every row found as the user it made
    assert (again.errors, again.rows, again.unchanged) == ((), (), (2, 3, 4))
    twice = workbook(
        ["Ann", "Lee", "ann@bücher.example"], ["Ann", "Lee", "ANN@xn--bcher-kva.example"]
    )
    assert located(plan_users(acme, OPERATOR, "acme", twice).errors)[:2] == [
        ("bulk.duplicate_row", "Users!C3"),
        ("bulk.duplicate_row", "Users!C2"),
    ]


def test_a_conflict_names_its_reason_in_the_store_and_in_the_file(acme: Context) -> None:
    access_user(acme, "bob@acme.example", aliases=("robert@acme.example",))
    data = workbook(
        ["Rob", "Ert", "robert@acme.example", None, None, None],
        ["Cy", "Ode", "cy@acme.example", None, None, "sales@acme.example"],
        ["Sal", "Es", "sales@acme.example", None, None, None],
        header=[*HEADER, "Aliases"],
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    found = {(i.code, str(i.location)): i.message for i in planned.errors}
    assert found == {
        ("address.taken", "Users!C2"): "address 'robert@acme.example' is already taken,"
        " as an alias of bob@acme.example",
        # In the file, each claimant names the other, whichever comes first.
        ("bulk.address_twice", "Users!F3"): "sales@acme.example is also the email of row 4",
        ("bulk.address_twice", "Users!C4"): "sales@acme.example is also an alias of row 3",
    }


def test_a_conflict_with_a_user_of_no_visible_account_names_nobody(
    acme: Context, dns: MemoryDns
) -> None:
    run(acme, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(acme, dns, "globex", "globex.example", admin_email="it@holding.example")
    access_user(acme, "gus@globex.example", account="globex")
    run(acme, OPERATOR, DeleteAccount(account_id="globex", confirm_name="Globex"))
    active_domain(acme, dns, "acme", "globex.example", admin_email="it@holding.example")
    lead = access_user(acme, "lead@acme.example")
    administrator = frozenset({"system:administrator"})
    run(acme, OPERATOR, SetGrant(user_id=lead.id, account_id="acme", role_ids=administrator))
    data = workbook(["Gus", "Two", "gus@globex.example", None, None])
    planned = plan_users(acme, Actor.user(lead.id), "acme", data)
    (issue,) = planned.errors
    assert (issue.code, issue.message) == (
        "address.taken",
        "address 'gus@globex.example' is already taken",
    )


def test_merged_cells_and_formulas_nobody_computed_are_reported(acme: Context) -> None:
    book = openpyxl.load_workbook(
        io.BytesIO(
            workbook(
                ["Ann", "Lee", "ann@acme.example", "Y", None],
                ["Bob", "Ng", "bob@acme.example", None, None],
                ["Cy", "Ode", '=LOWER("CY@ACME.EXAMPLE")', "N", None],
            )
        )
    )
    book["Users"].merge_cells("D2:D3")
    buffer = io.BytesIO()
    book.save(buffer)
    planned = plan_users(acme, OPERATOR, "acme", buffer.getvalue())
    assert ("bulk.formula_not_computed", "Users!C4") in located(planned.errors)
    (merged,) = (i for i in planned.warnings if i.code == "bulk.cells_merged")
    assert (str(merged.location), merged.message) == (
        "Users!D2",
        "D2:D3 are merged cells: each of rows 2 to 3 gets its value",
    )
    ann, bob = (row.command for row in planned.rows[:2])
    assert isinstance(ann, CreateUser)
    assert isinstance(bob, CreateUser)
    assert (ann.personal_mailbox, bob.personal_mailbox) == (True, True)


def test_one_user_off_the_active_domains_fails_the_whole_file_whatever_the_policy(
    acme: Context,
) -> None:
    run(acme, OPERATOR, AddDomain(account_id="acme", name="pending.example"))
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", "Y", None],
        ["Pia", "Ng", "pia@pending.example", None, None],
        ["Oz", "Out", "oz@elsewhere.example", None, None],
    )
    for policy in ("all_or_nothing", "skip_invalid"):
        planned = plan_users(acme, OPERATOR, "acme", data, policy=policy)
        assert not planned.ok
        assert located(i for i in planned.errors if i.code.startswith("bulk.domain")) == [
            ("bulk.domain_not_active", "Users!C3"),
            ("bulk.domain_not_active", "Users!C4"),
        ]
        with pytest.raises(ValidationFailed):
            apply_users(acme, planned)
    assert queries.users(acme, OPERATOR, "acme").total == 1  # the super admin alone


def test_skip_invalid_applies_the_valid_rows_and_reports_the_rest(acme: Context) -> None:
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", "Y", None],
        ["Bad", "Address", "not an address", None, None],
        ["Cy", "Ode", "cy@acme.example", "maybe", None],
        ["Dee", "Fox", "dee@acme.example", "N", None],
    )
    planned = plan_users(acme, OPERATOR, "acme", data, policy="skip_invalid")
    assert planned.ok
    assert planned.skipped == (3, 4)
    result = apply_users(acme, planned)
    assert [row for row, _ in result.created] == [2, 5]
    assert result.skipped == (3, 4)
    assert {row: [i.code for i in held] for row, held in result.failed.items()} == {
        3: ["username.invalid"],
        4: ["bulk.yes_no_invalid"],
    }
    strict = plan_users(acme, OPERATOR, "acme", data, policy="skip_invalid", max_failures=1)
    assert not strict.ok
    assert "bulk.too_many_failures" in [i.code for i in strict.errors]


def test_the_class_of_service_column_takes_names(acme: Context) -> None:
    gold = run(acme, OPERATOR, CreateClassOfService(name="Gold", account_id="acme"))
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", gold.name.upper()],
        ["Bob", "Ng", "bob@acme.example", "Platinum"],
        header=["First name", "Last name", "Email", "Class of service"],
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert located(planned.errors) == [("cos.not_found", "Users!D3")]
    first = planned.rows[0].command
    assert isinstance(first, CreateUser)
    assert first.cos_id == gold.id


def test_a_workbook_without_its_sheet_or_columns_says_so() -> None:
    assert located(user_rows(read_workbook(workbook(sheet="People")), "acme").issues) == [
        ("bulk.sheet_missing", "Users")
    ]
    headless = user_rows(read_workbook(workbook(header=["Email"])), "acme")
    assert located(headless.issues) == [
        ("bulk.column_missing", "Users!1"),
        ("bulk.column_missing", "Users!1"),
    ]
    assert headless.rows == ()


def test_header_names_in_any_case_and_a_csv_with_a_byte_order_mark() -> None:
    text = (
        "\ufeffFIRST NAME;last_name;E-Mail (required);ALIASES\n"
        "Ann;Lee;ann@acme.example;a@acme.example, al@acme.example\n"
    )
    rows = user_rows(read_workbook(text.encode()), "acme")
    assert rows.issues == ()
    (ann,) = rows.rows
    assert isinstance(ann.command, CreateUser)
    assert (ann.command.username, ann.command.aliases) == (
        "ann@acme.example",
        ("a@acme.example", "al@acme.example"),
    )


# -- the workbooks the library writes -------------------------------------------------------


def test_the_template_lists_roles_permissions_columns_and_a_sheet_per_mailbox(
    acme: Context, tmp_path: Path
) -> None:
    run(acme, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    path = tmp_path / "template.xlsx"
    write_template(acme, OPERATOR, "acme", path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Roles",
        "Permissions",
        "Users",
        "Account",
        "Mailbox sales@acme.example",
        "Lists",  # hidden: what the class-of-service drop-down offers
    ]
    assert [sheet.sheet_state for sheet in book.worksheets].count("visible") == 5
    users = book["Users"]
    headers = [cell.value for cell in users[1]]
    assert headers[:3] == ["First name [Required]", "Last name [Required]", "Email [Required]"]
    assert users["C1"].comment is not None
    lists = [v.formula1 for v in users.data_validations.dataValidation]
    assert '"Y,N"' in lists
    assert "Lists!$A$1:$A$2" in lists  # the account's classes of service
    assert "Users" in [cell.value for (cell,) in book["Lists"]["A1:A2"]]
    roles = [row[0].value for row in book["Roles"].iter_rows(min_row=2)]
    assert "system:owner" in roles
    # The template reads back as an import with nothing in it yet, and no issue.
    planned = plan_users(acme, OPERATOR, "acme", path)
    assert (planned.rows, planned.errors) == ((), ())


def test_the_template_holds_no_formula_and_any_number_of_classes_of_service(
    acme: Context, tmp_path: Path
) -> None:
    run(acme, OPERATOR, CreateMailbox(account_id="acme", address="=sales@acme.example"))
    run(
        acme,
        OPERATOR,
        CreateRole(account_id="acme", name="Helpdesk", description='=HYPERLINK("http://evil")'),
    )
    names = [f"Class of service {n} with a long name" for n in range(12)]  # 400+ characters
    for name in names:
        run(acme, OPERATOR, CreateClassOfService(account_id="acme", name=name))
    path = tmp_path / "template.xlsx"
    write_template(acme, OPERATOR, "acme", path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-2:] == ["Mailbox =sales@acme.example", "Lists"]
    assert book["Lists"].sheet_state == "hidden"
    formulas = [
        cell.coordinate
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []
    (offered,) = [
        v.formula1 for v in book["Users"].data_validations.dataValidation if "Lists" in v.formula1
    ]
    listed = [cell.value for (cell,) in book["Lists"][offered.partition("!")[2].replace("$", "")]]
    assert set(names) <= set(listed)
    # The mailbox sheet still names its mailbox, and the template reads back without an issue.
    filled = _with_access(
        path,
        ("Users", [["Ann", "Lee", "ann@acme.example", None, names[3]]]),
        ("Mailbox =sales@acme.example", [["ann@acme.example", "agent", None]]),
    )
    planned = plan_users(acme, OPERATOR, "acme", filled)
    assert planned.errors == ()
    assert [type(row.command).__name__ for row in planned.rows] == ["CreateUser", "SetGrant"]


def test_an_annotated_copy_refuses_a_zip_bomb_before_unpacking_it(tmp_path: Path) -> None:
    honest = zipfile.ZipFile(io.BytesIO(workbook(["Ann", "Lee", "ann@acme.example"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in honest.infolist():
            data = honest.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":  # a valid sheet, 20 MB unpacked
                data = data.replace(b"</worksheet>", b" " * 20_000_000 + b"</worksheet>")
            archive.writestr(entry, data)
    with pytest.raises(SpreadsheetError) as caught:
        write_annotated(buffer.getvalue(), [], tmp_path / "copy.xlsx")
    assert caught.value.code == "spreadsheet.too_large"
    assert not (tmp_path / "copy.xlsx").exists()


def test_the_annotated_copy_marks_each_cell_and_lists_every_issue(
    acme: Context, tmp_path: Path
) -> None:
    data = workbook(
        ["Ann", "Lee", "ann@acme.example", "maybe", None],
        ["Bad", "Address", "not an address", None, None],
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    path = tmp_path / "annotated.xlsx"
    write_annotated(data, planned.issues, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Issues", "Users"]
    marked = book["Users"]["D2"]
    assert marked.comment is not None
    assert "bulk.yes_no_invalid" in marked.comment.text
    assert marked.fill.start_color.rgb == "FFF4C7C3"
    listed = [(row[0].value, row[2].value) for row in book["Issues"].iter_rows(min_row=2)]
    assert ("Users!D2", "bulk.yes_no_invalid") in listed
    assert ("Users!C3", "username.invalid") in listed
    # a CSV upload is annotated in an .xlsx made from its values
    write_annotated(b"email\n=1+1\n", [], tmp_path / "from-csv.xlsx")
    copy = openpyxl.load_workbook(tmp_path / "from-csv.xlsx")
    assert copy["Users"]["A2"].value == "'=1+1"
    # control characters no workbook can hold (an IllegalCharacterError, once) are replaced
    controls = b"email,first name\nann@acme.example,A\x01B\n"
    write_annotated(controls, plan_users(acme, OPERATOR, "acme", controls).issues, path)
    assert openpyxl.load_workbook(path)["Users"]["B2"].value == "A\ufffdB"


def test_a_large_upload_is_annotated_from_its_values_a_row_at_a_time(tmp_path: Path) -> None:
    source = openpyxl.Workbook()
    sheet = source.active
    assert sheet is not None
    sheet.title = "Users"
    sheet.append(["username", "first_name", "last_name", "alternate_email"])
    for n in range(20_000):  # some 6 MB of sheet XML: more than a copy keeps whole
        sheet.append([f"user{n:05d}@acme.example", "Ann", "Lee", "maybe"])
    buffer = io.BytesIO()
    source.save(buffer)
    data = buffer.getvalue()
    issues = [
        Issue(
            code="email.invalid",
            message="not an address",
            location=Location(sheet="Users", row=row, column=4),
        )
        for row in (2, 20_001)
    ]
    path = tmp_path / "annotated.xlsx"
    write_annotated(data, issues, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Issues", "Users"]
    users = book["Users"]
    assert users.max_row == 20_001
    for row in (2, 20_001):
        cell = users.cell(row=row, column=4)
        assert cell.comment is not None
        assert "email.invalid" in cell.comment.text
        assert cell.fill.start_color.rgb == "FFF4C7C3"
    assert users["D3"].comment is None
    assert [cell.value for cell in users[20_001]] == [
        "user19999@acme.example",
        "Ann",
        "Lee",
        "maybe",
    ]
    listed = [(row[0].value, row[2].value) for row in book["Issues"].iter_rows(min_row=2)]
    assert listed == [("Users!D2", "email.invalid"), ("Users!D20001", "email.invalid")]


def test_the_users_report_has_a_row_per_user_and_no_formulas(acme: Context, tmp_path: Path) -> None:
    access_user(acme, "ann@acme.example", first_name='=HYPERLINK("http://evil")')
    xlsx, text = tmp_path / "report.xlsx", tmp_path / "report.csv"
    assert write_users_report(acme, OPERATOR, "acme", xlsx) == 2  # ann and postmaster@
    assert write_users_report(acme, OPERATOR, "acme", text, format="csv") == 2
    rows = list(openpyxl.load_workbook(xlsx)["Users"].iter_rows(values_only=True))
    assert rows[0] == REPORT_COLUMNS
    ann = next(row for row in rows if row[0] == "ann@acme.example")
    assert str(ann[1]).startswith("=HYPERLINK")  # a text cell: shown as typed, never run
    cell = next(
        row[1]
        for row in openpyxl.load_workbook(xlsx)["Users"].iter_rows()
        if row[0].value == "ann@acme.example"
    )
    assert cell.data_type == "s"
    assert ann[6] == "Users"
    raw = text.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:2] == ["Email", "First name"]
    assert "'=HYPERLINK" in raw.decode("utf-8-sig")  # CSV has no cell types: neutralised
    assert any(line.startswith("postmaster@acme.example") for line in lines)
    stranger = Actor.user("nobody")
    with pytest.raises(PermissionDenied):
        write_users_report(acme, stranger, "acme", io.BytesIO())


def test_a_full_disk_leaves_the_old_report_and_no_half_written_file(
    acme: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    report = folder / "report.xlsx"
    report.write_bytes(b"last week's report")
    report.chmod(0o640)

    save = openpyxl.Workbook.save

    def full(self: openpyxl.Workbook, destination: Any) -> None:
        save(self, io.BytesIO())  # the whole workbook is made; the disk takes half of it
        destination.write(b"PK\x03\x04 half a workbook")
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(openpyxl.Workbook, "save", full)
        with pytest.raises(SpreadsheetError) as caught:
            write_users_report(acme, OPERATOR, "acme", report)
    assert caught.value.code == "spreadsheet.unwritable"
    assert str(caught.value) == (
        f"spreadsheet.unwritable: {report} could not be written: No space left on device"
    )
    assert report.read_bytes() == b"last week's report"
    assert [p.name for p in folder.iterdir()] == ["report.xlsx"]
    assert write_users_report(acme, OPERATOR, "acme", report) == 1
    assert report.stat().st_mode & 0o777 == 0o640  # replaced, with its permissions
    with pytest.raises(SpreadsheetError) as caught:
        write_template(acme, OPERATOR, "acme", tmp_path / "missing" / "template.xlsx")
    assert caught.value.code == "spreadsheet.unwritable"
    device = Path("/dev/full").open("wb", buffering=0)  # noqa: SIM115 - closed below
    with device, pytest.raises(SpreadsheetError) as caught:
        write_users_report(acme, OPERATOR, "acme", device, format="csv")
    assert caught.value.code == "spreadsheet.unwritable"


# -- the Account and Mailbox sheets ------------------------------------------------------------


def _with_access(template: Path, *sheets: tuple[str, list[list[Any]]]) -> bytes:
    """The template, with user rows and access rows filled in as an administrator would."""
    book = openpyxl.load_workbook(template)
    for name, rows in sheets:
        for row in rows:
            book[name].append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_account_and_mailbox_sheets_grant_access_to_the_new_users(
    acme: Context, tmp_path: Path
) -> None:
    sales = run(acme, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    write_template(acme, OPERATOR, "acme", tmp_path / "template.xlsx")
    data = _with_access(
        tmp_path / "template.xlsx",
        ("Users", [["Ann", "Lee", "ann@acme.example"], ["Bob", "Ng", "bob@acme.example"]]),
        (
            "Account",
            [
                ["ANN@acme.example", "administrator", "audit.read"],
                ["bob@acme.example", "system:member", None],
            ],
        ),
        ("Mailbox sales@acme.example", [["bob@acme.example", "agent", None]]),
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert planned.ok, planned.errors
    result = apply_users(acme, planned)
    ann, bob = (queries.get_user(acme, OPERATOR, user_id) for _, user_id in result.created)
    held = queries.permissions(acme, Actor.user(ann.id), "acme")
    assert {"users.manage", "audit.read"} <= held
    assert queries.permissions(acme, Actor.user(bob.id), "acme", sales.id) == {
        "mailbox.read",
        "mailbox.send",
        "mailbox.organize",
    }


def test_access_rows_are_checked_cell_by_cell(acme: Context, tmp_path: Path) -> None:
    run(acme, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    write_template(acme, OPERATOR, "acme", tmp_path / "template.xlsx")
    data = _with_access(
        tmp_path / "template.xlsx",
        ("Users", [["Ann", "Lee", "ann@acme.example"], ["Bob", "Ng", "bob@acme.example", "maybe"]]),
        (
            "Account",
            [
                ["ghost@acme.example", "system:member", None],
                ["ann@acme.example", "wizard", "mailbox.read"],
                ["bob@acme.example", "system:member", None],
            ],
        ),
        ("Mailbox sales@acme.example", [["ann@acme.example", "system:owner", None]]),
    )
    planned = plan_users(acme, OPERATOR, "acme", data)
    assert located(planned.errors)[:4] == [
        ("bulk.yes_no_invalid", "Users!D3"),
        ("bulk.user_unknown", "Account!A2"),
        ("bulk.role_unknown", "Account!B3"),
        ("bulk.permission_unknown", "Account!C3"),
    ]
    assert ("bulk.role_unknown", "Mailbox sales@acme.example!B2") in located(planned.errors)
    skipping = plan_users(acme, OPERATOR, "acme", data, policy="skip_invalid")
    # Bob's row fails, and takes his Account row along; Ann's Account and Mailbox rows fail,
    # so Ann is not created either (never without the access the file gives her).
    assert skipping.skipped == (2, 3)
    assert skipping.rows == ()
    assert {row: located(held) for row, held in skipping.failed.items()} == {
        2: [
            ("bulk.role_unknown", "Account!B3"),
            ("bulk.permission_unknown", "Account!C3"),
            ("bulk.role_unknown", "Mailbox sales@acme.example!B2"),
        ],
        3: [("bulk.yes_no_invalid", "Users!D3")],
    }
    one_bad = _with_access(
        tmp_path / "template.xlsx",
        ("Users", [["Ann", "Lee", "ann@acme.example"], ["Bob", "Ng", "bob@acme.example"]]),
        ("Account", [["ann@acme.example", "wizard", None], ["bob@acme.example", "member", None]]),
    )
    skipping = plan_users(acme, OPERATOR, "acme", one_bad, policy="skip_invalid")
    assert skipping.skipped == (2,)
    assert [row.row for row in skipping.rows] == [3, 3]  # Bob's Users row and his Account row


def test_the_same_workbook_twice_creates_nothing_the_second_time(
    acme: Context, tmp_path: Path
) -> None:
    run(acme, OPERATOR, CreateMailbox(account_id="acme", address="sales@acme.example"))
    write_template(acme, OPERATOR, "acme", tmp_path / "template.xlsx")
    first = _with_access(
        tmp_path / "template.xlsx",
        ("Users", [["Ann", "Lee", "ann@acme.example"], ["Bob", "Ng", "bob@acme.example"]]),
        ("Account", [["ann@acme.example", "administrator", None]]),
        ("Mailbox sales@acme.example", [["bob@acme.example", "agent", None]]),
    )
    apply_users(acme, plan_users(acme, OPERATOR, "acme", first))
    again = plan_users(acme, OPERATOR, "acme", first)
    assert again.ok
    assert (again.rows, again.unchanged, again.changed) == ((), (2, 3), ())
    assert repr(again) == (
        "<UsersImport ok: 0 command(s), 2 unchanged, 0 changed, 0 skipped; no issues>"
    )
    assert "<table>" not in again._repr_html_()  # no issues, no table
    assert repr(again.workbook).startswith("<Workbook xlsx: Roles (")
    assert repr(apply_users(acme, again)) == (
        "<BulkResult 0 created, 0 updated, 2 unchanged, 0 skipped, 0 issue(s)>"
    )

    changed = _with_access(
        tmp_path / "template.xlsx",
        ("Users", [["Ann", "Leigh", "ann@acme.example"], ["Bob", "Ng", "bob@acme.example"]]),
    )
    reported = plan_users(acme, OPERATOR, "acme", changed)
    ((change,),) = (reported.changed,)
    assert (reported.rows, change.sheet, change.row, change.names) == (
        (),
        "Users",
        2,
        ("last_name",),
    )
    assert str(change) == "Users!2 (ann@acme.example): last_name: Lee -> Leigh"
    result = apply_users(acme, plan_users(acme, OPERATOR, "acme", changed, updates=True))
    ((row, ann_id),) = result.updated
    ann = queries.get_user(acme, OPERATOR, ann_id)
    assert (row, ann.profile.last_name, ann.profile.display_name) == (2, "Leigh", "Ann Leigh")
    assert result.unchanged == (3,)


NAMES = ("ann", "bob", "cy", "dee", "eve")


def _into(seen: list[tuple[int, int]]) -> Callable[[int, int], None]:
    return lambda done, total: seen.append((done, total))


def _users(*names: str) -> bytes:
    return workbook(*([name.title(), "Lee", f"{name}@acme.example", "Y", None] for name in names))


def test_a_large_file_is_planned_in_parts_and_applied_in_one_transaction(
    acme: Context, outbox: Outbox, tmp_path: Path
) -> None:
    write_template(acme, OPERATOR, "acme", tmp_path / "template.xlsx")
    data = _with_access(
        tmp_path / "template.xlsx",
        ("Users", [[name.title(), "Lee", f"{name}@acme.example", "Y"] for name in NAMES]),
        ("Account", [["eve@acme.example", "administrator", None]]),
    )
    at_once = plan_users(acme, OPERATOR, "acme", data)
    seen: list[tuple[int, int]] = []
    planned = plan_users(acme, OPERATOR, "acme", data, part_size=2, progress=_into(seen))
    assert planned.ok
    assert planned.issues == at_once.issues
    assert planned.plan.change_count == at_once.plan.change_count
    # Each user goes with its Account row: Eve's grant is in her part, the last one.
    assert [row.row for row in planned.rows] == [2, 3, 4, 5, 6, 2]
    assert seen[-1] == (6, 6)
    outbox.clear()
    result = apply_users(acme, planned)
    assert [row for row, _ in result.created] == [2, 3, 4, 5, 6]
    eve = queries.get_user(acme, OPERATOR, result.created[-1][1])
    assert "users.manage" in queries.permissions(acme, Actor.user(eve.id), "acme")
    assert result.outcome.actions == {"CreateUser": 15, "SetGrant": 1}  # user, mailbox, grant
    assert result.outcome.events == ()  # in the audit log: the result does not hold them
    assert len([m for m in outbox.messages if m.template == "user.created"]) == 5


def test_a_part_that_no_longer_holds_at_apply_writes_none_of_the_parts(acme: Context) -> None:
    planned = plan_users(acme, OPERATOR, "acme", _users(*NAMES), part_size=2)
    assert planned.ok
    access_user(acme, "eve@acme.example")  # taken meanwhile, in the last part
    with pytest.raises(ValidationFailed) as caught:
        apply_users(acme, planned)
    blocking = [issue for issue in caught.value.issues if issue.blocking]
    assert located(blocking) == [("address.taken", "Users!C6")]
    for row in planned.rows[:4]:  # the parts before it were written, then rolled back
        with pytest.raises(NotFound):
            queries.get_user(acme, OPERATOR, row.command.user_id or "")


def test_rows_that_look_alike_are_both_refused_in_whichever_part(acme: Context) -> None:
    data = _users("kim", "bob", "cy", "kirn")
    for part_size in (None, 1, 2):
        planned = plan_users(acme, OPERATOR, "acme", data, part_size=part_size)
        assert located(planned.errors) == [
            ("bulk.address_lookalike", "Users!C2"),
            ("bulk.address_lookalike", "Users!C5"),
        ], part_size
    (kim, _) = plan_users(acme, OPERATOR, "acme", data).errors
    assert kim.message.startswith(
        "kim@acme.example looks like the email of row 5 (kirn@acme.example)"
    )


def test_a_part_size_is_a_positive_number_of_users(acme: Context) -> None:
    for wrong in (0, -1, True, "5", 2.5):
        with pytest.raises(ValueError, match="part_size must be a positive number"):
            plan_users(acme, OPERATOR, "acme", _users("ann"), part_size=wrong)  # type: ignore[arg-type]
    for wrong in (-1, False, "3"):
        with pytest.raises(ValueError, match="max_failures must be a number of rows"):
            plan_users(acme, OPERATOR, "acme", _users("ann"), max_failures=wrong)  # type: ignore[arg-type]
    for wrong in (0, True, "2"):
        with pytest.raises(ValueError, match="workers must be a positive number"):
            plan_users(acme, OPERATOR, "acme", _users("ann"), workers=wrong)  # type: ignore[arg-type]
    assert plan_users(acme, OPERATOR, "acme", _users("ann"), max_failures=0, workers=1).ok


class _Watched:
    """What the children of a dry run sent back (None: a child that failed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[object] = []
        result = _parallel.Child.result

        def watched(child: _parallel.Child[Any]) -> object:
            value = result(child)
            self.sent.append(value)
            return value

        monkeypatch.setattr(_parallel.Child, "result", watched)


def _mixed() -> bytes:
    """Users in four parts of one: a password, a look-alike pair, a bad mobile."""
    return workbook(
        ["Ann", "Lee", "ann@acme.example", "Y", None, "correct horse battery"],
        ["Kim", "Ode", "kim@acme.example", "Y", None, None],
        ["Bob", "Ng", "bob@acme.example", "N", "not a number", None],
        ["Kirn", "Ode", "kirn@acme.example", "Y", None, None],
        header=[*HEADER, "Password"],
    )


def test_a_library_call_never_forks_its_host_unless_asked(
    acme: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused() -> int:
        raise AssertionError("forked")

    monkeypatch.setattr(os, "fork", refused)
    planned = plan_users(acme, OPERATOR, "acme", _mixed(), part_size=1)  # workers left as is
    assert {issue.code for issue in planned.errors} == {"bulk.address_lookalike", "phone.invalid"}


def test_a_dry_run_in_parts_shares_them_with_a_child_process_and_finds_the_same(
    acme: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    children = _Watched(monkeypatch)
    alone = plan_users(acme, OPERATOR, "acme", _mixed(), part_size=1, workers=1)
    assert children.sent == []
    shared = plan_users(acme, OPERATOR, "acme", _mixed(), part_size=1, workers=2)
    assert shared.issues == alone.issues
    assert {issue.code for issue in shared.errors} == {
        "bulk.address_lookalike",
        "phone.invalid",
    }
    # A store a child can read (memory, a SQLite file, PostgreSQL) has its parts checked there.
    assert len(children.sent) == 1
    assert children.sent[0] is not None


def test_a_child_that_fails_leaves_its_parts_to_the_parent(
    acme: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    children = _Watched(monkeypatch)

    def broken() -> None:
        raise RuntimeError

    monkeypatch.setattr(_plan, "_reads", lambda _store: broken)
    alone = plan_users(acme, OPERATOR, "acme", _mixed(), part_size=1, workers=1)
    shared = plan_users(acme, OPERATOR, "acme", _mixed(), part_size=1, workers=3)
    assert children.sent == [None, None]  # both children failed; the parent did their parts
    assert shared.issues == alone.issues


def test_a_password_checked_in_a_child_is_hashed_before_the_write(
    acme: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    children = _Watched(monkeypatch)
    data = workbook(
        ["Cy", "Ode", "cy@acme.example", "Y", None, None],
        ["Ann", "Lee", "ann@acme.example", "Y", None, "correct horse battery"],
        header=[*HEADER, "Password"],
    )
    planned = plan_users(acme, OPERATOR, "acme", data, part_size=1, workers=2)
    assert planned.ok, planned.errors
    assert children.sent[0] is not None  # Ann's part was checked in the child
    result = apply_users(acme, planned)
    ann = queries.get_user(acme, OPERATOR, result.created[1][1])
    with acme.store.snapshot() as uow:
        stored = uow.users.get(ann.id).credentials.password_hash
    assert stored is not None
    assert acme.hasher.verify(stored, "correct horse battery")


def test_an_import_lists_each_code_so_many_times_then_counts_the_rest(acme: Context) -> None:
    rows = [[f"User{n}", "Lee", f"user{n}@acme.example", None, None] for n in range(12)]
    rows += [["Bad", "Address", f"not an address {n}", None, None] for n in range(3)]
    data = workbook(*rows)
    planned = plan_users(acme, OPERATOR, "acme", data, listed_per_code=5)
    codes = Counter(issue.code for issue in planned.issues)
    assert codes["user.no_recovery"] == 5
    assert codes["username.invalid"] == 3  # under the bound: every one listed
    repeated = [issue for issue in planned.issues if issue.code == "bulk.issues_repeated"]
    assert [(issue.message, issue.blocking) for issue in repeated] == [
        ("7 more user.no_recovery issues than the 5 listed, on rows 7 to 13", False)
    ]
    everything = plan_users(acme, OPERATOR, "acme", data, listed_per_code=None)
    assert Counter(issue.code for issue in everything.issues)["user.no_recovery"] == 12
    # Planned in parts, the plan itself keeps 5 of them and one issue for the other 7 ...
    parts = plan_users(acme, OPERATOR, "acme", data, listed_per_code=5, part_size=4)
    folded = [i for i in parts.plan.issues if i.code == "user.no_recovery" and i.others]
    assert [issue.count for issue in folded] == [7]
    assert len(parts.plan.issues) <= 5 + 1 + 3  # not one per row
    # ... and the import says the same as when it was planned at once.
    assert sorted(map(str, parts.issues)) == sorted(map(str, planned.issues))
    clean = workbook(*rows[:12])
    kept = plan_users(acme, OPERATOR, "acme", clean, listed_per_code=5, part_size=4)
    assert kept.plan._work.spill is not None
    dry = plan_users(acme, OPERATOR, "acme", clean, listed_per_code=5, part_size=4, dry_run=True)
    assert dry.plan._work.spill is None
    assert dry.issues == kept.issues
    errors = plan_users(acme, OPERATOR, "acme", data, listed_per_code=2)
    assert not errors.ok  # more errors than listed still block
    assert [i.message for i in errors.errors if i.code == "bulk.issues_repeated"] == [
        "1 more username.invalid issues than the 2 listed, on rows 16 to 16"
    ]
    with pytest.raises(ValueError, match="listed_per_code"):
        plan_users(acme, OPERATOR, "acme", data, listed_per_code=0)
    assert importing.LISTED_PER_CODE == 1_000
