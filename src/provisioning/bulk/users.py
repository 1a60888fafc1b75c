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
from typing import Any, Final

import attrs

from provisioning.bulk._workbook import Cell, Sheet, Workbook
from provisioning.commands import CreateUser, UpdateUser
from provisioning.errors import InvalidValue, Issue, Location, Severity, codes
from provisioning.model import DIRECTORY_ATTRIBUTES, EmailAddress, PhoneNumber, skeleton

__all__ = [
    "COLUMNS",
    "REPORT_COLUMNS",
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
    "with_users_sheet",
]

CODES: Final = codes(
    invalid=("bulk.sheet_missing",),
    advice=("bulk.sheet_assumed",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

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
    """A header as compared: folded, without brackets, stars, colons, extra spaces or "required".

    `First Name [Required]`, `User name [userPrincipalName] Required` and
    `Email*` are `first name`, `user name` and `email`.
    """
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text).replace("*", " ").replace(":", " ")
    folded = re.sub(r"[\s_\-]+", " ", text.replace("\u00a0", " ")).strip().casefold()
    return folded.removesuffix(" required") if folded != "required" else folded


def _header_keys(text: str) -> list[str]:
    """The names a header is known by: its words, then a property name in its brackets.

    Microsoft Entra writes `First name [givenName]`; its download, `givenName`.
    """
    bracketed = [header_key(inner) for inner in re.findall(r"\[([^\]]*)\]", text)]
    return [header_key(text), *(key for key in bracketed if key)]


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
        "external_id",
        "External id",
        "externalid",
        "immutable id",
        "immutableid",
        help="The id the user's directory or identity provider knows it by (exact case).",
    ),
    _column("title", "Job title", "title", "jobtitle", "employee title", help="Its job title."),
    _column("department", "Department", "dept", help="Its department."),
    _column(
        "employee_number",
        "Employee number",
        "employee id",
        "employeeid",
        "employee no",
        help="Its number in the organisation (an HR system's id).",
    ),
    _column("cost_center", "Cost center", "cost centre", help="Its cost center."),
    _column(
        "organization",
        "Organization",
        "organisation",
        "company",
        "company name",
        "companyname",
        help="The organisation it belongs to (a company of a group).",
    ),
    _column("division", "Division", help="Its division."),
    _column(
        "manager",
        "Manager",
        "manager email",
        help="Its manager, as the directory names it (an address, an id or a name).",
    ),
    _column("locale", "Locale", help="A language tag for formats, such as en-US or de-CH."),
    _column(
        "preferred_language",
        "Preferred language",
        "language",
        help="A language tag for what it reads, such as en or de.",
    ),
    _column(
        "password",
        "Password",
        fields=("password", "password_repeat"),
        help="Leave empty: the user then gets a one-time link to set one.",
    ),
)
"""The columns of the Users sheet, in the template's order."""

_VENDOR_NAMES: Final[tuple[tuple[str, int, tuple[str, ...]], ...]] = (
    # (column key, rank, header names): where two columns give one field, the lower rank is
    # read, and a higher one fills its empty cells. Our own names have rank 0.
    ("email", 1, ("user name", "userprincipalname", "primary email")),
    ("email", 2, ("mail",)),
    ("first_name", 1, ("givenname",)),
    ("alternate_email", 1, ("recovery email", "alternateemailaddress", "alternate email address")),
    ("mobile", 1, ("recovery phone",)),
    ("mobile", 2, ("mobile phone", "phone", "cell", "mobile number")),
    ("password", 1, ("initial password", "passwordprofile")),
    ("password_hash_function", 0, ("password hash function", "hash function")),
    ("status", 0, ("new status", "account status")),
    ("status", 1, ("status",)),
    ("enabled", 0, ("enabled", "accountenabled", "account enabled")),
    ("blocked", 0, ("block sign in", "blocked", "sign in blocked")),
    ("suspended", 0, ("suspended",)),
    (
        "must_change_password",
        0,
        (
            "change password at next sign in",
            "change password at next login",
            "must change password",
            "force change password next sign in",
            "forcechangepasswordnextsignin",
        ),
    ),
)
"""Columns of the layouts admins bring (Google Workspace, Microsoft Entra) that fill a field."""

IGNORED_COLUMNS: Final = frozenset(
    header_key(name)
    for name in (
        # Google Workspace's bulk upload and user download
        "Org Unit Path",
        "New Primary Email",
        "Home Secondary Email",
        "Work Secondary Email",
        "Work Phone",
        "Home Phone",
        "Work Address",
        "Home Address",
        "Employee Type",
        "Building ID",
        "Floor Name",
        "Floor Section",
        "Last Sign In",
        "Email Usage",
        "2sv Enrolled",
        "2sv Enforced",
        "Advanced Protection Program enrollment",
        # Microsoft Entra's bulk create template and user download
        "Name",
        "displayName",
        "Usage location",
        "usageLocation",
        "Street address",
        "streetAddress",
        "State or province",
        "state",
        "Country or region",
        "country",
        "Office",
        "physicalDeliveryOfficeName",
        "City",
        "ZIP or postal code",
        "postalCode",
        "Office phone",
        "telephoneNumber",
        "objectId",
        "userType",
        "ageGroup",
        "consentProvidedForMinor",
        "legalAgeGroupClassification",
        "creationType",
        "directorySynced",
        "invitationState",
        "identityIssuer",
        "createdDateTime",
        "otherMails",
    )
)
"""Columns of those layouts that have no place here: left out with one warning (and the
users report's own columns that are not imported, see `REPORT_COLUMNS`)."""

_RANKED: Final = {
    **{name: (column.key, 0) for column in COLUMNS for name in column.names},
    **{name: (key, rank) for key, rank, names in _VENDOR_NAMES for name in map(header_key, names)},
}
"""Each header name's column key and rank."""

REPORT_COLUMNS: Final = (
    "Email",
    "First name",
    "Last name",
    "Full name",
    "Status",
    "Source",
    "Class of service",
    "Alternate email",
    "Mobile",
    "Time zone",
    "Aliases",
    "External id",
    "Job title",
    "Department",
    "Employee number",
    "Cost center",
    "Organization",
    "Division",
    "Manager",
    "Locale",
    "Preferred language",
    "MFA required",
    "MFA initialised",
    "Account roles",
    "Mailbox access",
    "Last sign-in",
    "Created",
    "Changed",
)
"""The columns of the users report, in order: its Users sheet imports back as unchanged."""
_IGNORED: Final = IGNORED_COLUMNS | {
    header_key(name) for name in REPORT_COLUMNS if header_key(name) not in _RANKED
}
_YES: Final = frozenset({"y", "yes", "true", "1", "x"})
_NO: Final = frozenset({"n", "no", "false", "0"})
_ACTIVE: Final = frozenset({"active", "enabled"})
_SUSPENDED: Final = frozenset({"suspended", "disabled", "blocked", "inactive"})
_PLACEHOLDER: Final = re.compile(r"\*{4,}")  # Google Workspace's user download: no password shown
# A crypt or LDAP-style hash ({SHA512-CRYPT}$6$..., $2y$..., $argon2id$...): never a password.
_HASHED: Final = re.compile(r"\{[A-Z0-9.-]+\}\S|\$(?:1|2[abxy]?|5|6|7|y|gy|argon2(?:id|i|d))\$\S")
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
    return Location(sheet="", row=row, column=column).cell


def split_list(text: str | None) -> tuple[str, ...]:
    """The items of a list cell, separated by commas, semicolons or new lines."""
    return tuple(item.strip() for item in _LIST.split(text or "") if item.strip())


_NEUTRALISED: Final = frozenset("=+-@")
_TITLE_ROWS: Final = 5  # rows holding something that may stand above the header row
_VERSION_ROW: Final = re.compile(r"version\s*:\s*v?\d+(\.\d+)*", re.IGNORECASE)  # Entra's first row
_MODOBOA: Final = frozenset({"account", "domain", "domainalias", "alias", "dlist", "relaydomain"})


def known_column(text: str) -> tuple[str, int] | None:
    """The column key and rank a header names (None: no column the import reads)."""
    for key in _header_keys(text):
        found = _RANKED.get(key)
        if found is not None:
            return found
    return None


def _names_a_column(row: Sequence[Cell]) -> tuple[bool, bool]:
    """Whether a row names the email column, and whether it names any column at all."""
    keys = {found[0] for v in row if v is not None and (found := known_column(str(v)))}
    return "email" in keys, bool(keys) or any(
        v is not None and header_key(str(v)) in _IGNORED for v in row
    )


def _header_row(sheet: Sheet) -> int | None:
    """The header row's number (0: the sheet is empty; None: no row names a column).

    It is the first row naming the email column among the first few holding
    anything (a title, a note or Entra's `version:v1.0` above the header is
    common), else the first row holding anything, if it names a column.
    """
    filled = (n for n, row in enumerate(sheet.rows, start=1) if any(v is not None for v in row))
    candidates = list(itertools.islice(filled, _TITLE_ROWS + 1))
    for number in candidates:
        if _names_a_column(sheet.rows[number - 1])[0]:
            return number
    if not candidates:
        return 0
    return candidates[0] if _names_a_column(sheet.rows[candidates[0] - 1])[1] else None


def _no_header(sheet: Sheet) -> Issue:
    """`bulk.no_header`, in words that echo none of the first row's values (they are data)."""
    first = next(row for row in sheet.rows if any(v is not None for v in row))
    kind = cell_text(first[0]) if first else None
    if kind is not None and kind.casefold() in _MODOBOA and len(first) >= 5:  # noqa: PLR2004
        where = (
            "this looks like a Modoboa export (rows of 'account; login; password; first name;"
            " last name; ...' and no header row)"
        )
    else:
        where = (
            "no row names a column the import knows (the first row holds values, or names"
            " none of its columns)"
        )
    return _issue(
        "bulk.no_header",
        f"{where}: add a header row above the users, naming their columns (Email, First name,"
        " Last name, ...: see the template), and leave the password column empty",
        1,
        None,
    )


@attrs.frozen
class _Header:
    """The header row, the column each key is read from, and the columns that fill in for it."""

    row: int
    columns: dict[str, int]
    fallbacks: dict[str, tuple[int, ...]]
    complete: bool = True
    """Whether every required column is there."""


def _header(sheet: Sheet, issues: list[Issue]) -> _Header | None:
    """The header row and each known column's position (rows above it are warned of).

    None when no row names a column (`bulk.no_header`).
    """
    number = _header_row(sheet)
    if number is None:
        issues.append(_no_header(sheet))
        return None
    if number == 0:
        return _Header(row=0, columns={}, fallbacks={})
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
        and not _version_row(sheet.rows[above - 1])
    )
    found: dict[str, list[tuple[int, int]]] = {}
    ignored: list[str] = []
    for position, value in enumerate(sheet.rows[number - 1], start=1):
        if value is None:
            continue
        text = str(value)
        known = known_column(text)
        if known is None:
            if header_key(text) in _IGNORED:
                ignored.append(text)
                continue
            issues.append(
                _issue(
                    "bulk.column_unknown",
                    f"column {text!r} is not one the import knows: it is left out",
                    number,
                    position,
                    warning=True,
                )
            )
            continue
        key, rank = known
        if any(taken == rank for taken, _ in found.get(key, ())):
            issues.append(
                _issue(
                    "bulk.column_duplicate",
                    f"column {text!r} is given twice: the first one is read",
                    number,
                    position,
                )
            )
            continue
        found.setdefault(key, []).append((rank, position))
    if ignored:
        issues.append(
            _issue(
                "bulk.columns_ignored",
                f"{', '.join(map(repr, ignored))} have no place in this import: left out",
                number,
                None,
                warning=True,
            )
        )
    ordered = {key: [position for _, position in sorted(given)] for key, given in found.items()}
    return _Header(
        row=number,
        columns={key: positions[0] for key, positions in ordered.items()},
        fallbacks={
            key: tuple(positions[1:]) for key, positions in ordered.items() if positions[1:]
        },
    )


def _version_row(row: Sequence[Cell]) -> bool:
    values = [v for v in row if v is not None]
    return len(values) == 1 and bool(_VERSION_ROW.fullmatch(str(values[0]).strip()))


def cell_text(value: Cell) -> str | None:
    """A cell as text: trimmed; numbers as they read; None when empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        text = value.strip()
        if text[:1] == "'" and text[1:2] in _NEUTRALISED:  # a report's CSV made it plain text
            text = text[1:]
        return text or None
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
        fallbacks: Mapping[str, tuple[int, ...]] | None = None,
    ) -> None:
        self.values = values
        self.row = row
        self.columns: Mapping[str, int] = columns
        self.region = region
        self.fallbacks = fallbacks or {}
        self.issues: list[Issue] = []
        self.said_enabled: bool | None = None
        self.moved = False
        """Whether a column behind another gave a cell (`columns` then says which)."""

    def raw(self, key: str) -> Cell:
        """The key's cell, or where it is empty the first filled one of the columns behind it.

        `columns[key]` then names the cell read, so its issues are located there.
        """
        position = self.columns.get(key)
        if position is None:
            return None
        value = self.values[position - 1] if position <= len(self.values) else None
        if value is not None or key not in self.fallbacks:
            return value
        for candidate in self.fallbacks[key]:
            value = self.values[candidate - 1] if candidate <= len(self.values) else None
            if value is not None:
                self.columns = {**self.columns, key: candidate}
                self.moved = True
                return value
        return None

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, str):
            return cell_text(value)
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

    def enabled(self) -> bool | None:
        """Whether the row's user may sign in, from a status, enabled, blocked or suspended cell.

        None: no such cell holds anything (a new user is enabled).
        """
        self.said_enabled = self._enabled()
        return self.said_enabled

    def _enabled(self) -> bool | None:
        if not any(key in self.columns for key in _ENABLING):
            return None
        status = self.raw("status")
        if status is not None:
            text = (cell_text(status) or "").casefold()
            if text in _ACTIVE:
                return True
            if text in _SUSPENDED:
                return False
            self.issues.append(
                _issue(
                    "bulk.status_invalid",
                    f"{status!r} is no status: Active or Suspended",
                    self.row,
                    self.columns["status"],
                )
            )
            return None
        for key, enabling in (("enabled", True), ("blocked", False), ("suspended", False)):
            answer = self.yes_no(key)
            if answer is not None:
                return answer if enabling else not answer
        return None

    def password(self) -> str | None:
        """The row's password; None for none, for Google's `****`, and for a hash (refused)."""
        text = self.text("password")
        if text is None:
            return None
        column = self.columns["password"]
        if _PLACEHOLDER.fullmatch(text):
            self.issues.append(
                _issue(
                    "bulk.password_placeholder",
                    "the password column holds the placeholder Google Workspace exports"
                    " instead of passwords: read as no password (a set-password link goes out)",
                    self.row,
                    column,
                    warning=True,
                )
            )
            return None
        function = self.text("password_hash_function")
        if function is not None or _HASHED.match(text):
            named = f" ({function})" if function is not None else ""
            self.issues.append(
                _issue(
                    "bulk.password_hashed",
                    f"the password column holds a password hash{named}, not a password:"
                    " hashes are not imported; leave the password empty so that the user"
                    " gets a link to set one",
                    self.row,
                    column,
                )
            )
            return None
        return text

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
    password = reader.password()
    enabled = reader.enabled()
    cos_name = reader.text("cos")
    cos_id = None
    if cos_name is not None:
        cos_id = classes.get(cos_name.casefold(), cos_name)  # an unknown name: the plan says so
    aliases = split_list(reader.text("aliases"))
    attributes: dict[str, Any] = {name: reader.text(name) or "" for name in DIRECTORY_ATTRIBUTES}
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
        external_id=reader.text("external_id"),
        password=password,
        password_repeat=password,
        must_change_password=bool(reader.yes_no("must_change_password")),
        enabled=enabled is not False,
        **attributes,
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
    issues: list[Issue] = []
    layout = _layout(book, sheet, issues)
    if sheet is None or layout is None or not layout.complete:
        return UserRows(rows=(), issues=tuple(issues), columns=layout.columns if layout else {})
    header, columns = layout.row, layout.columns
    read = {position for positions in layout.fallbacks.values() for position in positions}
    issues += sheet_issues(sheet, set(columns.values()) | read, header)
    rows: list[UserRow] = []
    seen: dict[str, int] = {}
    usual = _Cells(_cells(columns))
    for number in range(header + 1, len(sheet.rows) + 1):
        values = sheet.rows[number - 1]
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in values):
            continue  # a blank row in the middle
        said = _row_warning(sheet, number, values)
        if said is not None:
            issues.append(said)
            if said.code == "bulk.example_row":
                continue
        reader = _RowReader(values, number, columns, region, layout.fallbacks)
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
        rows.append(UserRow(row=number, command=command, cells=usual.of(reader)))
    issues += _claimed_twice(rows, columns)
    return UserRows(rows=tuple(rows), issues=tuple(issues), columns=columns)


def _layout(book: Workbook, sheet: Sheet | None, issues: list[Issue]) -> _Header | None:
    """The Users sheet's header, if the file has the sheet and its required columns.

    Otherwise the file-level issues say why (`bulk.sheet_missing`,
    `bulk.no_header`, `bulk.column_missing`), and the returned header (if
    any) names the columns that were found.
    """
    if sheet is None:
        found = ", ".join(book.names) or "none"
        issues.append(
            Issue(
                code="bulk.sheet_missing",
                message=f"the workbook has no {USERS_SHEET} sheet (its sheets: {found})",
                location=Location(sheet=USERS_SHEET),
            )
        )
        return None
    layout = _header(sheet, issues)
    if layout is None:
        return None
    missing = [c for c in COLUMNS if c.required and c.key not in layout.columns]
    issues.extend(
        _issue(
            "bulk.column_missing",
            f"the {USERS_SHEET} sheet has no {column.header!r} column",
            max(layout.row, 1),
            None,
        )
        for column in missing
    )
    return attrs.evolve(layout, complete=False) if missing else layout


_ENABLING: Final = ("status", "enabled", "blocked", "suspended")


def with_users_sheet(book: Workbook) -> tuple[Workbook, list[Issue]]:
    """The workbook, its only sheet read as the Users sheet if it names an email column.

    pandas and LibreOffice call a workbook's one sheet `Sheet1`; with a
    warning (`bulk.sheet_assumed`) it is the Users sheet. A workbook with a
    Users sheet, or with several sheets, is left as it is.
    """
    if book.sheet(USERS_SHEET) is not None or len(book.sheets) != 1:
        return book, []
    (only,) = book.sheets
    number = _header_row(only)
    if not number or not _names_a_column(only.rows[number - 1])[0]:
        return book, []
    warning = Issue(
        code="bulk.sheet_assumed",
        message=f"the workbook's only sheet, {only.name!r}, is read as the {USERS_SHEET} sheet",
        location=Location(sheet=USERS_SHEET),
        severity=Severity.WARNING,
    )
    return attrs.evolve(book, sheets=(attrs.evolve(only, name=USERS_SHEET),)), [warning]


class _Cells:
    """Where a row's fields come from: the sheet's columns, one mapping shared by the rows.

    A row some of whose cells came from a fallback column, or whose status
    cell is empty (it keeps what a user holds), gets a mapping of its own.
    """

    def __init__(self, usual: dict[str, int]) -> None:
        self.usual = usual
        self.without_status = _without_status(usual)

    def of(self, reader: _RowReader) -> dict[str, int]:
        cells = _cells(reader.columns) if reader.moved else self.usual
        if reader.said_enabled is None:
            return self.without_status if cells is self.usual else _without_status(cells)
        return cells


def _without_status(cells: dict[str, int]) -> dict[str, int]:
    return {f: c for f, c in cells.items() if f != "enabled"}


def _cells(columns: Mapping[str, int]) -> dict[str, int]:
    """Each command field of a row and the cell it was read from."""
    cells = {field: columns[c.key] for c in COLUMNS if c.key in columns for field in c.fields}
    if "must_change_password" in columns:
        cells["must_change_password"] = columns["must_change_password"]
    enabling = next((columns[key] for key in _ENABLING if key in columns), None)
    if enabling is not None:
        cells["enabled"] = enabling
    return cells


def _row_warning(sheet: Sheet, number: int, values: Sequence[Cell]) -> Issue | None:
    """What to say of a row before it is read: an example row (left out), a hidden one."""
    if _example_row(values):
        return _issue(
            "bulk.example_row",
            f"row {number} is the template's example row: it is left out",
            number,
            None,
            warning=True,
        )
    if number in sheet.hidden_rows:
        return _issue(
            "bulk.row_hidden",
            f"row {number} is hidden (by hand or by a filter): it is imported all the same;"
            " show every row to see what the file holds",
            number,
            None,
            warning=True,
        )
    return None


def _example_row(values: Sequence[Cell]) -> bool:
    """Whether a row is a template's example (Microsoft Entra's begins `Example:`)."""
    first = values[0] if values else None
    if first is None:
        first = next((v for v in values if v is not None), None)
    return isinstance(first, str) and first[:12].strip().casefold().startswith("example:")


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
