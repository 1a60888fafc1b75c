"""Handlers for credentials: passwords, multi-factor set-up, sign-in."""

from __future__ import annotations

import hmac
import logging
from typing import Any, Final

import attrs

from provisioning.commands import (
    Authenticate,
    CompletePasswordSetup,
    EnrollMfa,
    FinalizeMfa,
    ReinitializeMfa,
    ResetPassword,
    SetPassword,
)
from provisioning.errors import InvalidValue, Issue, codes
from provisioning.model import (
    Counted,
    Credentials,
    Guess,
    Guessed,
    MfaState,
    MfaStatus,
    SignInPolicy,
    User,
    Username,
    UserStatus,
)
from provisioning.ports import UnitOfWork
from provisioning.results import Authentication, MfaEnrollment, PasswordReset
from provisioning.rules._tx import Step, Tx, error, hash_token
from provisioning.rules.agents import credentials_refused
from provisioning.rules.credentials import (
    directory_managed,
    guess_key,
    new_password_issues,
    policy_for,
    user_named,
)
from provisioning.security import Totp, generate_password

__all__ = [
    "authenticate",
    "complete_password_setup",
    "enroll_mfa",
    "finalize_mfa",
    "reinitialize_mfa",
    "reset_password",
    "set_password",
    "sign_in_guess",
]

CODES: Final = codes(
    unauthenticated=(
        "auth.captcha_required",
        "auth.failed",
        "auth.locked",
        "mfa.code_invalid",
        "mfa.code_required",
        "password.current_wrong",
        "password_setup.invalid",
    ),
    state=(
        "mfa.already_active",
        "mfa.not_active",
        "mfa.not_pending",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def _self_or(tx: Tx, user: User, permission: str) -> None:
    if not tx.is_self(user):
        tx.authorize_for(user, permission)


def set_password(tx: Tx, command: SetPassword) -> Step[User]:
    """Set a password.

    Users change their own, giving the current one; a password an
    administrator sets must be changed at the next sign-in.
    """
    user = tx.user(command.user_id)
    own = tx.is_self(user)
    _self_or(tx, user, "users.manage")
    issues = directory_managed(user, by=tx.directory)
    issues += credentials_refused(tx, "sets a user's password", field="password")
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
    issues += new_password_issues(tx, user, command.password, command.password_repeat)

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
    tx.authorize_for(user, "users.manage")
    issues = directory_managed(user, by=tx.directory)
    issues += credentials_refused(tx, "receives a user's password", field="user_id")

    def run() -> PasswordReset:
        password = generate_password(policy_for(tx, user), tx, local_part=user.username.local)
        credentials = Credentials(
            password_hash=tx.hash_password(password), must_change=True, changed_at=tx.now
        )
        stored = tx.uow.users.update(attrs.evolve(user, credentials=credentials, updated_at=tx.now))
        tx.record("ResetPassword", "user", user.id, account_id=user.account_id)
        return PasswordReset(user=stored, password=password)

    return Step.proceed(run, issues)


def complete_password_setup(tx: Tx, command: CompletePasswordSetup) -> Step[User]:
    """Set the first password through the one-time link; the link stops working.

    An unknown user, a wrong token, a used or an expired link all get the
    same answer, `password_setup.invalid`.
    """
    user = tx.uow.users.find(command.user_id)
    credentials = user.credentials if user is not None else None
    if (
        user is None
        or credentials is None
        or credentials.setup_token_hash is None
        or credentials.setup_expires_at is None
        or credentials.setup_expires_at <= tx.now
        or not hmac.compare_digest(credentials.setup_token_hash, hash_token(command.token))
    ):
        return Step.refuse(
            [
                error(
                    "password_setup.invalid",
                    "this set-password link is not valid, was used, or has expired;"
                    " ask an administrator for a new one",
                    field="token",
                )
            ]
        )
    tx.until(credentials.setup_expires_at)
    issues = directory_managed(user, by=tx.directory)
    issues += new_password_issues(tx, user, command.password, command.password_repeat)

    def run() -> User:
        chosen = Credentials(password_hash=tx.hash_password(command.password), changed_at=tx.now)
        stored = tx.uow.users.update(attrs.evolve(user, credentials=chosen, updated_at=tx.now))
        tx.record("CompletePasswordSetup", "user", user.id, account_id=user.account_id)
        return stored

    return Step.proceed(run, issues)


def _enrolment(tx: Tx, user: User, action: str, *, required: bool) -> MfaEnrollment:
    totp = Totp.from_seed(tx.token())
    account = tx.uow.accounts.find(user.account_id) if user.account_id else None
    issuer = account.name if account is not None else "provisioning"
    mfa = MfaState(required=required, status=MfaStatus.PENDING, secret=totp.secret)
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
    issues = credentials_refused(tx, "receives a user's second factor", field="user_id")
    if user.mfa.status is MfaStatus.ACTIVE:
        issues.append(
            error(
                "mfa.already_active",
                "multi-factor authentication is set up already; re-initialise it instead",
                field="user_id",
            )
        )
    return Step.proceed(
        lambda: _enrolment(tx, user, "EnrollMfa", required=user.mfa.required), issues
    )


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
    """Reset an active, finalised TOTP set-up: a new secret, pending again.

    MFA stays required afterwards: a sign-in with the password alone tells
    the caller to have the user enrol again (`mfa_setup_required`).
    """
    user = tx.user(command.user_id)
    _self_or(tx, user, "users.manage")
    issues = credentials_refused(tx, "receives a user's second factor", field="user_id")
    if user.mfa.status is not MfaStatus.ACTIVE:
        issues.append(
            error(
                "mfa.not_active",
                "only an activated and finalised multi-factor set-up can be re-initialised",
                field="user_id",
            )
        )
    # The second factor stays required: the user enrols again before it signs in without one.
    return Step.proceed(lambda: _enrolment(tx, user, "ReinitializeMfa", required=True), issues)


_FAILED = "the username or the password is wrong"
logger = logging.getLogger("provisioning.security")


def sign_in_guess(reads: UnitOfWork, command: Authenticate) -> Guess:
    """A sign-in is a guess at the name typed, under the sign-in policy of its domain's account.

    The policy and the CAPTCHA come from the domain of the name, so a name
    nobody holds gets the very answers a user's name does.
    """
    try:
        domain = reads.domains.by_name(Username.parse(command.username).domain)
    except InvalidValue:
        domain = None
    account_id = domain.account_id if domain is not None else None
    account = reads.accounts.find(account_id) if account_id is not None else None
    return Guess(
        key=guess_key("sign-in", command.username),
        policy=account.sign_in_policy if account is not None else SignInPolicy(),
        captcha=domain is not None and domain.captcha_on_login,
        captcha_passed=command.captcha_passed,
    )


def _captcha_issue() -> Issue:
    return error(
        "auth.captcha_required",
        "solve a CAPTCHA, then sign in again with captcha_passed set",
        field="captcha_passed",
    )


def _audited(tx: Tx, user: User | None, detail: str, event: str, issues: list[Issue]) -> Step[Any]:
    """A refused sign-in, audited and logged: by the user's id, never by the name typed.

    An unknown name is audited without the name, which may be a password
    typed into the wrong field. The guess was counted before the check.
    """

    def record() -> None:
        user_id = user.id if user is not None else None
        account_id = user.account_id if user is not None else None
        tx.record("Authenticate", "user", user_id or "", account_id=account_id, detail=detail)
        logger.warning(
            "sign-in %s",
            detail,
            extra={"event": event, "user_id": user_id, "account_id": account_id},
        )

    return Step.refuse_recording(issues, record)


def _failed(tx: Tx, user: User | None, counted: Counted, reason: str, issue: Issue) -> Step[Any]:
    """A wrong guess: counted already; with `auth.captcha_required` when the next needs one."""
    issues = [issue]
    if counted.captcha_next:
        issues.append(_captcha_issue())
    state = counted.state
    detail = f"failed: {reason} ({state.failures} in a row)"
    if state.locked_until is not None:
        detail += f", locked out until {state.locked_until.isoformat(timespec='seconds')}"
    event = "auth.locked" if state.locked_until is not None else "auth.failed"
    return _audited(tx, user, detail, event, issues)


def authenticate(tx: Tx, command: Authenticate) -> Step[Authentication]:
    """Check a sign-in.

    Unknown users, wrong passwords and disabled users get the same answer,
    `auth.failed`, after the same amount of hashing work. Each attempt is
    counted against the name typed (a user's or not) before its password
    or one-time code is checked, even in a plan that is never applied;
    after the account's `SignInPolicy.max_failures` the name is locked out
    (`auth.locked`) for a growing wait, and its passwords are not checked
    at all. A domain with a CAPTCHA on login asks for one after a few
    failures (`auth.captcha_required`). A hash made with weaker parameters
    is replaced on success; a one-time code is accepted once.
    """
    user = user_named(tx, command.username)
    counted = tx.counted()
    if counted.verdict is Guessed.LOCKED:
        locked_until = counted.state.locked_until
        until = locked_until.isoformat(timespec="seconds") if locked_until else "a while"
        issue = error("auth.locked", f"too many failed sign-ins: try again after {until}")
        return _audited(tx, user, "refused: locked out", "auth.locked", [issue])
    if counted.verdict is Guessed.CAPTCHA:
        return Step.refuse([_captcha_issue()])
    stored_hash = user.credentials.password_hash if user is not None else None
    # Unknown users are checked against a decoy, so every refusal costs the same.
    matches = tx.verify_password(stored_hash, command.password)
    if user is None or stored_hash is None or not matches or user.status is not UserStatus.ACTIVE:
        reason = "unknown user" if user is None else "wrong password or not active"
        return _failed(tx, user, counted, reason, error("auth.failed", _FAILED))
    changes: dict[str, Any] = {}
    if tx.hasher.needs_rehash(stored_hash):
        changes["credentials"] = attrs.evolve(
            user.credentials, password_hash=tx.hash_password(command.password)
        )
    refusal, mfa = _second_factor(tx, user, command.code, counted)
    if refusal is not None:
        return refusal
    if mfa is not None:
        changes["mfa"] = mfa

    def run() -> Authentication:
        tx.uow.users.update(attrs.evolve(user, last_sign_in_at=tx.now, **changes))
        tx.forget_guesses(counted.key)
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


def _second_factor(
    tx: Tx, user: User, code: str | None, counted: Counted
) -> tuple[Step[Any] | None, MfaState | None]:
    """Check the one-time code of a user with active MFA: a refusal, or the state to store."""
    if user.mfa.status is not MfaStatus.ACTIVE or user.mfa.secret is None:
        return None, None
    if code is None:
        issue = error("mfa.code_required", "a one-time code is required", field="code")
        return Step.refuse([issue]), None
    step = Totp(user.mfa.secret).verify(code, at=tx.now, last_step=user.mfa.last_step)
    if step is None:
        issue = error("mfa.code_invalid", "the code is not valid", field="code")
        return _failed(tx, user, counted, "wrong one-time code", issue), None
    return None, attrs.evolve(user.mfa, last_step=step)
