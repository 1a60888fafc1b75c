"""Synchronising users from a directory service the caller has read."""

from __future__ import annotations

from typing import Any, Final

import attrs

from provisioning.commands import DirectoryEntry, SyncDirectory
from provisioning.errors import InvalidValue, Issue, codes
from provisioning.model import (
    DIRECTORY_ATTRIBUTES,
    Domain,
    EmailAddress,
    MfaState,
    PhoneNumber,
    Profile,
    User,
    Username,
    UserSource,
    UserStatus,
)
from provisioning.results import DirectorySyncReport
from provisioning.rules._tx import Step, Tx, error
from provisioning.rules.access import target_outranks
from provisioning.rules.domains import require_active
from provisioning.rules.users import directory_attributes, display_name, external_id_issues

__all__ = ["sync_directory"]

CODES: Final = codes(
    invalid=(
        "directory.duplicate_entry",
        "directory.name_required",
    ),
    conflict=("directory.conflict",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


@attrs.frozen
class _Wanted:
    username: Username
    domain: Domain
    profile: Profile
    status: UserStatus
    external_id: str | None
    row: int


def _entry(
    tx: Tx, account_id: str, entry: DirectoryEntry, row: int, issues: list[Issue]
) -> _Wanted | None:
    field = f"entries[{row}]"
    try:
        username = Username.parse(entry.username, field=f"{field}.username")
        alternate = (
            EmailAddress.parse(entry.alternate_email, field=f"{field}.alternate_email")
            if entry.alternate_email
            else None
        )
        mobile = PhoneNumber.parse(entry.mobile, field=f"{field}.mobile") if entry.mobile else None
    except InvalidValue as invalid:
        issues.append(invalid.issue())
        return None
    domain = tx.uow.domains.by_name(username.domain)
    problems = require_active(domain, account_id, field=f"{field}.username")
    if problems or domain is None:
        issues += problems
        return None
    first, last = entry.first_name.strip(), entry.last_name.strip()
    given = {name: getattr(entry, name) for name in DIRECTORY_ATTRIBUTES}
    tagged: list[Issue] = []
    attributes: dict[str, Any] = directory_attributes(given, tagged)
    issues += [attrs.evolve(issue, field=f"{field}.{issue.field}") for issue in tagged]
    profile = Profile(
        first_name=first,
        last_name=last,
        display_name=display_name(first, last)[0],
        alternate_email=alternate,
        mobile=mobile,
        **attributes,
    )
    status = UserStatus.ACTIVE if entry.enabled else UserStatus.DISABLED
    return _Wanted(username, domain, profile, status, entry.external_id, row)


def sync_directory(tx: Tx, command: SyncDirectory) -> Step[DirectorySyncReport]:
    """Create, update and disable the account's users of one directory service to match it."""
    tx.authorize("users.create", command.account_id)
    tx.authorize("users.manage", command.account_id)
    tx.uow.accounts.get(command.account_id)
    service = command.directory_service.strip()
    issues: list[Issue] = []
    if not service:
        issues.append(
            error(
                "directory.name_required", "name the directory service", field="directory_service"
            )
        )
    wanted = _wanted(tx, command, issues)
    holders = tx.uow.users.holders(wanted)
    existing = tx.uow.users.get_many(holders.values())
    issues += _conflicts(wanted, holders, existing, service)
    issues += _external_issues(tx, command.account_id, service, wanted, holders)
    ours = [
        u
        for u in tx.uow.users.of_account(command.account_id)
        if u.source is UserSource.DIRECTORY and u.directory_service == service
    ]
    changed = {
        user_id: changes
        for key, user_id in holders.items()
        if key in wanted
        and existing[user_id].source is UserSource.DIRECTORY
        and existing[user_id].directory_service == service  # others are conflicts
        and (changes := _changes(existing[user_id], wanted[key]))
    }
    disabled = [u for u in ours if u.username.key not in wanted and u.status is UserStatus.ACTIVE]
    issues += _rank_issues(tx, [existing[user_id] for user_id in changed], disabled)

    def run() -> DirectorySyncReport:
        report: dict[str, list[str]] = {
            "created": [],
            "updated": [],
            "disabled": [],
            "unchanged": [],
        }
        for key, want in wanted.items():
            user_id = holders.get(key)
            if user_id is None:
                _create(tx, command.account_id, service, want)
                report["created"].append(str(want.username))
            elif user_id in changed:
                _update(tx, existing[user_id], changed[user_id])
                report["updated"].append(str(want.username))
            else:
                report["unchanged"].append(str(want.username))
        for user in disabled:
            tx.uow.users.update(attrs.evolve(user, status=UserStatus.DISABLED, updated_at=tx.now))
            tx.record(
                "SyncDirectory", "user", user.id, account_id=user.account_id, detail="disabled"
            )
            report["disabled"].append(str(user.username))
        return DirectorySyncReport(**{k: tuple(v) for k, v in report.items()})

    return Step.proceed(run, issues)


def _wanted(tx: Tx, command: SyncDirectory, issues: list[Issue]) -> dict[str, _Wanted]:
    wanted: dict[str, _Wanted] = {}
    for row, entry in enumerate(command.entries):
        parsed = _entry(tx, command.account_id, entry, row, issues)
        if parsed is None:
            continue
        if parsed.username.key in wanted:
            issues.append(
                error(
                    "directory.duplicate_entry",
                    f"{parsed.username} appears twice",
                    field=f"entries[{row}].username",
                )
            )
        wanted[parsed.username.key] = parsed
    return wanted


def _conflicts(
    wanted: dict[str, _Wanted], holders: dict[str, str], existing: dict[str, User], service: str
) -> list[Issue]:
    issues = []
    for key, user_id in holders.items():
        user = existing[user_id]
        if user.source is not UserSource.DIRECTORY or user.directory_service != service:
            issues.append(
                error(
                    "directory.conflict",
                    f"{wanted[key].username} is already used by a user the directory"
                    " does not manage",
                    field="entries",
                )
            )
    return issues


def _create(tx: Tx, account_id: str, service: str, want: _Wanted) -> None:
    user = User(
        id=tx.new_id(),
        username=want.username,
        created_at=tx.now,
        updated_at=tx.now,
        account_id=account_id,
        domain_id=want.domain.id,
        cos_id=want.domain.default_cos_id,
        source=UserSource.DIRECTORY,
        directory_service=service,
        profile=want.profile,
        status=want.status,
        external_id=want.external_id,
        corporate=True,
        mfa=MfaState(required=want.domain.require_2fa),
    )
    tx.uow.users.add(user)
    tx.record("SyncDirectory", "user", user.id, account_id=account_id, detail="created")


def _external_issues(
    tx: Tx, account_id: str, service: str, wanted: dict[str, _Wanted], holders: dict[str, str]
) -> list[Issue]:
    """An external id is the directory's name for one user: given twice, or held by another."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for key, want in wanted.items():
        if want.external_id is None:
            continue
        field = f"entries[{want.row}]"
        if want.external_id in seen:
            issues.append(
                error(
                    "directory.duplicate_entry",
                    f"the external id {want.external_id!r} appears twice",
                    field=f"{field}.external_id",
                )
            )
            continue
        seen.add(want.external_id)
        found = external_id_issues(tx, account_id, service, want.external_id, holders.get(key))
        issues += [attrs.evolve(issue, field=f"{field}.external_id") for issue in found]
    return issues


def _rank_issues(tx: Tx, changed: list[User], disabled: list[User]) -> list[Issue]:
    """`permission.target_outranks` for each user the sync would change but the actor may not.

    The rank rule holds on this road as on `UpdateUser`: a directory sync
    changes, renames, re-points or disables only users the actor outranks.
    """
    return [
        target_outranks(
            f"{user.username} holds more than you do: the directory sync cannot"
            f" {'disable' if user in disabled else 'change'} it",
            field="entries",
        )
        for user in [*changed, *disabled]
        if not tx.outranks(user)
    ]


def _changes(user: User, want: _Wanted) -> dict[str, Any]:
    """What the directory's entry changes of the user (nothing: it is as the directory says)."""
    changes: dict[str, Any] = {}
    profile = attrs.evolve(
        user.profile,
        first_name=want.profile.first_name,
        last_name=want.profile.last_name,
        display_name=user.profile.display_name
        if user.profile.display_name_manual
        else want.profile.display_name,
        alternate_email=want.profile.alternate_email,
        mobile=want.profile.mobile,
        **{name: getattr(want.profile, name) for name in DIRECTORY_ATTRIBUTES},
    )
    if profile != user.profile:
        changes["profile"] = profile
    if want.external_id != user.external_id:
        changes["external_id"] = want.external_id
    if want.status is not user.status:
        changes["status"] = want.status
    if want.username != user.username:  # the directory changed the case of the name
        changes["username"] = want.username
    return changes


def _update(tx: Tx, user: User, changes: dict[str, Any]) -> None:
    tx.uow.users.update(attrs.evolve(user, updated_at=tx.now, **changes))
    tx.record(
        "SyncDirectory",
        "user",
        user.id,
        account_id=user.account_id,
        detail=", ".join(sorted(changes)),
    )
