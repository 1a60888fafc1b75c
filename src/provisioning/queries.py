"""Queries: read-only views for callers, each checked against the actor's permissions.

Queries read repositories directly and never write; each runs in its own
read-only snapshot, which neither waits for a writer nor holds one up. Every
argument is checked against its annotation first (`UsageError`
`query.argument_invalid`), and paging arguments against their bounds
(`query.page_invalid`: an offset from 0, a limit from 1 to `MAX_PAGE`).
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, Final, TypeVar

import attrs

from provisioning._checks import argument_checker
from provisioning.exceptions import (
    InternalError,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    UsageError,
)
from provisioning.model import (
    Account,
    AuditEvent,
    ClassOfService,
    Invitation,
    InvitationStatus,
    MfaStatus,
    User,
    UserStatus,
)
from provisioning.ports import Environment, UnitOfWork
from provisioning.principals import Actor
from provisioning.services import authorize, permissions_of

__all__ = [
    "MAX_PAGE",
    "UserPage",
    "UserSummary",
    "audit_log",
    "classes_of_service",
    "get_account",
    "get_user",
    "invitations",
    "pending_invitations",
    "permissions",
    "users",
]


MAX_PAGE: Final = 10_000
"""The largest `limit` a paged query takes."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _query(function: _F) -> _F:
    """Check a query's arguments and type whatever fails unexpectedly inside it."""
    signature = inspect.signature(function)
    check = argument_checker(function)

    @functools.wraps(function)
    def query(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the query's own result
        bound = signature.bind(*args, **kwargs)
        values = {k: v for k, v in bound.arguments.items() if k not in {"ctx", "actor"}}
        issues = check(values)
        if issues:
            raise UsageError(
                code="query.argument_invalid", reason="; ".join(str(i) for i in issues)
            )
        try:
            return function(*args, **kwargs)
        except ProvisioningError:
            raise
        except Exception as exc:
            raise InternalError(where=function.__name__, cause=exc) from exc

    return query  # type: ignore[return-value]


def _member(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    if not permissions_of(uow, actor, account_id):
        raise PermissionDenied(actor=str(actor), permission="(any)", account_id=account_id)


@_query
def permissions(
    ctx: Environment, actor: Actor, account_id: str | None, mailbox_id: str | None = None
) -> frozenset[str]:
    """What `actor` may do in the account (or one mailbox of it): for UIs to show or hide."""
    with ctx.store.snapshot() as uow:
        return permissions_of(uow, actor, account_id, mailbox_id)


@_query
def get_account(ctx: Environment, actor: Actor, account_id: str) -> Account:
    """The account, for anyone holding a permission in it; `NotFound` if it does not exist."""
    with ctx.store.snapshot() as uow:
        _member(uow, actor, account_id)
        return uow.accounts.get(account_id)


@_query
def classes_of_service(
    ctx: Environment, actor: Actor, account_id: str | None
) -> list[ClassOfService]:
    """The platform-wide classes of service, then the account's own, each sorted by name.

    With `account_id` None, only the platform-wide ones (the operator only).
    """
    with ctx.store.snapshot() as uow:
        if account_id is None:
            if not actor.is_platform:
                raise PermissionDenied(actor=str(actor), permission="(any)", account_id=None)
            return uow.classes_of_service.of_account(None)
        _member(uow, actor, account_id)
        uow.accounts.get(account_id)
        return [
            *uow.classes_of_service.of_account(None),
            *uow.classes_of_service.of_account(account_id),
        ]


@_query
def audit_log(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    entity_id: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[AuditEvent]:
    """The account's audit events, oldest first, optionally of one entity, a page at a time.

    Needs `audit.read` in the account. The stores answer from an index on
    the account (or entity) and the order events were recorded in.
    """
    _check_page(offset, MAX_PAGE if limit is None else limit)
    with ctx.store.snapshot() as uow:
        authorize(uow, actor, "audit.read", account_id)
        return uow.audit.events(
            account_id=account_id, entity_id=entity_id, offset=offset, limit=limit
        )


@attrs.frozen
class UserSummary:
    """One row of a user list: what an administrator scans for."""

    id: str
    username: str
    full_name: str
    directory_service: str | None
    mfa_required: bool
    mfa_initialised: bool
    enabled: bool

    @classmethod
    def of(cls, user: User) -> UserSummary:
        """The summary of `user`."""
        return cls(
            id=user.id,
            username=str(user.username),
            full_name=user.profile.display_name or user.profile.full_name,
            directory_service=user.directory_service,
            mfa_required=user.mfa.required,
            mfa_initialised=user.mfa.status is MfaStatus.ACTIVE,
            enabled=user.status is UserStatus.ACTIVE,
        )


@attrs.frozen
class UserPage:
    """One page of users and how many match in all."""

    items: tuple[UserSummary, ...]
    total: int
    offset: int
    limit: int
    next_cursor: str | None = None
    """Pass as `after` for the next page; None on the last page."""


@_query
def users(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    domain_id: str | None = None,
    search: str | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
    after: str | None = None,
) -> UserPage:
    """Users of the account (or of one of its domains), sorted by username, one page at a time.

    `search` matches case-insensitively: "contains" over the username, the
    full name and the directory service, "equals" over the id. Needs
    `users.read` in the account. Pages are reached by `offset`, or, faster
    for deep pages, by passing the previous page's `next_cursor` as `after`
    (keyset paging: the store reads from the index where the last page ended).
    """
    _check_page(offset, limit)
    last = _cursor_of(after)
    with ctx.store.snapshot() as uow:
        authorize(uow, actor, "users.read", account_id)
        text = search.strip() if search is not None else None
        found, total = uow.users.page(
            account_id=account_id,
            domain_id=domain_id,
            text=text or None,
            descending=descending,
            offset=offset,
            limit=limit,
            after=last,
        )
    cursor = _cursor(found[-1]) if len(found) == limit else None
    return UserPage(
        items=tuple(UserSummary.of(u) for u in found),
        total=total,
        offset=offset,
        limit=limit,
        next_cursor=cursor,
    )


def _check_page(offset: int, limit: int) -> None:
    if not 0 <= offset < 2**53 or not 1 <= limit <= MAX_PAGE:
        raise UsageError(
            code="query.page_invalid",
            reason=f"offset must be 0 or more and limit from 1 to {MAX_PAGE}",
        )


def _cursor(user: User) -> str:
    raw = json.dumps([user.username.key, user.id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_of(cursor: str | None) -> tuple[str, str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, user_id = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise UsageError(code="query.cursor_invalid", reason="not a cursor of this query") from exc
    if not isinstance(key, str) or not isinstance(user_id, str):
        raise UsageError(code="query.cursor_invalid", reason="not a cursor of this query")
    return key, user_id


@_query
def get_user(ctx: Environment, actor: Actor, user_id: str) -> User:
    """One user: for the user itself, or anyone holding `users.read` in its account.

    To an actor that holds nothing in the user's account, the user is as
    absent as an id nobody holds (`user.not_found`).
    """
    with ctx.store.snapshot() as uow:
        user = uow.users.get(user_id)
        if actor.user_id != user.id:
            if not actor.is_platform and not permissions_of(uow, actor, user.account_id):
                raise NotFound(entity="user", key=user_id)
            authorize(uow, actor, "users.read", user.account_id)
        return user


@_query
def pending_invitations(ctx: Environment, actor: Actor) -> list[Invitation]:
    """The invitations waiting for the acting user: to its username or an alias, unexpired."""
    now = ctx.clock.now()
    with ctx.store.snapshot() as uow:
        user = uow.users.find(actor.user_id) if actor.user_id else None
        if user is None:
            return []
        found = []
        for address in (user.username.address, *user.aliases):
            found += [
                i
                for i in uow.invitations.of_email(address)
                if i.status is InvitationStatus.PENDING and i.expires_at > now
            ]
        return sorted(found, key=lambda i: (i.created_at, i.id))


@_query
def invitations(ctx: Environment, actor: Actor, account_id: str) -> list[Invitation]:
    """Every invitation of the account, oldest first; needs `invitations.send`."""
    with ctx.store.snapshot() as uow:
        authorize(uow, actor, "invitations.send", account_id)
        return uow.invitations.of_account(account_id)
