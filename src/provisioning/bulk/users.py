"""The Users sheet: its columns, the realities of its cells, and the `CreateUser` of each row.

Headers are found in any case, with or without a `[Required]`-style suffix
or a trailing `*`, under a few common names (`E-mail`, `Email address` ...);
an unknown column is a warning. Cells are trimmed (non-breaking spaces
too); Y/N columns take Y, Yes, True, 1, X (yes) and N, No, False, 0 or an
empty cell (no), and nothing else; a mobile saved as a number gets its lost
`+` back when that makes a valid number, and an issue when it does not. A
blank row is skipped. The same email twice (in any case) is an issue on
both rows, each naming the other. Every issue is located to its cell
(`email.invalid @ Users!C7`), the spreadsheet's own row and column.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Final

import attrs

from provisioning.bulk._workbook import Cell, Sheet, Workbook
from provisioning.commands import CreateUser, UpdateUser
from provisioning.exceptions import InvalidValue, Issue, Location, Severity
from provisioning.model import EmailAddress, PhoneNumber, skeleton

__all__ = [
    "COLUMNS",
    "USERS_SHEET",
    "Column",
    "UserRow",
    "UserRows",
    "address_key",
    "cell_issue",
    "cell_text",
    "header_key",
    "split_list",
    "user_rows",
]

USERS_SHEET: Final = "Users"


@attrs.frozen
class Column:
    """A column the Users sheet may have: its key, header names, and the fields it fills."""

    key: str
    header: str
    names: frozenset[str]
    fields: tuple[str, ...]
    required: bool = False
    help: str = ""


def _column(
    key: str,
    header: str,
    *aliases: str,
    fields: tuple[str, ...] = (),
    required: bool = False,
    help: str = "",  # noqa: A002 - the column's help text
) -> Column:
    names = frozenset(header_key(name) for name in (header, key, *aliases))
    return Column(
        key=key,
        header=header,
        names=names,
        fields=fields or (key,),
        required=required,
        help=help,
    )


def header_key(text: str) -> str:
    """A header as compared: folded, without brackets, stars, colons or extra spaces."""
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text).replace("*", " ").replace(":", " ")
    return re.sub(r"[\s_\-]+", " ", text.replace("\u00a0", " ")).strip().casefold()


COLUMNS: Final[tuple[Column, ...]] = (
    _column(
        "first_name",
        "First name",
        "firstname",
        "given name",
        required=True,
        help="The user's first name; with the last name, it makes the display name.",
    ),
    _column(
        "last_name",
        "Last name",
        "lastname",
        "surname",
        "family name",
        required=True,
        help="The user's last name.",
    ),
    _column(
        "email",
        "Email",
        "e-mail",
        "email address",
        "e-mail address",
        "username",
        "user id",
        "login",
        fields=("username",),
        required=True,
        help="The user's address and username, on an active domain of the account.",
    ),
    _column(
        "personal_mailbox",
        "Personal mailbox",
        "mailbox",
        help="Y to create the user's personal mailbox, N or empty not to.",
    ),
    _column(
        "cos",
        "Class of service",
        "cos",
        fields=("cos_id",),
        help="The name of a class of service of the account; empty: the default.",
    ),
    _column(
        "alternate_email",
        "Alternate email",
        "alternate e-mail",
        "private email",
        help="Where password-recovery codes go.",
    ),
    _column(
        "mobile",
        "Mobile",
        "mobile phone",
        "phone",
        "cell",
        help="A mobile number with its country code (+41 ...); formatted as text.",
    ),
    _column("timezone", "Time zone", "timezone", "tz", help="An IANA zone, such as Europe/Zurich."),
    _column(
        "aliases",
        "Aliases",
        "alias",
        help="Other addresses of the user, separated by commas, semicolons or new lines.",
    ),
    _column(
        "password",
        "Password",
        fields=("password", "password_repeat"),
        help="Leave empty: the user then gets a one-time link to set one.",
    ),
)
"""The columns of the Users sheet, in the template's order."""

_BY_NAME: Final = {name: column for column in COLUMNS for name in column.names}
_YES: Final = frozenset({"y", "yes", "true", "1", "x"})
_NO: Final = frozenset({"n", "no", "false", "0"})
_LIST: Final = re.compile(r"[,;\n]+")
_SHORTEST_INTERNATIONAL: Final = 10**9  # with its country code, a mobile has 10 digits or more


@attrs.frozen
class UserRow:
    """One row of the Users sheet and the command made of it.

    `cells` maps each command field to the cell (1-based column) it came from.
    """

    row: int
    command: CreateUser | UpdateUser
    """A `CreateUser`; an `UpdateUser` for a user that exists when updates are asked for."""
    cells: Mapping[str, int]

    def location(self, field: str | None) -> Location:
        """The cell a command field came from (the row alone for other fields)."""
        column = self.cells.get(field) if field is not None else None
        return Location(sheet=USERS_SHEET, row=self.row, column=column)


@attrs.frozen
class UserRows:
    """The Users sheet read: a command per usable row, and the issues found in the cells."""

    rows: tuple[UserRow, ...]
    issues: tuple[Issue, ...]
    columns: Mapping[str, int]
    """Each known column's key and its 1-based column."""


def cell_issue(
    code: str,
    message: str,
    sheet: str,
    row: int | None,
    column: int | None,
    *,
    warning: bool = False,
) -> Issue:
    """An issue located to a cell (or a row, or a sheet)."""
    return Issue(
        code=code,
        message=message,
        location=Location(sheet=sheet, row=row, column=column),
        severity=Severity.WARNING if warning else Severity.ERROR,
    )


def _issue(
    code: str, message: str, row: int, column: int | None, *, warning: bool = False
) -> Issue:
    return cell_issue(code, message, USERS_SHEET, row, column, warning=warning)


def sheet_issues(sheet: Sheet, columns: Collection[int], header: int) -> list[Issue]:
    """What the values alone do not show, in the columns read below the header row.

    A formula with no computed value is an error (the cell reads as empty);
    a merged range is a warning saying which rows its value was given to.
    """
    issues = [
        cell_issue(
            "bulk.formula_not_computed",
            "this cell holds a formula that no spreadsheet program computed: open and save"
            " the file in one, or type the value",
            sheet.name,
            row,
            column,
        )
        for row, column in sorted(sheet.uncomputed)
        if row > header and column in columns
    ]
    for first_row, first_column, last_row, last_column in sheet.merged:
        if last_row <= header or first_column not in columns:
            continue
        cells = f"{_reference(first_row, first_column)}:{_reference(last_row, last_column)}"
        reading = (
            f"each of rows {first_row} to {last_row} gets its value"
            if last_row > first_row
            else "its value is read in its first column alone"
        )
        issues.append(
            cell_issue(
                "bulk.cells_merged",
                f"{cells} are merged cells: {reading}",
                sheet.name,
                first_row,
                first_column,
                warning=True,
            )
        )
    return issues


def _reference(row: int, column: int) -> str:
    """A cell's reference, such as `C7`."""
    return str(Location(sheet="", row=row, column=column)).partition("!")[2]


def split_list(text: str | None) -> tuple[str, ...]:
    """The items of a list cell, separated by commas, semicolons or new lines."""
    return tuple(item.strip() for item in _LIST.split(text or "") if item.strip())


_TITLE_ROWS: Final = 5  # rows holding something that may stand above the header row


def _header_row(sheet: Sheet) -> int:
    """The header row's number (0: the sheet is empty).

    It is the first row holding anything, unless one of the next few names
    the email column: a title or a note above the header is common.
    """
    filled = (n for n, row in enumerate(sheet.rows, start=1) if any(v is not None for v in row))
    candidates = list(itertools.islice(filled, _TITLE_ROWS + 1))
    for number in candidates:
        named = {_BY_NAME.get(header_key(str(v))) for v in sheet.rows[number - 1] if v is not None}
        if any(column is not None and column.key == "email" for column in named):
            return number
    return candidates[0] if candidates else 0


def _header(sheet: Sheet, issues: list[Issue]) -> tuple[int, dict[str, int]]:
    """The header row and each known column's position (rows above it are warned of)."""
    number = _header_row(sheet)
    columns: dict[str, int] = {}
    if number == 0:
        return 0, columns
    issues.extend(
        _issue(
            "bulk.row_above_header",
            f"row {above} is above the header row ({number}): it is left out",
            above,
            None,
            warning=True,
        )
        for above in range(1, number)
        if any(v is not None for v in sheet.rows[above - 1])
    )
    for position, value in enumerate(sheet.rows[number - 1], start=1):
        if value is None:
            continue
        text = str(value)
        column = _BY_NAME.get(header_key(text))
        if column is None:
            issues.append(
                _issue(
                    "bulk.column_unknown",
                    f"column {text!r} is not one the import knows: it is left out",
                    number,
                    position,
                    warning=True,
                )
            )
        elif column.key in columns:
            issues.append(
                _issue(
                    "bulk.column_duplicate",
                    f"column {text!r} is given twice: the first one is read",
                    number,
                    position,
                )
            )
        else:
            columns[column.key] = position
    return number, columns


def cell_text(value: Cell) -> str | None:
    """A cell as text: trimmed; numbers as they read; None when empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return str(value)
    return None  # a date, time or duration where text was wanted: reported by the caller


def _when(value: Cell) -> bool:
    return isinstance(value, date | datetime | time | timedelta)


def _international(text: str) -> bool:
    """Whether `text` is a number with its country code (too short for one: it lost a 0)."""
    if len(text) <= len(str(_SHORTEST_INTERNATIONAL)):
        return False
    try:
        PhoneNumber.parse(text, field="mobile")
    except InvalidValue:
        return False
    return True


def _national(digits: int, region: str | None) -> str | None:
    """A number saved without its leading 0, read in the account's region (None: it is not one)."""
    if region is None:
        return None
    try:
        return str(PhoneNumber.dialable(str(digits), region=region, field="mobile"))
    except InvalidValue:
        return None


class _RowReader:
    """Reads one row's cells into a command's fields, collecting located issues."""

    def __init__(
        self,
        values: Sequence[Cell],
        row: int,
        columns: Mapping[str, int],
        region: str | None = None,
    ) -> None:
        self.values = values
        self.row = row
        self.columns = columns
        self.region = region
        self.issues: list[Issue] = []

    def raw(self, key: str) -> Cell:
        position = self.columns.get(key)
        if position is None or position > len(self.values):
            return None
        return self.values[position - 1]

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        if _when(value):
            self.issues.append(
                _issue(
                    "bulk.cell_type",
                    f"a date or time where text is expected: type it as text ({value})",
                    self.row,
                    self.columns[key],
                )
            )
            return None
        return cell_text(value)

    def yes_no(self, key: str) -> bool | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        text = (cell_text(value) or "").casefold()
        if text in _YES:
            return True
        if text in _NO:
            return False
        self.issues.append(
            _issue(
                "bulk.yes_no_invalid",
                f"{value!r} is neither Y nor N (nor empty)",
                self.row,
                self.columns[key],
            )
        )
        return None

    def mobile(self) -> str | None:
        value = self.raw("mobile")
        if not isinstance(value, int) or isinstance(value, bool):
            return self.text("mobile")
        # Saved as a number, the number lost its leading 0 (a number of the account's region
        # without it is one) or its "+".
        recovered = _national(value, self.region) or f"+{value}"
        if not _international(recovered):
            self.issues.append(
                _issue(
                    "bulk.mobile_lost_digits",
                    f"the mobile {value} was saved as a number and lost its leading 0 or +:"
                    " format the column as text and type the number with its country code",
                    self.row,
                    self.columns["mobile"],
                )
            )
            return None
        self.issues.append(
            _issue(
                "bulk.mobile_recovered",
                f"the mobile {value} was saved as a number: read as {recovered}",
                self.row,
                self.columns["mobile"],
                warning=True,
            )
        )
        return recovered


def _command(reader: _RowReader, account_id: str, classes: Mapping[str, str]) -> CreateUser:
    password = reader.text("password")
    cos_name = reader.text("cos")
    cos_id = None
    if cos_name is not None:
        cos_id = classes.get(cos_name.casefold(), cos_name)  # an unknown name: the plan says so
    aliases = split_list(reader.text("aliases"))
    return CreateUser(
        account_id=account_id,
        username=reader.text("email") or "",
        first_name=reader.text("first_name") or "",
        last_name=reader.text("last_name") or "",
        personal_mailbox=reader.yes_no("personal_mailbox"),
        cos_id=cos_id,
        alternate_email=reader.text("alternate_email"),
        mobile=reader.mobile(),
        timezone=reader.text("timezone"),
        aliases=aliases,
        password=password,
        password_repeat=password,
    )


def user_rows(
    book: Workbook,
    account_id: str,
    *,
    classes: Mapping[str, str] | None = None,
    region: str | None = None,
) -> UserRows:
    """The `CreateUser` of each row of the workbook's Users sheet, with every cell issue.

    `classes` maps the account's class-of-service names (folded) to their
    ids, for the class-of-service column; `region` is the account's phone
    region, in which a mobile saved as a number without its leading 0 is
    read again. A missing Users sheet, or a missing
    required column, is an issue located to the sheet or the header row.
    """
    sheet = book.sheet(USERS_SHEET)
    if sheet is None:
        found = ", ".join(book.names) or "none"
        return UserRows(
            rows=(),
            issues=(
                Issue(
                    code="bulk.sheet_missing",
                    message=f"the workbook has no {USERS_SHEET} sheet (its sheets: {found})",
                    location=Location(sheet=USERS_SHEET),
                ),
            ),
            columns={},
        )
    issues: list[Issue] = []
    header, columns = _header(sheet, issues)
    missing = [c for c in COLUMNS if c.required and c.key not in columns]
    issues.extend(
        _issue(
            "bulk.column_missing",
            f"the {USERS_SHEET} sheet has no {column.header!r} column",
            max(header, 1),
            None,
        )
        for column in missing
    )
    if missing:
        return UserRows(rows=(), issues=tuple(issues), columns=columns)
    cells = {field: columns[c.key] for c in COLUMNS if c.key in columns for field in c.fields}
    issues += sheet_issues(sheet, set(columns.values()), header)
    rows: list[UserRow] = []
    seen: dict[str, int] = {}
    for number in range(header + 1, len(sheet.rows) + 1):
        values = sheet.rows[number - 1]
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in values):
            continue  # a blank row in the middle
        reader = _RowReader(values, number, columns, region)
        command = _command(reader, account_id, classes or {})
        issues += reader.issues
        key = address_key(command.username) if command.username else ""
        if key and key in seen:
            first = seen[key]
            for here, other in ((number, first), (first, number)):
                issues.append(
                    _issue(
                        "bulk.duplicate_row",
                        f"{command.username} is on row {other} too",
                        here,
                        columns["email"],
                    )
                )
            continue
        if key:
            seen[key] = number
        rows.append(UserRow(row=number, command=command, cells=cells))
    issues += _claimed_twice(rows, columns)
    return UserRows(rows=tuple(rows), issues=tuple(issues), columns=columns)


def _claimed_twice(rows: Sequence[UserRow], columns: Mapping[str, int]) -> list[Issue]:
    """An address two rows claim (as email or alias), on each of them, naming the others.

    The file is checked as a whole, so the answer does not depend on which
    row comes first; an address that does not parse is left to the plan.
    """
    claims: dict[str, list[tuple[int, str, str]]] = {}
    for row in rows:
        command = row.command
        if not isinstance(command, CreateUser):
            continue
        wanted = [("email", command.username)] + [("aliases", a) for a in command.aliases]
        for kind, text in wanted:
            key = _address_key(text)
            if key is not None:
                claims.setdefault(key, []).append((row.row, kind, text))
    issues = []
    for claimants in claims.values():
        if len({number for number, _, _ in claimants}) < 2:  # noqa: PLR2004 - two make a clash
            continue
        for number, kind, text in claimants:
            others = ", ".join(
                f"{_kind(their)} of row {other}" for other, their, _ in claimants if other != number
            )
            issues.append(
                _issue("bulk.address_twice", f"{text} is also {others}", number, columns.get(kind))
            )
    return issues + _lookalikes(claims, columns)


def _lookalikes(
    claims: Mapping[str, list[tuple[int, str, str]]], columns: Mapping[str, int]
) -> list[Issue]:
    """Addresses of different rows that look alike (`skeleton`), on each row, naming the others.

    The plan would refuse the later of two such rows (`address.confusable`);
    the file is checked as a whole instead, so both are told, whatever their
    order, and however the file is planned (in parts or at once).
    """
    shapes: dict[str, list[tuple[str, int, str, str]]] = {}
    for key, claimants in claims.items():
        for number, kind, text in claimants:
            shapes.setdefault(skeleton(key), []).append((key, number, kind, text))
    issues = []
    for alike in shapes.values():
        if len({key for key, _, _, _ in alike}) < 2:  # noqa: PLR2004 - two make a clash
            continue
        for key, number, kind, text in alike:
            others = ", ".join(
                f"{_kind(their)} of row {other} ({their_text})"
                for their_key, other, their, their_text in alike
                if their_key != key and other != number
            )
            if others:
                issues.append(
                    _issue(
                        "bulk.address_lookalike",
                        f"{text} looks like {others}: choose addresses that cannot be mistaken"
                        " for each other",
                        number,
                        columns.get(kind),
                    )
                )
    return issues


def _kind(column: str) -> str:
    return "the email" if column == "email" else "an alias"


def _address_key(text: str) -> str | None:
    try:
        return EmailAddress.parse(text.strip()).key
    except InvalidValue:
        return None


def address_key(text: str) -> str:
    """What an address typed in a cell is unique by: the key the store finds it by.

    An internationalised domain is keyed by its ASCII form, so
    `ann@bücher.example` and `ann@xn--bcher-kva.example` are one address.
    Plain ASCII is keyed by its folded text (what parsing it gives); text
    that is no address by its folded self, for the plan to refuse.
    """
    stripped = text.strip()
    if stripped.isascii():
        return stripped.casefold()
    return _address_key(stripped) or stripped.casefold()
