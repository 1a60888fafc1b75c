"""Importing users from a workbook: the rows become ordinary commands on the ordinary road.

`plan_users` reads the file, makes a `CreateUser` of each row of its Users
sheet and plans them as one batch, as `plan` does: nothing is written, and
every problem comes back located to its cell. `apply_users` writes a clean
plan in one transaction, as `apply` does; the welcome messages go out after
commit. With the policy `all_or_nothing` (the default) a single blocking
issue stops the whole file; with `skip_invalid` the valid rows proceed and
the others are reported, up to `max_failures` of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Final, Literal

import attrs

from provisioning import queries
from provisioning.bulk._existing import RowChange, list_change, same_grant, settle
from provisioning.bulk._workbook import Workbook
from provisioning.bulk.access import GrantRow, grant_rows
from provisioning.bulk.readers import (
    DEFAULT_LIMITS,
    ReadLimits,
    Source,
    WorkbookReader,
    read_workbook,
)
from provisioning.bulk.users import (
    USERS_SHEET,
    UserRow,
    address_key,
    user_rows,
    with_users_sheet,
)
from provisioning.commands import CreateUser, UpdateUser
from provisioning.engine import (
    Outcome,
    Plan,
    Progress,
    apply_lean,
    plan,
    plan_parts,
)
from provisioning.engine._collector import fewer_collections
from provisioning.errors import (
    InvalidValue,
    Issue,
    Location,
    PermissionDenied,
    Severity,
    ValidationFailed,
    codes,
    issues_table,
)
from provisioning.model import ClassOfService, DomainName, DomainStatus, Mailbox, Scope, User
from provisioning.ports import Environment, UnitOfWork
from provisioning.principals import Actor
from provisioning.queries import MAX_PAGE

__all__ = [
    "LISTED_PER_CODE",
    "POLICIES",
    "BulkResult",
    "Policy",
    "UsersImport",
    "apply_users",
    "listed",
    "plan_users",
]

CODES: Final = codes(
    invalid=(
        "bulk.issues_repeated",
        "bulk.user_row_failed",
    ),
    state=("bulk.domain_not_active",),
    limit=("bulk.too_many_failures",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

Policy = Literal["all_or_nothing", "skip_invalid"]
POLICIES: Final = ("all_or_nothing", "skip_invalid")
_WHOLE_FILE: Final = frozenset(
    {
        "bulk.too_many_failures",
        "bulk.domain_not_active",
        "bulk.sheet_missing",
        "bulk.column_missing",
        "bulk.no_header",
    }
)
"""The issues that stop the whole file whatever the policy: it is not what it should be."""
LARGE: Final = 20_000
"""A file of more users than this is planned and applied `PART` users at a time."""
PART: Final = 2_000
LISTED_PER_CODE: Final = 1_000
"""How many issues of one code and severity an import lists by default (see `plan_users`)."""


@attrs.frozen
class UsersImport:
    """A planned import: the rows that will be created, the ones skipped, and every issue.

    `issues` are located to their cells (`Users!C7`), the sheet's own and
    the plan's alike. `ok` says whether `apply_users` may write it.
    """

    workbook: Workbook
    policy: Policy
    plan: Plan
    rows: tuple[UserRow | GrantRow, ...]
    """The rows whose commands are in `plan`, in the same order: users, then their grants
    (part by part, for a file planned in parts)."""
    skipped: tuple[int, ...]
    """The sheet rows left out because of their blocking issues (`skip_invalid` only)."""
    issues: tuple[Issue, ...]
    unchanged: tuple[int, ...] = ()
    """The rows whose users exist already, as the row has them: nothing to do."""
    changed: tuple[RowChange, ...] = ()
    """The rows whose users exist but differ (Users rows first, then Account and Mailbox
    rows), each field from what the user holds to what the row says; planned only with
    `updates`."""
    failed: Mapping[int, tuple[Issue, ...]] = attrs.field(factory=dict, hash=False)
    """Each skipped Users row, with the blocking issues that held it back: its own cells'
    and plan's, and those of its Account and Mailbox rows."""

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The blocking issues."""
        return tuple(issue for issue in self.issues if issue.blocking)

    def __repr__(self) -> str:
        state = "ok" if self.ok else "refused"
        codes = ", ".join(sorted({issue.code for issue in self.issues})) or "no issues"
        return (
            f"<UsersImport {state}: {len(self.rows)} command(s), {len(self.unchanged)} unchanged,"
            f" {len(self.changed)} changed, {len(self.skipped)} skipped; {codes}>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p>{escape(repr(self))}</p>{issues_table(self.issues)}{changes_table(self.changed)}"
        )

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The issues that do not block."""
        return tuple(issue for issue in self.issues if not issue.blocking)

    @property
    def ok(self) -> bool:
        """Whether the import can be applied: with `all_or_nothing`, no blocking issue at all."""
        if self.policy == "all_or_nothing":
            return not self.errors
        return self.plan.ok and not any(i.code in _WHOLE_FILE for i in self.issues)


@attrs.frozen
class BulkResult:
    """What an applied import did, by sheet row: created, updated, unchanged, skipped; issues.

    `created` and `updated` pair each sheet row with its user's id (read the
    users with `queries.get_user` when you need them: a 100,000-row import
    does not hold 100,000 users). `outcome` is lean (`Outcome.lean`): its
    `actions` count the audit events written, its `messages` went out.
    """

    created: tuple[tuple[int, str], ...]
    skipped: tuple[int, ...]
    issues: tuple[Issue, ...]
    outcome: Outcome
    updated: tuple[tuple[int, str], ...] = ()
    unchanged: tuple[int, ...] = ()
    failed: Mapping[int, tuple[Issue, ...]] = attrs.field(factory=dict, hash=False)
    """Each skipped Users row, with the blocking issues that held it back."""

    def _repr_html_(self) -> str:
        return f"<p>{escape(repr(self))}</p>{issues_table(self.issues)}"

    def __repr__(self) -> str:
        return (
            f"<BulkResult {len(self.created)} created, {len(self.updated)} updated,"
            f" {len(self.unchanged)} unchanged, {len(self.skipped)} skipped,"
            f" {len(self.issues)} issue(s)>"
        )


def changes_table(changes: Sequence[RowChange]) -> str:
    """An HTML table of the rows that change existing users, a line per field."""
    if not changes:
        return ""
    lines = "".join(
        f"<tr><td>{escape(change.sheet)}!{change.row}</td><td>{escape(change.email)}</td>"
        f"<td>{escape(field.field)}</td><td>{escape(field.old)}</td>"
        f"<td>{escape(field.new)}</td></tr>"
        for change in changes
        for field in change.fields
    )
    return (
        "<table><thead><tr><th>Row</th><th>User</th><th>Field</th><th>Now</th>"
        f"<th>In the file</th></tr></thead><tbody>{lines}</tbody></table>"
    )


Origin = UserRow | GrantRow
"""Where a planned command came from: a Users row, or an Account or Mailbox row."""


_EARLIER: Final = re.compile(r"by command (\d+) of this batch")


def _located(issue: Issue, rows: Sequence[Origin]) -> Issue:
    """A plan issue moved from its command to the cell its field came from.

    A message naming another command of the batch ("taken by command 3 of
    this batch") names that command's row instead.
    """
    if issue.command is None or not 0 <= issue.command < len(rows):
        return (
            issue
            if issue.location is not None
            else attrs.evolve(issue, location=Location(sheet=USERS_SHEET))
        )
    origin = rows[issue.command]
    if isinstance(origin, GrantRow) and issue.code == "user.not_found":
        # The row's user is one of the file's whose own row failed: said in the file's words.
        return Issue(
            code="bulk.user_row_failed",
            message=f"{origin.email}: the user's row ({USERS_SHEET}!{origin.user_row}) has"
            " errors, so the user is not created and this row is not applied",
            location=origin.location("user_id"),
            severity=issue.severity,
        )

    def row_of(found: re.Match[str]) -> str:
        earlier = int(found.group(1))
        if not 0 <= earlier < len(rows):
            return found.group(0)
        return f"by row {rows[earlier].row} of {row_sheet(rows[earlier])}"

    message = _EARLIER.sub(row_of, issue.message)
    return attrs.evolve(issue, location=origin.location(issue.field), message=message)


def _assignable(classes: Sequence[ClassOfService]) -> dict[str, str]:
    """The ids of the classes of service a row may name, by folded name (no system one)."""
    return {cos.name.casefold(): cos.id for cos in classes if not cos.system}


def _access_changes(
    uow: UnitOfWork,
    grants: Sequence[GrantRow],
    account_id: str,
    *,
    existing: Mapping[str, User],
    role_names: Mapping[str, str],
    updates: bool,
) -> tuple[list[GrantRow], list[RowChange]]:
    """The grant rows to plan, and the Account and Mailbox rows that change an existing user.

    A new user's rows are planned as they are. An existing user's row is
    compared with what the user holds in that scope: the same is nothing to
    do; a difference is reported (roles and permissions added and removed)
    and planned only with `updates`. A column the sheet does not have keeps
    what the user holds; an empty cell of a column it has means none.
    """
    planned: list[GrantRow] = []
    changes: list[RowChange] = []
    for grant in grants:
        command = grant.command
        user = existing.get(command.user_id)
        if user is None:
            planned.append(grant)
            continue
        current = uow.grants.for_scope(command.user_id, account_id, command.mailbox_id)
        held_roles = current.role_ids if current else frozenset()
        held_permissions = current.permissions if current else frozenset()
        whole = attrs.evolve(
            command,
            role_ids=command.role_ids if "role_ids" in grant.cells else held_roles,
            permissions=command.permissions if "permissions" in grant.cells else held_permissions,
        )
        if same_grant(current, whole):
            continue
        fields = [
            change
            for change in (
                list_change(
                    "roles",
                    (role_names.get(r, r) for r in held_roles),
                    (role_names.get(r, r) for r in whole.role_ids),
                ),
                list_change("permissions", held_permissions, whole.permissions),
            )
            if change is not None
        ]
        changes.append(
            RowChange(
                sheet=grant.sheet,
                row=grant.row,
                email=str(user.username),
                fields=tuple(fields),
                cells={
                    change.field: grant.cells[key]
                    for change in fields
                    if (key := "role_ids" if change.field == "roles" else "permissions")
                    in grant.cells
                },
            )
        )
        if updates:
            planned.append(attrs.evolve(grant, command=whole))
    return planned, changes


def plan_users(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    source: Source | Workbook,
    *,
    policy: Policy = "all_or_nothing",
    max_failures: int | None = None,
    reader: WorkbookReader | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    updates: bool = False,
    progress: Progress | None = None,
    part_size: int | None = None,
    workers: int | None = 1,
    listed_per_code: int | None = LISTED_PER_CODE,
    dry_run: bool = False,
) -> UsersImport:
    """Read and plan an import of the workbook into the account; write nothing.

    The Users sheet's rows become `CreateUser`s; the Account and Mailbox
    sheets' rows become `SetGrant`s for those users (see `bulk.access`).
    A row whose user is already the account's is `unchanged` when it holds
    the same values, and `changed` otherwise; with `updates` the change is
    planned (an `UpdateUser`), without it only reported. Importing the same
    workbook twice creates nothing the second time.
    `progress` is called with (done, total) as the rows' commands are
    checked, as `plan` calls it.
    Raises `SpreadsheetError` for a file that is not a usable workbook. With
    `skip_invalid`, a failing user row takes its grant rows along, and more
    than `max_failures` failing users make the import not `ok`
    (`bulk.too_many_failures`).

    A file of more than `LARGE` users is checked `part_size` users (with
    their Account and Mailbox rows) at a time, `PART` unless given, so that
    memory holds one part: each part's changes are kept on disk, sealed,
    and `apply_users` writes them as they are when nothing the plan read has
    changed (each row is checked once), or checks each part again as it
    writes it, in its one transaction. The file's own checks (an address two
    rows claim, or two that look alike) cover what could cross parts, so the
    issues are the same either way. `part_size` given plans any file in
    parts of that size. The parts are checked in this process, unless
    `workers` asks for more processes (None: every core, where forking is
    safe: see `engine.plan_parts`); the command line asks for every core.
    A `dry_run` keeps no part's changes (it will not be applied): it is
    quicker, and `apply_users` would check every part again.

    `issues` lists at most `listed_per_code` issues of one code and
    severity (None: all of them); past them, one `bulk.issues_repeated` of
    that severity says how many more there are and on which rows, so a
    file with the same warning on 100,000 rows lists 1,000 and one line.
    A file planned in parts holds no more in its plan either: the plan
    keeps the warnings past them as one issue (`Issue.others`), not one per
    row.
    `failed` keeps every blocking issue of each skipped row.
    """
    if policy not in POLICIES:
        msg = f"policy must be one of {', '.join(POLICIES)}, not {policy!r}"
        raise ValueError(msg)
    _require_count("part_size", part_size, 1, "a positive number of users")
    _require_count("max_failures", max_failures, 0, "a number of rows, 0 or more")
    _require_count("workers", workers, 1, "a positive number of processes")
    _require_count("listed_per_code", listed_per_code, 1, "a positive number of issues")
    book = (
        source
        if isinstance(source, Workbook)
        else read_workbook(source, reader=reader, limits=limits)
    )
    with fewer_collections(sum(len(sheet.rows) for sheet in book.sheets)):
        planned = _plan(
            ctx,
            actor,
            account_id,
            book,
            policy=policy,
            max_failures=max_failures,
            updates=updates,
            progress=progress,
            part_size=part_size,
            workers=workers,
            listed_per_code=listed_per_code,
            keep=not dry_run,
        )
    if listed_per_code is None:
        return planned
    return attrs.evolve(planned, issues=listed(planned.issues, listed_per_code, planned.rows))


def listed(
    issues: Sequence[Issue], per_code: int, origins: Sequence[Origin] = ()
) -> tuple[Issue, ...]:
    """`issues`, each code and severity at most `per_code` times, then one line for the rest.

    The line (`bulk.issues_repeated`, of the same severity, so an error
    still blocks) says how many more there are and the rows they are on.
    An issue the plan already folded (`Issue.others`, the positions of its
    commands in `origins`) counts for all of them.
    """
    counts: Counter[tuple[str, Severity]] = Counter()
    rows: dict[tuple[str, Severity], list[int]] = {}
    kept: list[Issue] = []
    for issue in issues:
        key = (issue.code, issue.severity)
        if issue.others:
            counts[key] += issue.count  # past the listed ones already
            ends = [p for r in issue.others for p in (r.start, r.stop - 1) if p < len(origins)]
            rows.setdefault(key, []).extend(origins[p].row for p in ends)
            continue
        counts[key] += 1
        if counts[key] <= per_code:
            kept.append(issue)
        elif issue.location is not None and issue.location.row is not None:
            rows.setdefault(key, []).append(issue.location.row)
    for (code, severity), count in counts.items():
        more = count - per_code
        if more <= 0:
            continue
        where = rows.get((code, severity), [])
        on = f", on rows {min(where):,} to {max(where):,}" if where else ""
        kept.append(
            Issue(
                code="bulk.issues_repeated",
                message=f"{more:,} more {code} issues than the {per_code:,} listed{on}",
                location=Location(sheet=USERS_SHEET),
                severity=severity,
            )
        )
    return tuple(kept)


def _require_count(name: str, value: object, least: int, what: str) -> None:
    """Refuse an option that is neither None nor a whole number from `least` up."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        msg = f"{name} must be {what}, not {value!r}"
        raise ValueError(msg)


def _plan(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    book: Workbook,
    *,
    policy: Policy,
    max_failures: int | None,
    updates: bool,
    progress: Progress | None,
    part_size: int | None,
    workers: int | None,
    listed_per_code: int | None = None,
    keep: bool = True,
) -> UsersImport:
    region = queries.get_account(ctx, actor, account_id).phone_region
    classes = queries.every(
        lambda after: queries.classes_of_service(
            ctx, actor, account_id, limit=MAX_PAGE, after=after
        )
    )
    book, assumed = with_users_sheet(book)
    sheet = user_rows(book, account_id, classes=_assignable(classes), region=region)
    roles = _roles(ctx, actor, account_id)
    with ctx.store.snapshot() as uow:
        settled = settle(
            uow,
            account_id,
            sheet.rows,
            updates=updates,
            region=region,
            cos_names={cos.id: cos.name for cos in classes},
        )
        new = [_with_id(ctx, row) for row in settled.create]
        outside = _outside_active_domains(ctx, actor, account_id, new)
        known = {
            key: (settled.existing[key].id, row.row)
            for row in sheet.rows
            if (key := _key(row)) in settled.existing
        }
        grants, grant_issues = grant_rows(
            book,
            account_id,
            users={_key(row): (_user_id(row), row.row) for row in new} | known,
            roles={name: (role_id, scope) for name, (role_id, scope, _) in roles.items()},
            mailboxes={m.address.key: m.id for m in account_mailboxes(ctx, actor, account_id)},
        )
        owner_of = {(g.sheet, g.row): g.user_row for g in grants}
        grants, access_changes = _access_changes(
            uow,
            grants,
            account_id,
            existing={user.id: user for user in settled.existing.values()},
            role_names={role_id: name for role_id, _, name in roles.values()},
            updates=updates,
        )
    if outside:  # the whole file fails: plan the rest only for what else it holds
        left_out = {row.row for row, _ in outside}
        new = [row for row in new if row.row not in left_out]
        grants = [g for g in grants if g.user_row not in left_out]
    users: list[UserRow] = [*new, *settled.update]
    size = part_size or (len(users) + 1 if len(users) <= LARGE else PART)
    rows, planned = _planned(
        ctx,
        actor,
        users,
        grants,
        size=size,
        progress=progress,
        workers=workers,
        listed=listed_per_code,
        keep=keep,
    )
    twice = {
        (_FILE_CLASHES[i.code], i.location.row)
        for i in sheet.issues
        if i.code in _FILE_CLASHES and i.location
    }
    issues = [
        *assumed,
        *sheet.issues,
        *(issue for _, issue in outside),
        *grant_issues,
        *(
            issue
            for issue in (_located(i, rows) for i in planned.issues)
            if not _said_already(issue, twice)
        ),
    ]
    skipped: list[int] = []
    failed: dict[int, tuple[Issue, ...]] = {}
    if policy == "skip_invalid":
        failing = {
            (issue.location.sheet, issue.location.row)
            for issue in issues
            if issue.blocking and issue.location is not None
        }
        # A user row with a blocking issue, or whose Account or Mailbox row has one, is
        # left out: no user is created without the access the file gives it.
        failed = _failures(issues, owner_of)
        skipped = list(failed)
        kept = [
            row
            for row in rows
            if (row_sheet(row), row.row) not in failing
            and (row.row if isinstance(row, UserRow) else row.user_row) not in failed
        ]
        if len(kept) != len(rows):
            rows, planned = _planned(
                ctx,
                actor,
                [row for row in kept if isinstance(row, UserRow)],
                [row for row in kept if isinstance(row, GrantRow)],
                size=size,
                progress=None,
                workers=workers,
                listed=listed_per_code,
                keep=keep,
            )
            issues += [
                _located(issue, rows) for issue in planned.issues if issue.blocking
            ]  # what the rest still trips on (rare: a row that leaned on a skipped one)
        if max_failures is not None and len(skipped) > max_failures:
            issues.append(
                Issue(
                    code="bulk.too_many_failures",
                    message=f"{len(skipped)} rows fail, more than the {max_failures} allowed",
                    location=Location(sheet=USERS_SHEET),
                    severity=Severity.ERROR,
                )
            )
            planned = plan(ctx, actor, [])  # nothing to apply
            rows = []
    return UsersImport(
        workbook=book,
        policy=policy,
        plan=planned,
        rows=tuple(rows),
        skipped=tuple(skipped),
        issues=tuple(issues),
        unchanged=settled.unchanged,
        changed=settled.changed + tuple(access_changes),
        failed=failed,
    )


def _planned(
    ctx: Environment,
    actor: Actor,
    users: Sequence[UserRow],
    grants: Sequence[GrantRow],
    *,
    size: int,
    progress: Progress | None,
    workers: int | None,
    listed: int | None = None,
    keep: bool = True,
) -> tuple[list[Origin], Plan]:
    """The rows in the order they are planned, and their plan: in parts of `size` users.

    Each part holds its users and then their Account and Mailbox rows (rows
    of users the account has already go with the last part); one part is
    an ordinary `plan`, users first, then grants.
    """
    count = max(1, -(-len(users) // size))
    part_of = {row.row: n // size for n, row in enumerate(users)}
    theirs: list[list[GrantRow]] = [[] for _ in range(count)]
    for grant in grants:
        theirs[part_of.get(grant.user_row, count - 1)].append(grant)
    rows: list[Origin] = []
    parts = []
    for n in range(count):
        start = len(rows)
        rows += users[n * size : (n + 1) * size]
        rows += theirs[n]
        parts.append(range(start, len(rows)))
    commands = [row.command for row in rows]
    if count == 1:
        return rows, plan(ctx, actor, commands, progress=progress)
    return rows, plan_parts(
        ctx, actor, commands, parts, progress=progress, workers=workers, listed=listed, keep=keep
    )


def _failures(
    issues: Sequence[Issue], owner_of: Mapping[tuple[str, int], int]
) -> dict[int, tuple[Issue, ...]]:
    """Each Users row a blocking issue holds back, by row, with those issues.

    An issue holds back the row it is on, or, on an Account or Mailbox row,
    the Users row of that row's user; the header's issues hold back nobody.
    """
    found: dict[int, list[Issue]] = {}
    for issue in issues:
        where = issue.location
        if not issue.blocking or where is None or where.row is None:
            continue
        if where.sheet == USERS_SHEET:
            row = None if issue.code.startswith("bulk.column_") else where.row
        else:
            row = owner_of.get((where.sheet, where.row))
        if row is not None:
            found.setdefault(row, []).append(issue)
    return {row: tuple(found[row]) for row in sorted(found)}


_FILE_CLASHES: Final = {
    "bulk.address_twice": "address.taken",
    "bulk.address_lookalike": "address.confusable",
}
"""The clashes the sheet finds between its own rows, and the plan's word for each."""


def _said_already(issue: Issue, twice: set[tuple[str, int | None]]) -> bool:
    """Whether the plan's issue is a clash the sheet found between two of its rows.

    `twice` holds, for each such clash, the plan's code for it and the row.
    """
    where = issue.location
    return where is not None and where.sheet == USERS_SHEET and (issue.code, where.row) in twice


def _outside_active_domains(
    ctx: Environment, actor: Actor, account_id: str, rows: Sequence[UserRow]
) -> list[tuple[UserRow, Issue]]:
    """The new users whose address is on no active domain of the account, with their issue.

    One such row fails the whole import, whatever the policy: the file is
    meant for the account's domains. An address that does not parse is left
    to the plan, which says what is wrong with it.
    """
    try:
        domains = queries.every(
            lambda after: queries.domains(ctx, actor, account_id, limit=MAX_PAGE, after=after)
        )
    except PermissionDenied:
        return []  # the plan refuses every row: that says it
    active = {domain.name.ascii for domain in domains if domain.status is DomainStatus.ACTIVE}
    found = []
    for row in rows:
        command = row.command
        if not isinstance(command, CreateUser):
            continue
        local, at, text = command.username.strip().rpartition("@")
        try:
            domain = DomainName.parse(text) if local and at else None
        except InvalidValue:
            domain = None
        if domain is not None and domain.ascii not in active:
            issue = Issue(
                code="bulk.domain_not_active",
                message=f"{domain} is not an active domain of the account: no user of this"
                " file is created until every row is on one",
                location=row.location("username"),
                severity=Severity.ERROR,
            )
            found.append((row, issue))
    return found


def _key(row: UserRow) -> str:
    command = row.command
    return address_key(command.username) if isinstance(command, CreateUser) else ""


def _user_id(row: UserRow) -> str:
    return row.command.user_id or ""


def row_sheet(row: Origin) -> str:
    """The sheet a command came from."""
    return row.sheet if isinstance(row, GrantRow) else USERS_SHEET


def _with_id(ctx: Environment, row: UserRow) -> UserRow:
    """The row with an id chosen for its user, so that its grant rows can name it."""
    command = row.command
    if not isinstance(command, CreateUser) or command.user_id is not None:
        return row
    return attrs.evolve(row, command=attrs.evolve(command, user_id=ctx.ids.new_id()))


def _roles(ctx: Environment, actor: Actor, account_id: str) -> dict[str, tuple[str, Scope, str]]:
    """The account's roles by folded name and id: (id, scope, name)."""
    found: dict[str, tuple[str, Scope, str]] = {}
    every_role = queries.every(
        lambda after: queries.roles(ctx, actor, account_id, limit=MAX_PAGE, after=after)
    )
    for role in every_role:
        found.setdefault(role.name.casefold(), (role.id, role.scope, role.name))
        found[role.id.casefold()] = (role.id, role.scope, role.name)
    return found


def account_mailboxes(ctx: Environment, actor: Actor, account_id: str) -> list[Mailbox]:
    """Every mailbox of the account, a page at a time; none without `mailboxes.manage`."""
    try:
        return queries.every(
            lambda after: queries.mailboxes(ctx, actor, account_id, limit=MAX_PAGE, after=after)
        )
    except PermissionDenied:
        return []


def _id_of(result: object) -> str | None:
    """What an import keeps of a result: a user's id."""
    return result.id if isinstance(result, User) else None


def apply_users(
    ctx: Environment, planned: UsersImport, *, progress: Progress | None = None
) -> BulkResult:
    """Write a planned import in one transaction; raise `ValidationFailed` if it is not ok.

    As with `apply`, the store may have changed since planning: then the
    batch is checked again, and either all of it is written or none (the
    `ValidationFailed` locates what no longer holds to its cell).
    `progress` is called as `apply` calls it. An import planned in parts
    (see `plan_users`) is written from the parts it kept, or checked again
    part by part as it is written; either way its memory holds one part at
    a time.
    """
    if not planned.ok:
        raise ValidationFailed(issues=planned.errors)
    try:
        with fewer_collections(len(planned.rows)):
            outcome = apply_lean(ctx, planned.plan, keep=_id_of, progress=progress)
    except ValidationFailed as failed:  # what no longer holds, told by its cell
        issues = tuple(_located(issue, planned.rows) for issue in failed.issues)
        raise ValidationFailed(issues=issues) from failed
    done = [
        (row, user_id)
        for row, user_id in zip(planned.rows, outcome.results, strict=True)
        if isinstance(row, UserRow) and isinstance(user_id, str)
    ]
    updated = {r.row: u for r, u in done if isinstance(r.command, UpdateUser)}
    access = {(change.sheet, change.row) for change in planned.changed}
    for row in planned.rows:  # an existing user whose Account or Mailbox row changed its access
        if isinstance(row, GrantRow) and (row.sheet, row.row) in access:
            updated.setdefault(row.user_row, row.command.user_id)
    return BulkResult(
        created=tuple((r.row, u) for r, u in done if isinstance(r.command, CreateUser)),
        updated=tuple(sorted(updated.items())),
        unchanged=planned.unchanged,
        skipped=planned.skipped,
        issues=planned.issues,
        outcome=outcome,
        failed=planned.failed,
    )
