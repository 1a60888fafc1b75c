"""Who manages a user's credentials (here, or its directory), and what a guess at them counts on."""

from __future__ import annotations

import hashlib
from typing import Final

from provisioning.errors import InvalidValue, Issue, codes
from provisioning.model import (
    Account,
    ClassOfService,
    PasswordPolicy,
    User,
    Username,
    UserSource,
)
from provisioning.rules._issues import error
from provisioning.rules._tx import (
    Tx,
)

__all__ = [
    "directory_managed",
    "guess_key",
    "new_password_issues",
    "password_issues",
    "password_policy",
    "policy_for",
    "user_named",
]

CODES: Final = codes(
    invalid=("password.mismatch",),
    immutable=("user.directory_managed",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def directory_managed(user: User, *, by: str | None = None, field: str = "user_id") -> list[Issue]:
    """`user.directory_managed` for a user its directory service manages, unless `by` is it.

    The one predicate is the user's `source`: a user `SyncDirectory` or a
    directory's API client made is the directory's (its `directory_service`
    names which), and its password, profile and existence change there, not
    here. `by` is the directory the actor speaks for (`Tx.directory`): that
    directory's own client changes its users one by one.
    """
    if user.source is not UserSource.DIRECTORY or (by is not None and by == user.directory_service):
        return []
    return [
        error(
            "user.directory_managed",
            f"{user.username} is managed by the directory service"
            f" {user.directory_service!r}: change it there (or through its API client)",
            field=field,
        )
    ]


def guess_key(kind: str, name: str) -> str:
    """The counter of guesses of one `kind` at the name typed: a digest, never the name.

    A name that is a username counts as the username it parses to (case
    and script folded); any other text, as it is with its spaces folded.
    """
    try:
        folded = Username.parse(name).key
    except InvalidValue:
        folded = " ".join(name.split()).casefold()
    return hashlib.sha256(f"{kind}:{folded}".encode()).hexdigest()


def password_policy(account: Account | None, cos: ClassOfService | None) -> PasswordPolicy:
    """The policy a user's password follows: its class of service's, else its account's."""
    if cos is not None and cos.password_policy is not None:
        return cos.password_policy
    return account.password_policy if account is not None else PasswordPolicy()


def policy_for(tx: Tx, user: User) -> PasswordPolicy:
    """The policy the user's passwords follow, from its class of service and account."""
    account = tx.uow.accounts.find(user.account_id) if user.account_id else None
    cos = tx.uow.classes_of_service.find(user.cos_id) if user.cos_id else None
    return password_policy(account, cos)


def user_named(tx: Tx, username: str) -> User | None:
    """The user with this username as someone typed it (None: nobody, or not a username)."""
    try:
        return tx.uow.users.by_username(Username.parse(username))
    except InvalidValue:
        return None


def new_password_issues(tx: Tx, user: User, password: str, repeat: str) -> list[Issue]:
    """Every problem with a new password of `user` and its repetition, under its policy."""
    account = tx.uow.accounts.find(user.account_id) if user.account_id else None
    name = account.name if account is not None else None
    return password_issues(policy_for(tx, user), password, repeat, user.username, name)


def password_issues(
    policy: PasswordPolicy,
    password: str,
    repeat: str,
    username: Username,
    account_name: str | None = None,
) -> list[Issue]:
    """Every problem with a new password and its repetition.

    An attacker tries the username's domain and the account's name first:
    the estimator is given both.
    """
    context = [*username.domain.ascii.split("."), *(account_name or "").split()]
    issues = policy.check(password, local_part=username.local, user_inputs=context)
    if password != repeat:
        issues.append(
            error(
                "password.mismatch",
                "the password and its repetition differ",
                field="password_repeat",
            )
        )
    return issues
