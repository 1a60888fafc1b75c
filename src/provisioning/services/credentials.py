"""Handlers for credentials: passwords, multi-factor set-up, sign-in."""

from __future__ import annotations

from typing import Any

import attrs

from provisioning.commands import (
    Authenticate,
    EnrollMfa,
    FinalizeMfa,
    ReinitializeMfa,
    ResetPassword,
    SetPassword,
)
from provisioning.exceptions import InvalidValue, Issue
from provisioning.model import (
    Credentials,
    MfaState,
    MfaStatus,
    PasswordPolicy,
    User,
    Username,
    UserStatus,
)
from provisioning.results import Authentication, MfaEnrollment, PasswordReset
from provisioning.security import Totp, generate_password
from provisioning.services._base import Step, Tx, error
from provisioning.services.users import authorize_for, is_self, password_issues, password_policy

__all__ = [
    "authenticate",
    "enroll_mfa",
    "finalize_mfa",
    "reinitialize_mfa",
    "reset_password",
    "set_password",
]


def _policy_for(tx: Tx, user: User) -> PasswordPolicy:
    account = tx.uow.accounts.find(user.account_id) if user.account_id else None
    cos = tx.uow.classes_of_service.find(user.cos_id) if user.cos_id else None
    return password_policy(account, cos)


def _not_directory(user: User) -> list[Issue]:
    if user.directory_service is None:
        return []
    return [
        error(
            "user.directory_managed",
            f"{user.username}'s password is managed by {user.directory_service!r}",
            field="user_id",
        )
    ]


def _self_or(tx: Tx, user: User, permission: str) -> None:
    if not is_self(tx, user):
        authorize_for(tx, user, permission)


def set_password(tx: Tx, command: SetPassword) -> Step[User]:
    """Set a password.

    Users change their own, giving the current one; a password an
    administrator sets must be changed at the next sign-in.
    """
    user = tx.user(command.user_id)
    own = is_self(tx, user)
    _self_or(tx, user, "users.manage")
    issues = _not_directory(user)
    if own and user.credentials.password_hash is not None:
        current = command.current_password
        if current is None or not tx.verify_password(user.credentials.password_hash, current):
            issues.append(
                error(
                    "password.current_wrong",
                    "the current password is missing or wrong",
                    field="current_password",
                )
            )
    issues += password_issues(
        _policy_for(tx, user),
        command.password,
        command.password_repeat,
        user.username,
    )

    def run() -> User:
        credentials = Credentials(
            password_hash=tx.hash_password(command.password),
            must_change=not own,
            changed_at=tx.now,
        )
        stored = tx.uow.users.update(attrs.evolve(user, credentials=credentials, updated_at=tx.now))
        tx.record("SetPassword", "user", user.id, account_id=user.account_id)
        return stored

    return Step.proceed(run, issues)


def reset_password(tx: Tx, command: ResetPassword) -> Step[PasswordReset]:
    """Replace the password by a generated one that satisfies the policy; returned once."""
    user = tx.user(command.user_id)
    authorize_for(tx, user, "users.manage")
    issues = _not_directory(user)

    def run() -> PasswordReset:
        password = generate_password(_policy_for(tx, user), tx, local_part=user.username.local)
        credentials = Credentials(
            password_hash=tx.hash_password(password), must_change=True, changed_at=tx.now
        )
        stored = tx.uow.users.update(attrs.evolve(user, credentials=credentials, updated_at=tx.now))
        tx.record("ResetPassword", "user", user.id, account_id=user.account_id)
        return PasswordReset(user=stored, password=password)

    return Step.proceed(run, issues)


def _enrolment(tx: Tx, user: User, action: str) -> MfaEnrollment:
    totp = Totp.from_seed(tx.token())
    account = tx.uow.accounts.find(user.account_id) if user.account_id else None
    issuer = account.name if account is not None else "provisioning"
    mfa = MfaState(required=user.mfa.required, status=MfaStatus.PENDING, secret=totp.secret)
    stored = tx.uow.users.update(attrs.evolve(user, mfa=mfa, updated_at=tx.now))
    tx.record(action, "user", user.id, account_id=user.account_id)
    return MfaEnrollment(
        user=stored,
        secret=totp.secret,
        uri=totp.provisioning_uri(account=str(user.username), issuer=issuer),
    )


def enroll_mfa(tx: Tx, command: EnrollMfa) -> Step[MfaEnrollment]:
    """Start TOTP set-up: a new secret, MFA pending until a code finalises it."""
    user = tx.user(command.user_id)
    _self_or(tx, user, "users.manage")
    issues = []
    if user.mfa.status is MfaStatus.ACTIVE:
        issues.append(
            error(
                "mfa.already_active",
                "multi-factor authentication is set up already; re-initialise it instead",
                field="user_id",
            )
        )
    return Step.proceed(lambda: _enrolment(tx, user, "EnrollMfa"), issues)


def finalize_mfa(tx: Tx, command: FinalizeMfa) -> Step[User]:
    """Finish TOTP set-up with a valid code from the user's authenticator."""
    user = tx.user(command.user_id)
    _self_or(tx, user, "users.manage")
    if user.mfa.status is not MfaStatus.PENDING or user.mfa.secret is None:
        return Step.refuse(
            [error("mfa.not_pending", "multi-factor set-up has not been started", field="user_id")]
        )
    step = Totp(user.mfa.secret).verify(command.code, at=tx.now, last_step=user.mfa.last_step)
    if step is None:
        return Step.refuse([error("mfa.code_invalid", "the code is not valid", field="code")])

    def run() -> User:
        mfa = attrs.evolve(user.mfa, status=MfaStatus.ACTIVE, last_step=step)
        stored = tx.uow.users.update(attrs.evolve(user, mfa=mfa, updated_at=tx.now))
        tx.record("FinalizeMfa", "user", user.id, account_id=user.account_id)
        return stored

    return Step.proceed(run)


def reinitialize_mfa(tx: Tx, command: ReinitializeMfa) -> Step[MfaEnrollment]:
    """Reset an active, finalised TOTP set-up: a new secret, pending again."""
    user = tx.user(command.user_id)
    _self_or(tx, user, "users.manage")
    issues = []
    if user.mfa.status is not MfaStatus.ACTIVE:
        issues.append(
            error(
                "mfa.not_active",
                "only an activated and finalised multi-factor set-up can be re-initialised",
                field="user_id",
            )
        )
    return Step.proceed(lambda: _enrolment(tx, user, "ReinitializeMfa"), issues)


_FAILED = "the username or the password is wrong"


def authenticate(tx: Tx, command: Authenticate) -> Step[Authentication]:
    """Check a sign-in.

    Unknown users, wrong passwords and disabled users get the same answer,
    `auth.failed`, after the same amount of hashing work. A hash made with
    old parameters is replaced on success; a one-time code is accepted once.
    """
    try:
        user = tx.uow.users.by_username(Username.parse(command.username))
    except InvalidValue:
        user = None
    stored_hash = user.credentials.password_hash if user is not None else None
    # Unknown users are checked against a decoy, so every refusal costs the same.
    matches = tx.verify_password(stored_hash, command.password)
    if user is None or stored_hash is None or not matches or user.status is not UserStatus.ACTIVE:
        return Step.refuse([error("auth.failed", _FAILED)])
    changes: dict[str, Any] = {}
    if tx.hasher.needs_rehash(stored_hash):
        changes["credentials"] = attrs.evolve(
            user.credentials, password_hash=tx.hash_password(command.password)
        )
    if user.mfa.status is MfaStatus.ACTIVE and user.mfa.secret is not None:
        if command.code is None:
            return Step.refuse(
                [error("mfa.code_required", "a one-time code is required", field="code")]
            )
        step = Totp(user.mfa.secret).verify(command.code, at=tx.now, last_step=user.mfa.last_step)
        if step is None:
            return Step.refuse([error("mfa.code_invalid", "the code is not valid", field="code")])
        changes["mfa"] = attrs.evolve(user.mfa, last_step=step)

    def run() -> Authentication:
        if changes:
            tx.uow.users.update(attrs.evolve(user, **changes))
        tx.record(
            "Authenticate",
            "user",
            user.id,
            account_id=user.account_id,
            detail=", ".join(sorted(changes)) or "signed in",
        )
        return Authentication(
            user_id=user.id,
            must_change_password=user.credentials.must_change,
            mfa_setup_required=user.mfa.required and user.mfa.status is not MfaStatus.ACTIVE,
        )

    return Step.proceed(run)
