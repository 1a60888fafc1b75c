"""Handlers for "forgot password": a one-time code to the alternate email or mobile.

Seed 000 asks for an alternate email or a company mobile so that password
recovery works. Neither handler tells an outsider anything: an unknown
username, a user without a recovery channel, a directory-managed one and one
that asked too often all get the same answer from `StartPasswordRecovery`,
and every problem with `CompletePasswordRecovery` is `recovery.invalid`.
Codes are kept only as argon2 hashes, expire, work once, allow a few wrong
tries, and a user may ask for only a few of them an hour.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Final

import attrs

from provisioning.commands import CompletePasswordRecovery, StartPasswordRecovery
from provisioning.errors import codes
from provisioning.model import (
    Credentials,
    Guess,
    Guessed,
    SignInPolicy,
    User,
    UserSource,
    UserStatus,
)
from provisioning.ports import Message, UnitOfWork
from provisioning.rules._tx import Step, Tx, error
from provisioning.rules.credentials import guess_key, new_password_issues, user_named

__all__ = [
    "RECOVERY_ATTEMPTS",
    "RECOVERY_GUESSES",
    "RECOVERY_REQUESTS",
    "RECOVERY_VALIDITY",
    "complete_password_recovery",
    "recovery_guess",
    "start_password_recovery",
]

CODES: Final = codes(
    unauthenticated=("recovery.invalid",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

RECOVERY_VALIDITY: Final = timedelta(minutes=15)
"""How long a recovery code works."""

RECOVERY_ATTEMPTS: Final = 5
"""Wrong codes tried before a code stops working."""

RECOVERY_REQUESTS: Final = 3
"""Codes a user may ask for within `RECOVERY_WINDOW`; more are not sent."""

RECOVERY_WINDOW: Final = timedelta(hours=1)

RECOVERY_GUESSES: Final = SignInPolicy(
    max_failures=RECOVERY_ATTEMPTS,
    wait_increment_s=int(RECOVERY_VALIDITY.total_seconds()),
    max_wait_s=int(RECOVERY_VALIDITY.total_seconds()),
    reset_after_s=int(RECOVERY_WINDOW.total_seconds()),
)
"""How many recovery codes a name may try, known or not: `RECOVERY_ATTEMPTS` in a row,
then one more each `RECOVERY_VALIDITY`; the count is forgotten after `RECOVERY_WINDOW`.
Each is counted before it is checked, so a batch of codes gets no more tries."""

logger = logging.getLogger("provisioning.security")


def _recoverable(user: User | None) -> bool:
    return (
        user is not None
        and user.source is UserSource.MANUAL
        and user.status is UserStatus.ACTIVE
        and _recipient(user) is not None
    )


def _recipient(user: User) -> tuple[str, str] | None:
    """Where a user's recovery code goes: (channel, address), or None when nowhere.

    An administrator's one-time codes go to its primary email; anyone
    else's to its alternate email, else by SMS to its mobile.
    """
    if user.admin and user.primary_email is not None:
        return "email", str(user.primary_email)
    if user.profile.alternate_email is not None:
        return "email", str(user.profile.alternate_email)
    if user.profile.mobile is not None:
        return "sms", str(user.profile.mobile)
    return None


def _code(token: str) -> str:
    """Eight digits, easy to type from a message, drawn from an unpredictable token."""
    return f"{int(hashlib.sha256(token.encode()).hexdigest(), 16) % 10**8:08d}"


def start_password_recovery(tx: Tx, command: StartPasswordRecovery) -> Step[None]:
    """Send a recovery code to where the user's one-time codes go (see `_recipient`).

    Nothing, and the same answer, for a name nobody holds or who has nowhere.
    """
    user = user_named(tx, command.username)
    if user is None or not _recoverable(user):
        return Step.proceed(lambda: None)  # the same answer: nothing tells the two apart
    credentials = user.credentials
    window = credentials.recovery_window_at
    fresh = window is None or window + RECOVERY_WINDOW <= tx.now
    requests = 1 if fresh else credentials.recovery_requests + 1
    if requests > RECOVERY_REQUESTS:
        logger.warning(
            "password recovery asked for too often",
            extra={"event": "recovery.throttled", "user_id": user.id},
        )
        return Step.proceed(lambda: None)
    code = _code(tx.token())
    recipient = _recipient(user)
    assert recipient is not None  # noqa: S101 - `_recoverable` said so
    channel, to = recipient

    def run() -> None:
        stored = attrs.evolve(
            credentials,
            recovery_code_hash=tx.hash_password(code),
            recovery_expires_at=tx.now + RECOVERY_VALIDITY,
            recovery_attempts=0,
            recovery_requests=requests,
            recovery_window_at=tx.now if fresh else window,
        )
        tx.uow.users.update(attrs.evolve(user, credentials=stored))
        tx.record(
            "StartPasswordRecovery",
            "user",
            user.id,
            account_id=user.account_id,
            detail=f"code sent by {channel}",
        )
        tx.notify(
            Message(
                template="password.recovery",
                to=to,
                channel=channel,
                data={
                    "username": str(user.username),
                    "channel": channel,
                    "expires_at": (tx.now + RECOVERY_VALIDITY).isoformat(timespec="minutes"),
                },
                secrets={"code": code},
            )
        )

    return Step.proceed(run)


_INVALID: Final = "this recovery code is not valid, was used, or has expired: ask for a new one"


def recovery_guess(reads: UnitOfWork, command: CompletePasswordRecovery) -> Guess:
    """A recovery code is a guess at the name typed, known or not (`RECOVERY_GUESSES`)."""
    del reads
    return Guess(key=guess_key("recovery", command.username), policy=RECOVERY_GUESSES)


def complete_password_recovery(tx: Tx, command: CompletePasswordRecovery) -> Step[None]:
    """Check the code and set the new password under the user's password policy."""
    user = user_named(tx, command.username)
    credentials = user.credentials if user is not None else None
    refusal = [error("recovery.invalid", _INVALID, field="code")]
    counted = tx.counted()
    if counted.verdict is not Guessed.CHECK:  # too many wrong codes: none is checked
        return Step.refuse(refusal)
    live = (
        user is not None
        and credentials is not None
        and _recoverable(user)
        and credentials.recovery_code_hash is not None
        and credentials.recovery_expires_at is not None
        and credentials.recovery_expires_at > tx.now
        and credentials.recovery_attempts < RECOVERY_ATTEMPTS
    )
    if live and credentials is not None and credentials.recovery_expires_at is not None:
        tx.until(credentials.recovery_expires_at)
    stored_hash = credentials.recovery_code_hash if live and credentials is not None else None
    # Always one verification, against a decoy without a live code: every refusal costs the same.
    matches = tx.verify_password(stored_hash, command.code.strip())
    if user is None or credentials is None or not live or not matches:
        if not live or user is None:
            return Step.refuse(refusal)
        wrong = user

        def record() -> None:
            current = tx.uow.users.get(wrong.id)
            tried = attrs.evolve(
                current.credentials, recovery_attempts=current.credentials.recovery_attempts + 1
            )
            tx.uow.users.update(attrs.evolve(current, credentials=tried))
            tx.record(
                "CompletePasswordRecovery",
                "user",
                wrong.id,
                account_id=wrong.account_id,
                detail=f"wrong code ({tried.recovery_attempts} of {RECOVERY_ATTEMPTS})",
            )

        return Step.refuse_recording(refusal, record)
    issues = new_password_issues(tx, user, command.password, command.password_repeat)
    recovering = user

    def run() -> None:
        chosen = Credentials(password_hash=tx.hash_password(command.password), changed_at=tx.now)
        tx.uow.users.update(attrs.evolve(recovering, credentials=chosen, updated_at=tx.now))
        # The code proved the user's own channel: its failed sign-ins are forgotten too.
        tx.forget_guesses(counted.key, guess_key("sign-in", command.username))
        tx.record(
            "CompletePasswordRecovery",
            "user",
            recovering.id,
            account_id=recovering.account_id,
            detail="password set with a recovery code",
        )

    return Step.proceed(run, issues)
