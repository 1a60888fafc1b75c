"""Workbooks the library writes: the import template, an annotated copy, the users report.

All three are .xlsx files written with openpyxl. The users report streams
(openpyxl's write-only mode, the store read a page at a time), so 100,000
users never sit in memory as a workbook, and it can be CSV instead. Text a
spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage
return first) is written with a leading apostrophe, as OWASP advises.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final, Literal, TypeGuard, TypeVar

import attrs
import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from provisioning import queries
from provisioning.bulk._existing import RowChange
from provisioning.bulk._limits import DEFAULT_LIMITS, ReadLimits
from provisioning.bulk._workbook import Workbook
from provisioning.bulk.importing import account_mailboxes
from provisioning.bulk.users import COLUMNS, REPORT_COLUMNS, USERS_SHEET
from provisioning.errors import (
    Issue,
    NotFound,
    PermissionDenied,
    Severity,
    SpreadsheetError,
    UndeliverableMessage,
    codes,
)
from provisioning.model import (
    DIRECTORY_ATTRIBUTES,
    PERMISSIONS,
    Attachment,
    Message,
    MfaStatus,
    User,
    UserStatus,
)
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.rules.access import authorize

__all__ = [
    "REPORT_COLUMNS",
    "XLSX_TYPE",
    "Destination",
    "attach_reports",
    "neutralised",
    "write_annotated",
    "write_template",
    "write_users_report",
]

CODES: Final = codes(
    denied=("report.refused",),
    unavailable=("spreadsheet.unwritable",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

Destination = str | os.PathLike[str] | IO[bytes]
"""Where a workbook goes: a path, or a binary file open for writing."""

_V = TypeVar("_V")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_BOLD: Final = Font(bold=True)
_ERROR_FILL: Final = PatternFill("solid", start_color="FFF4C7C3", end_color="FFF4C7C3")
_WARNING_FILL: Final = PatternFill("solid", start_color="FFFFF2CC", end_color="FFFFF2CC")
_CHANGE_FILL: Final = PatternFill("solid", start_color="FFBDD7EE", end_color="FFBDD7EE")
_PAGE: Final = 1000


def _text_cell(sheet: Any, value: str) -> Cell:  # noqa: ANN401 - a write-only sheet
    """A cell holding `value` as text, never a formula: no apostrophe is needed or shown."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _formula_like(value: object) -> TypeGuard[str]:
    """Whether openpyxl would write `value` as a formula (text beginning with `=`)."""
    return isinstance(value, str) and value.startswith("=")


def _legal(value: _V) -> _V:
    """Text without the control characters a workbook cannot hold (each becomes U+FFFD)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)  # type: ignore[return-value]
    return value


def neutralised(value: object) -> object:
    """`value`, with text that a spreadsheet would run as a formula made plain text.

    For formats without cell types (CSV); an .xlsx string cell needs no
    apostrophe, and the import reads one before `=`, `+`, `-`, `@` as this mark.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _save(book: openpyxl.Workbook, destination: Destination) -> None:
    with _written(destination) as stream:
        book.save(stream)


@contextlib.contextmanager
def _written(destination: Destination) -> Iterator[IO[bytes]]:
    """A stream to write `destination` through; a failed write is `spreadsheet.unwritable`.

    A path is written to a file beside it that replaces it once complete, so
    a full disk leaves no half-written workbook where one was asked for, and
    an older file there untouched (a replaced file keeps its permissions).
    A path that is a link, a folder or a device is refused, never replaced.
    """
    if not isinstance(destination, str | os.PathLike):
        try:
            yield destination
            destination.flush()  # so that a full disk is said here, not when the caller closes
        except OSError as exc:
            raise _unwritable("the file", exc) from exc
        return
    path = Path(destination)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise SpreadsheetError(
            code="spreadsheet.unwritable",
            reason=f"{path} is not a regular file (a link, a folder or a device):"
            " name a new file or a regular one to replace",
        )
    try:
        partial = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, or on failure
            dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
        )
    except OSError as exc:
        raise _unwritable(str(path), exc) from exc
    try:
        with partial:
            yield partial
        if path.exists():  # a new file is its owner's alone (it may hold personal data)
            Path(partial.name).chmod(path.stat().st_mode & 0o777)
        Path(partial.name).replace(path)
    except OSError as exc:
        Path(partial.name).unlink(missing_ok=True)
        raise _unwritable(str(path), exc) from exc
    except BaseException:
        Path(partial.name).unlink(missing_ok=True)
        raise


def _unwritable(where: str, exc: OSError) -> SpreadsheetError:
    return SpreadsheetError(
        code="spreadsheet.unwritable",
        reason=f"{where} could not be written: {exc.strerror or type(exc).__name__}",
    )


# -- the template ---------------------------------------------------------------------------


def write_template(
    ctx: Environment, actor: Actor, account_id: str, destination: Destination
) -> None:
    """Write the import template for the account: Roles, Permissions, Users, Account, Mailboxes.

    Needs `users.create` in the account. Each header carries a comment saying
    what goes in its column; Y/N and class-of-service columns get drop-down
    lists. There is one Mailbox sheet per mailbox of the account.
    """
    with ctx.store.snapshot() as uow:
        authorize(uow, actor.checked_at(ctx.clock.now()), "users.create", account_id)
    roles = queries.every(
        lambda after: queries.roles(ctx, actor, account_id, limit=queries.MAX_PAGE, after=after)
    )
    every_class = queries.every(
        lambda after: queries.classes_of_service(
            ctx, actor, account_id, limit=queries.MAX_PAGE, after=after
        )
    )
    classes = [c.name for c in every_class if not c.system]
    mailboxes = account_mailboxes(ctx, actor, account_id)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its first sheet
    sheet.title = "Roles"
    _header(
        sheet,
        [
            ("Role", "The role's id, as the Account and Mailbox sheets name it."),
            ("Name", ""),
            ("Scope", "account or mailbox"),
            ("Description", ""),
        ],
    )
    for role in roles:  # a description is anyone's text: never a formula
        sheet.append(
            [neutralised(v) for v in (role.id, role.name, str(role.scope), role.description)]
        )
    permissions = book.create_sheet("Permissions")
    _header(
        permissions,
        [
            ("Permission", "What the Account and Mailbox sheets name."),
            ("Scope", "account or mailbox"),
            ("Description", ""),
        ],
    )
    for permission in PERMISSIONS.values():
        permissions.append([permission.name, str(permission.scope), permission.description])
    users = book.create_sheet(USERS_SHEET)
    _header(users, [(c.header + (" [Required]" if c.required else ""), c.help) for c in COLUMNS])
    _choices(users, [c.key for c in COLUMNS].index("personal_mailbox") + 1, ["Y", "N"])
    mobile = get_column_letter([c.key for c in COLUMNS].index("mobile") + 1)
    users.column_dimensions[mobile].number_format = "@"  # text: a typed 079... keeps its 0
    account = book.create_sheet("Account")
    _header(
        account,
        [
            ("Email", "A user of the Users sheet."),
            ("Roles", "Account roles (see Roles), separated by commas."),
            ("Permissions", "Account permissions (see Permissions), separated by commas."),
        ],
    )
    for mailbox in mailboxes:
        tab = book.create_sheet(_sheet_name(f"Mailbox {mailbox.address}", book.sheetnames))
        _header(
            tab,
            [
                ("Email", f"A user of the Users sheet, given access to {mailbox.address}."),
                ("Roles", "Mailbox roles, separated by commas."),
                ("Permissions", "Mailbox permissions, separated by commas."),
            ],
        )
        tab["E1"] = "Mailbox"
        _text(tab["F1"], str(mailbox.address))  # read back as it is, so text and no formula
    if classes:
        _listed(book, users, [c.key for c in COLUMNS].index("cos") + 1, classes)
    _save(book, destination)


def _header(sheet: Any, columns: Sequence[tuple[str, str]]) -> None:  # noqa: ANN401 - a worksheet
    sheet.append([name for name, _ in columns])
    for position, (_, help_text) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=position)
        cell.font = _BOLD
        if help_text:
            cell.comment = Comment(help_text, "provisioning")
        sheet.column_dimensions[cell.column_letter].width = max(14, len(str(cell.value)) + 4)
    sheet.freeze_panes = "A2"


def _choices(sheet: Any, column: int, values: Sequence[str]) -> None:  # noqa: ANN401
    letter = get_column_letter(column)
    listed = ",".join(v.replace('"', "'") for v in values)
    validation = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True)
    validation.add(f"{letter}2:{letter}100000")
    sheet.add_data_validation(validation)


LISTS_SHEET: Final = "Lists"
"""The template's hidden sheet of the values its longer drop-down lists offer."""


def _listed(book: openpyxl.Workbook, sheet: Any, column: int, values: Sequence[str]) -> None:  # noqa: ANN401
    """A drop-down list of `values` on `column`, read from the hidden Lists sheet (made last).

    A list written into the validation itself holds 255 characters at the
    most: Excel calls a workbook with a longer one damaged.
    """
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    for row, value in enumerate(values, start=1):
        _text(lists.cell(row=row, column=1), value)
    target = get_column_letter(column)
    validation = DataValidation(
        type="list", formula1=f"{LISTS_SHEET}!$A$1:$A${len(values)}", allow_blank=True
    )
    validation.add(f"{target}2:{target}100000")
    sheet.add_data_validation(validation)


def _text(cell: Any, value: str) -> None:  # noqa: ANN401 - a worksheet cell
    """Put `value` in `cell` as text, also when it begins as a formula would."""
    cell.value = value
    cell.data_type = "s"


def _sheet_name(wanted: str, taken: Sequence[str]) -> str:
    name = "".join("_" if c in "[]:*?/\\" else c for c in wanted)[:31]
    number = 1
    while name in taken:
        number += 1
        name = f"{name[:27]} {number}"
    return name


# -- the annotated copy -----------------------------------------------------------------------


def write_annotated(
    source: bytes | Workbook,
    issues: Iterable[Issue],
    destination: Destination,
    *,
    changes: Iterable[RowChange] = (),
    limits: ReadLimits = DEFAULT_LIMITS,
) -> None:
    """Write a copy of the uploaded workbook with every located issue on its cell.

    Offending cells are filled (red for errors, yellow for warnings) and carry
    the issues as a comment; a first sheet, `Issues`, lists them all. With
    `changes` (`UsersImport.changed`), each cell a row would change for a
    user that exists is filled blue, its comment saying from what to what.
    An .xlsx or .xlsm upload of up to about 50,000 cells is copied as it is,
    its formatting kept; any other (a larger one, CSV, .ods ...) is written
    out from its values, a row at a time, so its memory stays near what its
    values take.
    """
    listed = list(issues)
    by_cell, fills = _notes(listed, changes)
    book = _editable(source, limits) if isinstance(source, bytes) else None
    if book is None:
        values = source if isinstance(source, Workbook) else _values(source, limits)
        _write_streamed(values, listed, _Marks(by_cell, fills), destination)
        return
    only = book.sheetnames[0] if len(book.sheetnames) == 1 else None  # read as the Users sheet
    for (sheet_name, row, column), found in by_cell.items():
        if sheet_name in book.sheetnames:
            name = sheet_name
        elif sheet_name == USERS_SHEET and only is not None:
            name = only
        else:
            continue
        cell = book[name].cell(row=row, column=column)
        cell.fill = fills[sheet_name, row, column]
        cell.comment = _comment(found)
    summary = book.create_sheet("Issues", 0)
    _header(summary, [("Cell", ""), ("Severity", ""), ("Code", ""), ("Message", "")])
    for line in _summary_lines(listed):
        summary.append(line)
    book.active = 0
    _save(book, destination)


def _comment(found: Sequence[str]) -> Comment:
    return Comment(_legal("\n".join(found))[:30000], "provisioning")


def _summary_lines(listed: Sequence[Issue]) -> Iterator[list[object]]:
    """The `Issues` sheet's rows: where, how bad, the code and the message of each issue."""
    for issue in listed:
        severity = "error" if issue.severity is Severity.ERROR else "warning"
        where = neutralised(_legal(str(issue.location or "")))
        yield [where, severity, issue.code, neutralised(_legal(issue.message))]


@attrs.frozen
class _Marks:
    """Each annotated cell's comment lines and fill, by (sheet, row, column)."""

    notes: dict[_Cell, list[str]]
    fills: dict[_Cell, PatternFill]

    def of_sheet(self, name: str, *, only: bool) -> dict[tuple[int, int], _Cell]:
        """The sheet's annotated cells: (row, column) to their key (the only sheet is Users)."""
        return {
            (row, column): (sheet, row, column)
            for sheet, row, column in self.notes
            if sheet == name or (only and sheet == USERS_SHEET)
        }


def _copied(sheet: Any, value: object, marks: _Marks, key: _Cell | None) -> object:  # noqa: ANN401
    """A value of the upload as the copy writes it: a marked cell if `key` names one."""
    shown = neutralised(_legal(value))
    if key is None:
        return shown
    cell = WriteOnlyCell(sheet, value=shown)  # type: ignore[arg-type]
    cell.fill = marks.fills[key]
    cell.comment = _comment(marks.notes[key])
    return cell


def _write_streamed(
    values: Workbook, listed: Sequence[Issue], marks: _Marks, destination: Destination
) -> None:
    """The annotated copy written from the upload's values, a row at a time.

    openpyxl's write-only mode: the `Issues` sheet first, then each sheet
    with its marked cells.
    """
    with _written(destination) as stream:  # a destination refused before any sheet is begun
        book = openpyxl.Workbook(write_only=True)
        summary = book.create_sheet("Issues")
        header = []
        for name in ("Cell", "Severity", "Code", "Message"):
            cell = WriteOnlyCell(summary, value=name)
            cell.font = _BOLD
            header.append(cell)
        summary.append(header)
        for issue_line in _summary_lines(listed):
            summary.append(issue_line)
        taken = ["Issues"]
        only = len(values.sheets) == 1
        for sheet in values.sheets:
            name = _sheet_name(sheet.name, taken)
            taken.append(name)
            copy = book.create_sheet(name)
            marked = marks.of_sheet(sheet.name, only=only)
            for row_number, row in enumerate(sheet.rows, start=1):
                copy.append(
                    [
                        _copied(copy, value, marks, marked.get((row_number, column_number)))
                        for column_number, value in enumerate(row, start=1)
                    ]
                )
        book.save(stream)


_Cell = tuple[str, int, int]


def _notes(
    issues: Sequence[Issue], changes: Iterable[RowChange]
) -> tuple[dict[_Cell, list[str]], dict[_Cell, PatternFill]]:
    """Each cell's comment lines and fill: red for an error, else yellow, else blue."""
    by_cell: dict[_Cell, list[str]] = {}
    fills: dict[_Cell, PatternFill] = {}
    for change in changes:
        for field in change.fields:
            column = change.cells.get(field.field)
            if column is not None:
                key = (change.sheet, change.row, column)
                by_cell.setdefault(key, []).append(f"will change: {field}")
                fills[key] = _CHANGE_FILL
    for issue in issues:
        where = issue.location
        if where is not None and where.row is not None and where.column is not None:
            key = (where.sheet, where.row, where.column)
            by_cell.setdefault(key, []).append(f"{issue.code}: {issue.message}")
            if issue.blocking:
                fills[key] = _ERROR_FILL
            elif fills.get(key) is not _ERROR_FILL:
                fills[key] = _WARNING_FILL
    return by_cell, fills


_WHOLE_COPY: Final = 4 * 2**20
"""The most unpacked sheet XML (about 50,000 cells) an annotated copy keeps the formatting of:
openpyxl holds a whole workbook as some 1.3 KB a cell, a row-at-a-time copy as its values."""


def _editable(source: bytes, limits: ReadLimits) -> openpyxl.Workbook | None:
    """The upload as openpyxl edits it whole, when it is an .xlsx small enough; else None."""
    from provisioning.bulk._extent import check_extent  # noqa: PLC0415
    from provisioning.bulk.readers import recognise  # noqa: PLC0415

    # Its size and a zip bomb are refused before anything unpacks it (`recognise`), a
    # sheet's extent before openpyxl lays it out; a copy from its values has `read_workbook`
    # check the extent itself.
    format_ = recognise(source, limits)
    if format_ not in ("xlsx", "xlsm") or _sheets_xml(source) > _WHOLE_COPY:
        return None
    check_extent(source, format_, limits)
    try:
        return openpyxl.load_workbook(io.BytesIO(source))
    except Exception:  # noqa: BLE001 - not an .xlsx openpyxl can edit: copied from its values
        return None


def _sheets_xml(data: bytes) -> int:
    """How many bytes the workbook's sheets and shared strings unpack to."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(
            entry.file_size
            for entry in archive.infolist()
            if entry.filename.startswith(("xl/worksheets/", "xl/sharedStrings"))
        )


def _values(source: bytes, limits: ReadLimits) -> Workbook:
    from provisioning.bulk.readers import read_workbook  # noqa: PLC0415

    return read_workbook(source, limits=limits)


# -- the users report ------------------------------------------------------------------------


@attrs.frozen
class _Names:
    """What the report names by id: classes of service, mailboxes, each user's grants."""

    classes: dict[str, str]
    mailboxes: dict[str, str]
    account_roles: dict[str, str]
    mailbox_access: dict[str, str]


def _names(uow: Any, account_id: str) -> _Names:  # noqa: ANN401 - a unit of work
    classes = {c.id: c.name for c in uow.classes_of_service.of_account(None)}
    classes.update({c.id: c.name for c in uow.classes_of_service.of_account(account_id)})
    mailboxes = {m.id: str(m.address) for m in uow.mailboxes.of_account(account_id)}
    roles: dict[str, list[str]] = {}
    access: dict[str, list[str]] = {}
    for grant in uow.grants.of_account(account_id):
        held = sorted(grant.role_ids | grant.permissions)
        if grant.mailbox_id is None:
            roles.setdefault(grant.user_id, []).extend(held)
        else:
            where = mailboxes.get(grant.mailbox_id, grant.mailbox_id)
            access.setdefault(grant.user_id, []).append(f"{where}: {', '.join(held)}")
    return _Names(
        classes=classes,
        mailboxes=mailboxes,
        account_roles={k: ", ".join(v) for k, v in roles.items()},
        mailbox_access={k: "; ".join(sorted(v)) for k, v in access.items()},
    )


def _report_rows(ctx: Environment, actor: Actor, account_id: str) -> Iterator[list[object]]:
    with ctx.store.snapshot() as uow:
        authorize(uow, actor, "users.read", account_id)
        uow.accounts.get(account_id)
        names = _names(uow, account_id)
        after: tuple[str, str] | None = None
        while True:
            page, _ = uow.users.page(
                account_id=account_id,
                domain_id=None,
                text=None,
                descending=False,
                offset=0,
                limit=_PAGE,
                after=after,
            )
            for user in page:
                yield _report_row(user, names)
            if len(page) < _PAGE:
                return
            after = (page[-1].username.key, page[-1].id)


def _report_row(user: User, names: _Names) -> list[object]:
    """A user's row of plain values (text that would run as a formula is made safe on writing)."""
    profile = user.profile
    source = user.directory_service or str(user.source)
    return [
        str(user.username),
        profile.first_name,
        profile.last_name,
        profile.display_name or profile.full_name,
        "enabled" if user.status is UserStatus.ACTIVE else "disabled",
        source,
        names.classes.get(user.cos_id or "", user.cos_id or ""),
        str(profile.alternate_email or ""),
        str(profile.mobile or ""),
        profile.timezone or "",
        ", ".join(str(alias) for alias in user.aliases),
        user.external_id or "",
        *(getattr(profile, name) for name in DIRECTORY_ATTRIBUTES),
        "Y" if user.mfa.required else "N",
        "Y" if user.mfa.status is MfaStatus.ACTIVE else "N",
        names.account_roles.get(user.id, ""),
        names.mailbox_access.get(user.id, ""),
        user.last_sign_in_at.replace(tzinfo=None) if user.last_sign_in_at else None,
        user.created_at.replace(tzinfo=None),
        user.updated_at.replace(tzinfo=None),
    ]


def _write_csv(rows: Iterable[list[object]], stream: IO[bytes]) -> int:
    """The rows as CSV, UTF-8 with a byte-order mark (so Excel reads it as UTF-8), one at a time."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(REPORT_COLUMNS)
        count = 0
        for row in rows:
            writer.writerow(
                v.isoformat(sep=" ", timespec="seconds")
                if hasattr(v, "isoformat")
                else neutralised(v)
                for v in row
            )
            count += 1
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open
    return count


def write_users_report(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    destination: Destination,
    *,
    format: Literal["xlsx", "csv"] = "xlsx",  # noqa: A002 - the file format
) -> int:
    """Write one row per user of the account (see `REPORT_COLUMNS`); return how many.

    Needs `users.read`. Times are in UTC. The rows stream from the store a
    page at a time into a write-only workbook (or CSV, UTF-8 with a
    byte-order mark so that Excel reads it as such).
    """
    actor = actor.checked_at(ctx.clock.now())  # a support session is open or closed by the clock
    with ctx.store.snapshot() as uow:  # refuse before a file is begun
        authorize(uow, actor, "users.read", account_id)
        uow.accounts.get(account_id)
    rows = _report_rows(ctx, actor, account_id)
    count = 0
    with _written(destination) as stream:
        if format == "csv":
            return _write_csv(rows, stream)
        book = openpyxl.Workbook(write_only=True)  # its rows go to a temporary file at once
        sheet = book.create_sheet("Users")
        sheet.append(list(REPORT_COLUMNS))
        for row in rows:
            sheet.append([_text_cell(sheet, v) if _formula_like(v) else v for v in row])
            count += 1
        book.save(stream)
    return count


XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attach_reports(ctx: Environment) -> Callable[[Message], Message]:
    """What `deliver` calls (`prepare=`) to attach the report a `report.users` message asks for.

    The report is made as the message is sent, with the requester's rights
    at that moment: a requester who may no longer read the account's users
    gets none (`UndeliverableMessage` `report.refused`, and the message is
    given up). Every other message passes as it is.
    """

    def prepare(message: Message) -> Message:
        if message.template != "report.users":
            return message
        requester = Actor.user(message.data.get("requester_id", ""))
        account_id = message.data.get("account_id", "")
        report = io.BytesIO()
        try:
            write_users_report(ctx, requester, account_id, report)
        except (PermissionDenied, NotFound):
            raise UndeliverableMessage(
                code="report.refused",
                reason="the requester may no longer read the account's users",
            ) from None
        day = ctx.clock.now().date().isoformat()
        attached = Attachment(f"users-report-{day}.xlsx", XLSX_TYPE, report.getvalue())
        return attrs.evolve(message, attachments=(*message.attachments, attached))

    return prepare
