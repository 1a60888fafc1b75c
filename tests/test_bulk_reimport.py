"""A re-import only does what the file says: absent columns keep, access changes are shown."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from conftest import OPERATOR
from provisioning import Actor, Context, queries
from provisioning.bulk import apply_users, plan_users, write_annotated
from provisioning.model import User

FULL = [
    "First name",
    "Last name",
    "Email",
    "Alternate email",
    "Mobile",
    "Time zone",
    "Aliases",
]


def _book(header: list[str], *rows: list[Any], access: list[list[Any]] | None = None) -> bytes:
    book = openpyxl.Workbook()
    users = book.active
    assert users is not None
    users.title = "Users"
    users.append(header)
    for row in rows:
        users.append(row)
    if access is not None:
        account = book.create_sheet("Account")
        account.append(access[0])
        for row in access[1:]:
            account.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _ann(ctx: Context) -> User:
    (found,) = queries.users(ctx, OPERATOR, "acme", search="ann@acme.example").items
    return queries.get_user(ctx, OPERATOR, found.id)


def _created(ctx: Context) -> User:
    full = _book(
        FULL,
        [
            "Ann",
            "Lee",
            "ann@acme.example",
            "ann@home.example",
            "+41 79 123 45 67",
            "Europe/Zurich",
            "a.lee@acme.example",
        ],
        access=[["Email", "Roles"], ["ann@acme.example", "administrator"]],
    )
    planned = plan_users(ctx, OPERATOR, "acme", full)
    assert planned.ok, planned.issues
    apply_users(ctx, planned)
    return _ann(ctx)


def _profile(user: User) -> tuple[object, ...]:
    profile = user.profile
    return (
        profile.first_name,
        profile.last_name,
        str(profile.alternate_email),
        str(profile.mobile),
        profile.timezone,
        tuple(str(a) for a in user.aliases),
    )


@pytest.mark.parametrize("updates", [False, True])
def test_columns_the_file_does_not_have_keep_what_the_user_holds(
    acme: Context, updates: bool
) -> None:
    before = _profile(_created(acme))
    narrow = _book(["First name", "Last name", "Email"], ["Ann", "Lee", "ann@acme.example"])
    planned = plan_users(acme, OPERATOR, "acme", narrow, updates=updates)
    assert (planned.unchanged, planned.changed, planned.rows) == ((2,), (), ())
    apply_users(acme, planned)
    assert _profile(_ann(acme)) == before


def test_an_empty_cell_keeps_what_the_user_holds_and_a_value_changes_it(acme: Context) -> None:
    before = _profile(_created(acme))
    blank = _book(FULL, ["Ann", "Lee", "ann@acme.example", None, None, None, None])
    assert plan_users(acme, OPERATOR, "acme", blank, updates=True).unchanged == (2,)
    edited = _book(
        FULL,
        ["Ann", "Lee", "ann@acme.example", None, "+41 79 765 43 21", None, "ann.lee@acme.example"],
    )
    planned = plan_users(acme, OPERATOR, "acme", edited, updates=True)
    ((change,),) = (planned.changed,)
    assert [str(field) for field in change.fields] == [
        "mobile: +41791234567 -> +41 79 765 43 21",
        "aliases: +ann.lee@acme.example, -a.lee@acme.example",
    ]
    apply_users(acme, planned)
    after = _profile(_ann(acme))
    assert after[:3] == before[:3]
    assert after[3:] == ("+41797654321", "Europe/Zurich", ("ann.lee@acme.example",))


def test_an_access_row_that_would_demote_an_admin_is_shown_and_held_back(acme: Context) -> None:
    ann = _created(acme)
    assert "users.manage" in queries.permissions(acme, Actor.user(ann.id), "acme")
    demoting = _book(
        ["First name", "Last name", "Email"],
        ["Ann", "Lee", "ann@acme.example"],
        access=[["Email", "Roles"], ["ann@acme.example", "member"]],
    )
    held = plan_users(acme, OPERATOR, "acme", demoting)
    assert held.ok
    assert held.unchanged == (2,)
    ((change,),) = (held.changed,)
    assert (change.sheet, change.row, change.email) == ("Account", 2, "ann@acme.example")
    assert [str(field) for field in change.fields] == ["roles: +member, -administrator"]
    assert held.rows == ()  # nothing planned without updates
    result = apply_users(acme, held)
    assert result.updated == ()
    assert "users.manage" in queries.permissions(acme, Actor.user(ann.id), "acme")

    applied = apply_users(acme, plan_users(acme, OPERATOR, "acme", demoting, updates=True))
    assert applied.updated == ((2, ann.id),)
    assert "users.manage" not in queries.permissions(acme, Actor.user(ann.id), "acme")


def test_an_empty_roles_cell_means_none_and_is_shown_as_a_removal(acme: Context) -> None:
    ann = _created(acme)
    emptied = _book(
        ["First name", "Last name", "Email"],
        ["Ann", "Lee", "ann@acme.example"],
        access=[["Email", "Roles"], ["ann@acme.example", None]],
    )
    held = plan_users(acme, OPERATOR, "acme", emptied)
    ((change,),) = (held.changed,)
    assert [str(field) for field in change.fields] == ["roles: -administrator"]
    assert held.rows == ()
    apply_users(acme, held)
    assert "users.manage" in queries.permissions(acme, Actor.user(ann.id), "acme")


def test_an_access_sheet_without_a_column_keeps_that_part_of_the_grant(acme: Context) -> None:
    ann = _created(acme)
    only_permissions = _book(
        ["First name", "Last name", "Email"],
        ["Ann", "Lee", "ann@acme.example"],
        access=[["Email", "Permissions"], ["ann@acme.example", "mailboxes.manage"]],
    )
    planned = plan_users(acme, OPERATOR, "acme", only_permissions, updates=True)
    ((change,),) = (planned.changed,)
    assert [str(field) for field in change.fields] == ["permissions: +mailboxes.manage"]
    apply_users(acme, planned)
    held = queries.permissions(acme, Actor.user(ann.id), "acme")
    assert {"users.manage", "mailboxes.manage"} <= held  # the administrator role stayed
    same = plan_users(acme, OPERATOR, "acme", only_permissions, updates=True)
    assert (same.changed, same.rows) == ((), ())


def test_changes_are_shown_in_the_repr_the_html_and_the_annotated_copy(
    acme: Context, tmp_path: Path
) -> None:
    _created(acme)
    edited = _book(FULL[:3], ["Ann", "Leigh", "ann@acme.example"])
    planned = plan_users(acme, OPERATOR, "acme", edited)
    assert "1 changed" in repr(planned)
    html = planned._repr_html_()
    assert "Lee" in html
    assert "Leigh" in html
    write_annotated(edited, planned.issues, tmp_path / "annotated.xlsx", changes=planned.changed)
    book = openpyxl.load_workbook(tmp_path / "annotated.xlsx")
    cell = book["Users"]["B2"]
    assert cell.comment is not None
    assert "Lee -> Leigh" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("BDD7EE")


def test_the_command_line_shows_changes_and_applies_them_only_with_updates(
    tmp_path: Path,
) -> None:
    from test_cli import cli, initialised, users_workbook  # noqa: PLC0415 - the script's helpers

    initialised(tmp_path)
    upload = tmp_path / "users.xlsx"
    users_workbook(upload, ["Ann", "Lee", "ann@acme.example", "N", None])
    assert cli("import", upload, cwd=tmp_path).returncode == 0
    users_workbook(upload, ["Ann", "Leigh", "ann@acme.example", "N", None])
    held = cli("import", upload, cwd=tmp_path)
    assert held.returncode == 0, held.stderr
    assert "0 created, 0 updated, 0 unchanged, 1 changed, 1 held back" in held.stdout
    assert "Lee" in held.stdout
    assert "Leigh" in held.stdout
    applied = cli("import", upload, "--updates", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "0 created, 1 updated, 0 unchanged, 1 changed, 0 skipped" in applied.stdout
    again = cli("--format", "json", "import", upload, "--dry-run", cwd=tmp_path)
    assert '"changed": 0' in again.stdout


@pytest.mark.parametrize("name", ["[/x]", "[link=x]S[/link]", "[red]Sam"])
def test_a_name_that_looks_like_markup_is_printed_as_it_is(tmp_path: Path, name: str) -> None:
    from test_cli import cli, initialised, users_workbook  # noqa: PLC0415 - the script's helpers

    initialised(tmp_path)
    upload = tmp_path / "users.xlsx"
    users_workbook(upload, [name, "Lee", "ann@acme.example", "N", None])
    assert cli("import", upload, cwd=tmp_path).returncode == 0
    for listing in (("users",), ("user", "show", "ann@acme.example")):
        shown = cli(*listing, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert name.partition("]")[0] in shown.stdout
        assert "Traceback" not in shown.stderr


# -- what a directory knows of a person ---------------------------------------------------------

ORG = ["Email", "First name", "Last name", "External id", "Job title", "Department", "Manager"]


def test_the_organisation_s_columns_fill_the_attributes_and_a_re_import_changes_only_them(
    acme: Context, tmp_path: Path
) -> None:
    first = _book(
        ORG, ["ann@acme.example", "Ann", "Lee", "00uAnn", "Engineer", "R&D", "bob@acme.example"]
    )
    apply_users(acme, plan_users(acme, OPERATOR, "acme", first))
    ann = _ann(acme)
    assert ann.external_id == "00uAnn"
    assert (ann.profile.title, ann.profile.department, ann.profile.manager) == (
        "Engineer",
        "R&D",
        "bob@acme.example",
    )
    # A file without those columns keeps them; an empty cell keeps its attribute.
    narrow = _book(["Email", "First name", "Last name"], ["ann@acme.example", "Ann", "Lee"])
    assert plan_users(acme, OPERATOR, "acme", narrow, updates=True).unchanged == (2,)
    blank = _book(ORG, ["ann@acme.example", "Ann", "Lee", None, None, None, None])
    assert plan_users(acme, OPERATOR, "acme", blank, updates=True).unchanged == (2,)
    promoted = _book(ORG, ["ann@acme.example", "Ann", "Lee", None, "Lead", None, None])
    planned = plan_users(acme, OPERATOR, "acme", promoted, updates=True)
    ((change,),) = (planned.changed,)
    assert [str(field) for field in change.fields] == ["title: Engineer -> Lead"]
    apply_users(acme, planned)
    assert _ann(acme).profile.title == "Lead"
    assert _ann(acme).profile.department == "R&D"
    # The report carries them, and imports back as unchanged.
    from provisioning.bulk import write_users_report  # noqa: PLC0415

    write_users_report(acme, OPERATOR, "acme", tmp_path / "report.csv", format="csv")
    text = (tmp_path / "report.csv").read_text(encoding="utf-8-sig")
    assert "External id" in text.splitlines()[0]
    assert "00uAnn" in text
    again = plan_users(acme, OPERATOR, "acme", tmp_path / "report.csv", updates=True)
    assert (again.changed, again.rows) == ((), ())


def test_an_entra_download_s_organisation_columns_are_read(acme: Context) -> None:
    entra = (
        b"userPrincipalName,givenName,surname,jobTitle,department,employeeId,companyName\n"
        b"ann@acme.example,Ann,Lee,Engineer,R&D,E-7,Acme Holding\n"
    )
    planned = plan_users(acme, OPERATOR, "acme", entra)
    assert planned.ok, planned.issues
    apply_users(acme, planned)
    profile = _ann(acme).profile
    assert (
        profile.title,
        profile.department,
        profile.employee_number,
        profile.organization,
    ) == ("Engineer", "R&D", "E-7", "Acme Holding")


def test_an_external_id_two_rows_claim_is_refused_at_its_cell(acme: Context) -> None:
    twins = _book(
        ["Email", "First name", "Last name", "External id"],
        ["ann@acme.example", "Ann", "Lee", "00u1"],
        ["bob@acme.example", "Bob", "Lee", "00u1"],
    )
    planned = plan_users(acme, OPERATOR, "acme", twins)
    assert "user.external_id_taken" in {issue.code for issue in planned.issues}
    assert not planned.ok
