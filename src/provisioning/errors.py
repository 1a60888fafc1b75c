"""Errors and validation issues.

Every error the library raises derives from `ProvisioningError`. Subclasses
carry typed, keyword-only fields and build their message from them, so callers
branch on `code` and the other fields, never on text. All of them pickle, so
they cross process boundaries intact.

Validation does not stop at the first problem: it collects `Issue` records and
raises one `ValidationFailed` holding all of them.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any, Final, Self

import attrs

if TYPE_CHECKING:
    from provisioning.engine import Outcome

__all__ = [
    "Category",
    "Conflict",
    "DnsUnavailable",
    "InternalError",
    "InvalidValue",
    "Issue",
    "Location",
    "NotFound",
    "NotificationFailed",
    "PermissionDenied",
    "ProvisioningError",
    "Severity",
    "SpreadsheetError",
    "StoreError",
    "TargetOutranks",
    "Unauthenticated",
    "UndeliverableMessage",
    "UsageError",
    "ValidationFailed",
    "category_of",
    "codes",
    "issues_table",
    "summarize_issues",
]


class Severity(enum.StrEnum):
    """How much an issue matters: errors block a plan, warnings never do."""

    ERROR = "error"
    WARNING = "warning"


class Category(enum.StrEnum):
    """What kind of problem a code names, so that an edge can answer it without a table.

    Each code is declared with its category where it is raised (`codes`),
    and `Issue.category`, `ProvisioningError.category` and `category_of`
    read it. An HTTP edge might answer: `invalid` and `immutable` 400,
    `unauthenticated` 401, `denied` 403, `not_found` 404, `conflict`,
    `state` and `limit` 409, `stale` 412, `unavailable` 503, `usage` and
    `internal` 500; SCIM's `uniqueness` is `conflict`, its `mutability`
    `immutable`, its `invalidValue` `invalid`.
    """

    INVALID = "invalid"
    """A value is not acceptable as it was given: its form, its range, a reference to nothing."""
    CONFLICT = "conflict"
    """A value that must be unique is held already."""
    STALE = "stale"
    """The version given is not the one stored: someone changed the target meanwhile."""
    NOT_FOUND = "not_found"
    """No such target, or none the actor may see."""
    DENIED = "denied"
    """The actor may not do this."""
    UNAUTHENTICATED = "unauthenticated"
    """A credential was wrong, or its owner is locked out for a while."""
    IMMUTABLE = "immutable"
    """The target, or the field, may not be changed (a system entity, a directory's user)."""
    STATE = "state"
    """The target's present state does not allow it (not active, in use, ended, expired)."""
    LIMIT = "limit"
    """A quota, a size or a count is reached."""
    UNAVAILABLE = "unavailable"
    """Something it needs (DNS, a mail server, the database) did not answer or is unusable."""
    USAGE = "usage"
    """The library was called in a way it does not support: a programming error."""
    ADVICE = "advice"
    """A warning: nothing is refused."""
    INTERNAL = "internal"
    """A bug."""


_CATEGORIES: dict[str, Category] = {}
_NOT_FOUND_SUFFIX: Final = ".not_found"


def codes(**by_category: Iterable[str]) -> dict[str, Category]:
    """Declare the codes a module raises, by category: `codes(conflict=("domain.taken",))`.

    A module keeps what this returns as its `CODES`, beside where it raises
    them; the test suite checks that every code raised is declared there.
    A code declared twice must be declared alike.
    """
    declared: dict[str, Category] = {}
    for name, listed in by_category.items():
        category = Category(name)
        for code in listed:
            if _CATEGORIES.setdefault(code, category) is not category:
                raise ValueError(f"{code} is declared {_CATEGORIES[code]} already, not {category}")
            declared[code] = category
    return declared


def category_of(code: str) -> Category:
    """The category of an issue or error code (`internal` for one nobody declared).

    Examples:
        >>> category_of("permission.denied"), category_of("user.not_found")
        (<Category.DENIED: 'denied'>, <Category.NOT_FOUND: 'not_found'>)
    """
    found = _CATEGORIES.get(code)
    if found is not None:
        return found
    if code.endswith(_NOT_FOUND_SUFFIX):  # `NotFound`'s codes: `<entity>.not_found`
        return Category.NOT_FOUND
    return Category.INTERNAL


def _column_letters(column: int) -> str:
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@attrs.frozen
class Location:
    """Where in a spreadsheet an issue was found; rows and columns count from 1.

    Examples:
        >>> str(Location(sheet="Users", row=7, column=3))
        'Users!C7'
    """

    sheet: str
    row: int | None = None
    column: int | None = None

    @property
    def cell(self) -> str:
        """The cell's reference without its sheet (`C7`; `C` or `7` for a column or a row)."""
        letters = _column_letters(self.column) if self.column is not None else ""
        return letters + (str(self.row) if self.row is not None else "")

    def __str__(self) -> str:
        cell = self.cell
        return f"{self.sheet}!{cell}" if cell else self.sheet


@attrs.frozen
class Issue:
    """One problem found while validating: a stable code, words for people, and where.

    `command` is the position of the offending command in the batch that was
    planned, so a caller can map an issue back to its input row. A warning
    found on very many commands of a large batch is listed so many times,
    then once more for the rest: `others` holds their positions (as ranges),
    and `count` says how many commands that one issue stands for.
    """

    code: str
    message: str
    field: str | None = None
    location: Location | None = None
    severity: Severity = Severity.ERROR
    command: int | None = None
    others: tuple[range, ...] = ()

    @property
    def count(self) -> int:
        """How many commands this issue stands for (1, or those in `others`)."""
        return sum(len(positions) for positions in self.others) if self.others else 1

    @property
    def blocking(self) -> bool:
        """True for errors; a warning is reported but never stops a change."""
        return self.severity is Severity.ERROR

    @property
    def category(self) -> Category:
        """What kind of problem this is (`Category`), as its code was declared."""
        return category_of(self.code)

    def at(self, command: int) -> Self:
        """This issue, attributed to the command at position `command`."""
        return attrs.evolve(self, command=command)

    def __repr__(self) -> str:
        return f"<Issue {self}>"

    def _repr_html_(self) -> str:

        return issues_table([self])

    def __str__(self) -> str:
        where = []
        if self.location is not None:
            where.append(str(self.location))
        elif self.command is not None:
            where.append(f"command {self.command}")
        if self.field is not None and self.location is None:
            where.append(self.field)
        if self.others:
            where.append(f"{self.count:,} more commands")
        suffix = f" @ {' '.join(where)}" if where else ""
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{prefix}{self.code}{suffix}: {self.message}"


class ProvisioningError(Exception):
    """Root of every error raised by `provisioning`.

    Every error has a stable `code`. Subclasses pass their keyword fields to
    `__init__` here; they are kept so the error pickles field by field.
    """

    code: str = "provisioning.error"

    def __init__(self, message: str, /, **fields: object) -> None:
        super().__init__(message)
        self._fields = fields

    @property
    def category(self) -> Category:
        """What kind of problem this is (`Category`), as its code was declared."""
        return category_of(self.code)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._fields))


def _rebuild(cls: Callable[..., ProvisioningError], fields: dict[str, object]) -> ProvisioningError:
    return cls(**fields)


class InvalidValue(ProvisioningError, ValueError):
    """A value (email, domain, username, phone ...) could not be parsed.

    `code` is the stable issue code (`email.invalid` ...); `issue()` turns the
    error into an `Issue` for a validation report.
    """

    def __init__(self, *, code: str, field: str, value: str, reason: str) -> None:
        super().__init__(
            f"{code}: {value!r} is not valid for {field}: {reason}",
            code=code,
            field=field,
            value=value,
            reason=reason,
        )
        self.code = code
        self.field = field
        self.value = value
        self.reason = reason

    def issue(self) -> Issue:
        """This error as a validation issue."""
        return Issue(code=self.code, message=f"{self.value!r}: {self.reason}", field=self.field)


def _commands_of(issue: Issue) -> str:
    if issue.others:
        return f"{issue.count:,} more"
    return "" if issue.command is None else str(issue.command)


def issues_table(issues: Sequence[Issue], *, shown: int = 50) -> str:
    """An HTML table of the first `shown` issues, for notebooks."""
    if not issues:
        return ""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(value))}</td>"
            for value in (
                issue.severity,
                issue.code,
                _commands_of(issue),
                issue.location or issue.field or "",
                issue.message,
            )
        )
        + "</tr>"
        for issue in issues[:shown]
    )
    more = len(issues) - shown
    tail = f"<p>… and {more:,} more</p>" if more > 0 else ""
    return (
        "<table><thead><tr><th>severity</th><th>code</th><th>command</th><th>where</th>"
        f"<th>message</th></tr></thead><tbody>{rows}</tbody></table>{tail}"
    )


def summarize_issues(issues: Sequence[Issue], *, shown: int = 5) -> str:
    """A one-line count of `issues` by code, most frequent first, e.g. for a repr.

    Examples:
        >>> summarize_issues([Issue(code="email.invalid", message="")] * 3)
        '3 issue(s): email.invalid 3'
    """
    if not issues:
        return "no issues"
    codes = Counter(issue.code for issue in issues).most_common()
    listed = ", ".join(f"{code} {count}" for code, count in codes[:shown])
    more = f", and {len(codes) - shown} more code(s)" if len(codes) > shown else ""
    return f"{len(issues)} issue(s): {listed}{more}"


_LISTED: Final = 10  # issues a ValidationFailed message lists before it says how many more


class ValidationFailed(ProvisioningError):
    """One or more blocking issues were found; `issues` holds every one of them.

    Its message lists the first ten issues and says how many more there are,
    so printing the error of a 100,000-row batch stays readable.
    """

    def __init__(self, *, issues: Iterable[Issue]) -> None:
        issues = tuple(issues)
        blocking = sum(1 for issue in issues if issue.blocking)
        lines = "\n".join(f"  {issue}" for issue in issues[:_LISTED])
        if len(issues) > _LISTED:
            lines += f"\n  ... and {len(issues) - _LISTED:,} more"
        super().__init__(f"{blocking} blocking issue(s):\n{lines}", issues=issues)
        self.code = "validation.failed"
        self.issues = issues

    @property
    def codes(self) -> list[str]:
        """The issue codes, in order; handy for assertions and logs."""
        return [issue.code for issue in self.issues]

    def __repr__(self) -> str:
        return f"ValidationFailed(<{summarize_issues(self.issues)}>)"

    def _repr_html_(self) -> str:

        return f"<p><b>ValidationFailed</b>: {summarize_issues(self.issues)}</p>" + issues_table(
            self.issues
        )


class StoreError(ProvisioningError):
    """The store could not be used: unreachable, locked for too long, full, corrupt, too new.

    `code` is stable (`store.unavailable`, `store.full`, `store.corrupt`,
    `store.schema_newer` ...); `path` names the database, `reason` says what
    the database said. The driver's own error is chained as `__cause__`.
    """

    def __init__(self, *, code: str, path: str, reason: str) -> None:
        super().__init__(f"{code}: {path}: {reason}", code=code, path=path, reason=reason)
        self.code = code
        self.path = path
        self.reason = reason


class SpreadsheetError(ProvisioningError):
    """A file that is not a usable workbook: nothing in it was read as rows.

    `code` is stable: `spreadsheet.unreadable` (not a spreadsheet, or a
    broken one), `spreadsheet.encrypted`, `spreadsheet.too_large` (over the
    size limit, packed or unpacked), `spreadsheet.too_many_rows`,
    `spreadsheet.unsupported` (a format the chosen reader does not read);
    and, for a workbook the library writes, `spreadsheet.unwritable` (a full
    disk, a folder that is not there or not writable: no half-written file
    is left at the path asked for).
    `reason` says what is wrong in words for people; a reader's own error is
    chained as `__cause__`. Problems within a usable workbook are `Issue`s
    located to their cell instead.
    """

    def __init__(self, *, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}", code=code, reason=reason)
        self.code = code
        self.reason = reason


class InternalError(ProvisioningError):
    """Something failed that the library did not expect: a bug, please report it.

    Code `internal.error`; `where` says in which phase, and the original
    exception is chained as `__cause__` (its type is in the message).
    """

    def __init__(self, *, where: str, cause: BaseException | None = None, kind: str = "") -> None:
        kind = kind or (type(cause).__name__ if cause is not None else "error")
        super().__init__(f"internal.error: {kind} during {where}", where=where, kind=kind)
        self.code = "internal.error"
        self.where = where
        self.kind = kind


class PermissionDenied(ProvisioningError):
    """The acting principal lacks `permission` in `account_id` (None: platform level)."""

    def __init__(self, *, actor: str, permission: str, account_id: str | None) -> None:
        scope = f"account {account_id}" if account_id is not None else "the platform"
        super().__init__(
            f"permission.denied: {actor} may not {permission} in {scope}",
            actor=actor,
            permission=permission,
            account_id=account_id,
        )
        self.code = "permission.denied"
        self.actor = actor
        self.permission = permission
        self.account_id = account_id


class TargetOutranks(PermissionDenied):
    """The target holds something the actor does not, so the actor may not act on it.

    Code `permission.target_outranks`. Acting on another principal's
    credentials, second factor, profile, name, status, grants or existence
    needs every permission the target holds in its account; the super admin
    answers only to the platform operator and to itself.
    """

    def __init__(self, *, actor: str, permission: str, account_id: str | None) -> None:
        super().__init__(actor=actor, permission=permission, account_id=account_id)
        message = (
            f"permission.target_outranks: {actor} may not {permission} a principal that holds"
            " more than it does"
        )
        self.args = (message,)
        self.code = "permission.target_outranks"


class NotFound(ProvisioningError):
    """No `entity` is known under `key`."""

    def __init__(self, *, entity: str, key: str) -> None:
        super().__init__(f"{entity}.not_found: no {entity} {key!r}", entity=entity, key=key)
        self.code = f"{entity}.not_found"
        self.entity = entity
        self.key = key


class DnsUnavailable(ProvisioningError):
    """A DNS lookup could not be made (no resolver, a timeout, a server failure).

    Code `dns.unavailable`. A name that simply has no records is not this error.
    """

    def __init__(self, *, name: str, reason: str) -> None:
        super().__init__(f"dns.unavailable: {name}: {reason}", name=name, reason=reason)
        self.code = "dns.unavailable"
        self.name = name
        self.reason = reason


class UsageError(ProvisioningError):
    """The library was used in a way it does not support (a programming error).

    `code` says which: `store.nested_unit_of_work`, `store.closed_unit_of_work` ...
    """

    def __init__(self, *, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}", code=code, reason=reason)
        self.code = code
        self.reason = reason


class Unauthenticated(ProvisioningError):
    """Credentials that prove no principal: `client.unauthenticated` for an API client's token.

    The error says nothing of why (no such client, a wrong secret, revoked,
    expired), and never holds the credentials presented.
    """

    def __init__(self, *, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}", code=code, reason=reason)
        self.code = code
        self.reason = reason


class UndeliverableMessage(ProvisioningError):
    """A notifier refuses a message for good: trying again would fail the same way.

    `code` says why: `message.template_unknown` (no template of its kind),
    `message.recipient_invalid` (an address or number that is none),
    `message.channel_unknown` (no notifier for its channel). `deliver` gives
    such a message up at once. No secret of the message is in the error.
    """

    def __init__(self, *, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}", code=code, reason=reason)
        self.code = code
        self.reason = reason


class Conflict(ProvisioningError):
    """A change collided with the stored state.

    Either the entity changed since it was read (`code` `version.stale`, with
    the versions) or a unique value is already held (`code` such as
    `address.taken`, with the contested `key`). Nothing was written.
    """

    def __init__(
        self,
        *,
        code: str,
        entity: str,
        key: str,
        expected_version: int | None = None,
        actual_version: int | None = None,
    ) -> None:
        if code == "version.stale":
            detail = f"{entity} {key} is at version {actual_version}, not {expected_version}"
        else:
            detail = f"{entity} value {key!r} is already in use"
        super().__init__(
            f"{code}: {detail}",
            code=code,
            entity=entity,
            key=key,
            expected_version=expected_version,
            actual_version=actual_version,
        )
        self.code = code
        self.entity = entity
        self.key = key
        self.expected_version = expected_version
        self.actual_version = actual_version


class NotificationFailed(ProvisioningError):
    """The change committed, but delivering its messages right away failed.

    `outcome` is the committed outcome. Its `messages` wait in the store's
    outbox, each with its failed attempt on record: `deliver` tries them
    again. The cause, when there is one, is chained as `__cause__`.
    """

    def __init__(self, *, outcome: Outcome, reason: str) -> None:
        super().__init__(
            "notification.failed: the change was committed,"
            f" but its messages were not sent: {reason}",
            outcome=outcome,
            reason=reason,
        )
        self.code = "notification.failed"
        self.outcome = outcome
        self.reason = reason


CODES: Final = codes(
    invalid=("validation.failed",),
    denied=("permission.denied",),
    unavailable=("notification.failed",),
    internal=("internal.error",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""
