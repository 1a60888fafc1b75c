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
from html import escape
from typing import Any, Final, Generic, Protocol, TypeVar

import attrs

from provisioning._checks import argument_checker
from provisioning.exceptions import (
    InternalError,
    InvalidValue,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    UsageError,
)
from provisioning.model import (
    SYSTEM_ROLES,
    Account,
    AuditEvent,
    ClassOfService,
    Device,
    DirectNumber,
    Domain,
    DomainStatus,
    EmailAddress,
    Grant,
    Invitation,
    InvitationStatus,
    Mailbox,
    MfaStatus,
    PhoneSeat,
    Role,
    StationPackage,
    SupportRelationship,
    SupportSession,
    User,
    UserStatus,
)
from provisioning.ports import Environment, UnitOfWork
from provisioning.principals import Actor
from provisioning.services import authorize, known, member_of, permissions_of
from provisioning.services.domains import former_users as _former_users

__all__ = [
    "MAX_PAGE",
    "Page",
    "SendDecision",
    "UserPage",
    "UserSummary",
    "accounts",
    "admins",
    "audit_log",
    "classes_of_service",
    "customers",
    "devices",
    "domains",
    "former_users",
    "get_account",
    "get_class_of_service",
    "get_domain",
    "get_grant",
    "get_invitation",
    "get_mailbox",
    "get_role",
    "get_user",
    "grants",
    "invitations",
    "mailboxes",
    "may_send",
    "pending_invitations",
    "permissions",
    "phone_numbers",
    "phone_seat",
    "roles",
    "station_packages",
    "support_relationships",
    "support_sessions",
    "user_devices",
    "users",
]


MAX_PAGE: Final = 10_000
"""The largest `limit` a paged query takes."""

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")
_S = TypeVar("_S", SupportRelationship, SupportSession)


def _query(function: _F) -> _F:
    """Check a query's arguments and type whatever fails unexpectedly inside it."""
    signature = inspect.signature(function)
    check = argument_checker(function)

    @functools.wraps(function)
    def query(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the query's own result
        bound = signature.bind(*args, **kwargs)
        actor, ctx = bound.arguments.get("actor"), bound.arguments.get("ctx")
        if isinstance(actor, Actor) and actor.session_id is not None and ctx is not None:
            bound.arguments["actor"] = actor.checked_at(ctx.clock.now())  # sessions end by clock
            args, kwargs = bound.args, bound.kwargs
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
def accounts(ctx: Environment, actor: Actor) -> list[Account]:
    """The accounts the actor holds a permission in (every one, for the operator), by name."""
    with ctx.store.snapshot() as uow:
        return [a for a in uow.accounts.every() if permissions_of(uow, actor, a.id)]


@_query
def phone_numbers(
    ctx: Environment, actor: Actor, account_id: str, *, free_only: bool = False
) -> list[DirectNumber]:
    """The account's phone numbers in E.164 order (those assigned to nobody, with `free_only`).

    Needs `phones.manage` in the account.
    """
    with ctx.store.snapshot() as uow:
        _phones(uow, actor, account_id)
        found = uow.numbers.of_account(account_id)
    return [n for n in found if n.user_id is None] if free_only else found


@_query
def devices(
    ctx: Environment, actor: Actor, account_id: str, *, free_only: bool = False
) -> list[Device]:
    """The account's devices by MAC address (those assigned to nobody, with `free_only`).

    Needs `phones.manage` in the account.
    """
    with ctx.store.snapshot() as uow:
        _phones(uow, actor, account_id)
        found = uow.devices.of_account(account_id)
    return [d for d in found if d.user_id is None] if free_only else found


@_query
def user_devices(ctx: Environment, actor: Actor, user_id: str) -> list[Device]:
    """The user's devices, its primary first, for whoever may read the account's users."""
    with ctx.store.snapshot() as uow:
        return uow.devices.of_user(_readable_user(uow, actor, user_id).id)


@_query
def customers(
    ctx: Environment, actor: Actor, parent_id: str, search: str | None = None
) -> list[Account]:
    """The parent's customer accounts by name, those whose name holds `search` with one.

    The customer service tool of a parent: for its support staff
    (`support.act`) and those who manage its support access (`support.manage`).
    """
    with ctx.store.snapshot() as uow:
        held = permissions_of(uow, actor, parent_id)
        if not held & {"support.act", "support.manage"}:
            raise PermissionDenied(actor=str(actor), permission="support.act", account_id=parent_id)
        found = uow.accounts.children(parent_id)
    wanted = (search or "").strip().casefold()
    return [account for account in found if wanted in account.name.casefold()]


class _BothSides(Protocol[_S]):
    """A repository of what a parent and a customer share: relationships, sessions."""

    def of_parent(self, parent_id: str, /) -> list[_S]: ...

    def of_customer(self, customer_id: str, /) -> list[_S]: ...


def _support_rows(
    uow: UnitOfWork, actor: Actor, account_id: str, rows: _BothSides[_S]
) -> dict[str, _S]:
    """The rows of `rows` the account is a side of, by id, as the actor may see them.

    As the parent for holders of `support.manage` there, as the customer for
    holders of `support.approve`; for anyone else, `PermissionDenied`.
    """
    held = permissions_of(uow, actor, account_id)
    as_parent, as_customer = "support.manage" in held, "support.approve" in held
    if not (as_parent or as_customer):
        raise PermissionDenied(
            actor=str(actor), permission="support.approve", account_id=account_id
        )
    found = {row.id: row for row in rows.of_parent(account_id)} if as_parent else {}
    if as_customer:
        found |= {row.id: row for row in rows.of_customer(account_id)}
    return found


@_query
def support_relationships(
    ctx: Environment, actor: Actor, account_id: str
) -> list[SupportRelationship]:
    """The relationships the account is a side of, oldest request first.

    As a parent for holders of `support.manage` there, as a customer for
    holders of `support.approve` (its owners). Expired ones are `active`
    with an `expires_at` in the past: see `SupportRelationship.active_at`.
    """
    with ctx.store.snapshot() as uow:
        found = _support_rows(uow, actor, account_id, uow.relationships)
    return sorted(found.values(), key=lambda r: (r.requested_at, r.id))


@_query
def support_sessions(ctx: Environment, actor: Actor, account_id: str) -> list[SupportSession]:
    """Who accessed the account as support, and when (or whom its agents accessed), oldest first.

    A customer's owners see every session opened in it; a parent's support
    managers every session its agents opened.
    """
    with ctx.store.snapshot() as uow:
        found = _support_rows(uow, actor, account_id, uow.sessions)
    return sorted(found.values(), key=lambda s: (s.opened_at, s.id))


@_query
def station_packages(
    ctx: Environment, actor: Actor, account_id: str, *, free_only: bool = False
) -> list[StationPackage]:
    """The account's station packages by name, each with how many are owned, in use and free.

    With `free_only`, those with a station left. Needs `phones.manage` in the account.
    """
    with ctx.store.snapshot() as uow:
        _phones(uow, actor, account_id)
        found = uow.stations.of_account(account_id)
    return [s for s in found if s.free > 0] if free_only else found


@_query
def phone_seat(ctx: Environment, actor: Actor, user_id: str) -> PhoneSeat | None:
    """The user's phone seat (None without one), for whoever may read the account's users."""
    with ctx.store.snapshot() as uow:
        return uow.seats.of_user(_readable_user(uow, actor, user_id).id)


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
    newest_first: bool = False,
) -> list[AuditEvent]:
    """The account's audit events, oldest first, optionally of one entity, a page at a time.

    Needs `audit.read` in the account. The stores answer from an index on
    the account (or entity) and the order events were recorded in, read
    backwards with `newest_first` (the latest page first).
    """
    _check_page(offset, MAX_PAGE if limit is None else limit)
    with ctx.store.snapshot() as uow:
        authorize(uow, actor, "audit.read", account_id)
        return uow.audit.events(
            account_id=account_id,
            entity_id=entity_id,
            offset=offset,
            limit=limit,
            newest_first=newest_first,
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

    def _repr_html_(self) -> str:
        """The page as an HTML table, for notebooks."""
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(value)}</td>"
                for value in (
                    user.username,
                    user.full_name,
                    user.directory_service or "",
                    "yes" if user.enabled else "no",
                    "yes" if user.mfa_required else "no",
                    "yes" if user.mfa_initialised else "no",
                )
            )
            + "</tr>"
            for user in self.items
        )
        last = self.offset + len(self.items)
        shown = f"{self.offset + 1:,} to {last:,}" if self.items else "none"
        return (
            f"<p><b>Users</b> {shown} of {self.total:,}</p><table><thead><tr><th>username</th>"
            "<th>name</th><th>directory</th><th>enabled</th><th>MFA required</th>"
            f"<th>MFA set up</th></tr></thead><tbody>{rows}</tbody></table>"
        )


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
        found = uow.users.find(user_id)
        if found is not None and actor.user_id == found.id:
            return found
        user = known(uow, actor, "user", user_id, found)
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


# -- look-ups of every other entity -------------------------------------------------------------


@attrs.frozen
class Page(Generic[_T]):
    """One page of a list, and how many items the list holds in all."""

    items: tuple[_T, ...]
    total: int
    offset: int
    limit: int


def _page(items: list[_T], offset: int, limit: int) -> Page[_T]:
    _check_page(offset, limit)
    return Page(
        items=tuple(items[offset : offset + limit]), total=len(items), offset=offset, limit=limit
    )


def _known_account(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    """`NotFound` unless the actor belongs to the account: to outsiders, no such account."""
    if not member_of(uow, actor, account_id):
        raise NotFound(entity="account", key=account_id)


def _readable_user(uow: UnitOfWork, actor: Actor, user_id: str) -> User:
    """The user, for whoever may read its account's users; to outsiders, no such user."""
    user = known(uow, actor, "user", user_id, uow.users.find(user_id))
    if user.account_id is not None:
        authorize(uow, actor, "users.read", user.account_id)
    return user


def _phones(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    """Reading an account's phone inventories: for holders of `phones.manage` in it."""
    authorize(uow, actor, "phones.manage", account_id)
    uow.accounts.get(account_id)


def _listing(uow: UnitOfWork, actor: Actor, account_id: str, permission: str) -> None:
    """Listing what an account holds: for holders of `permission`; to outsiders, no account."""
    _known_account(uow, actor, account_id)
    authorize(uow, actor, permission, account_id)


def _reading(uow: UnitOfWork, actor: Actor, account_id: str) -> None:
    """Reading what an account holds: members of it only; to anyone else it does not exist."""
    _known_account(uow, actor, account_id)
    _member(uow, actor, account_id)
    uow.accounts.get(account_id)


@_query
def domains(ctx: Environment, actor: Actor, account_id: str) -> list[Domain]:
    """The account's domains, sorted by name, for anyone holding a permission in it."""
    with ctx.store.snapshot() as uow:
        _reading(uow, actor, account_id)
        return sorted(uow.domains.of_account(account_id), key=lambda d: d.name.ascii)


@_query
def get_domain(ctx: Environment, actor: Actor, domain_id: str) -> Domain:
    """One domain (with its version), for anyone holding a permission in its account."""
    with ctx.store.snapshot() as uow:
        domain = known(uow, actor, "domain", domain_id, uow.domains.find(domain_id))
        _member(uow, actor, domain.account_id)
        return domain


@_query
def get_class_of_service(ctx: Environment, actor: Actor, cos_id: str) -> ClassOfService:
    """One class of service: a platform-wide one for anyone, an account's for its members."""
    with ctx.store.snapshot() as uow:
        cos = known(uow, actor, "cos", cos_id, uow.classes_of_service.find(cos_id))
        if cos.account_id is not None:
            _member(uow, actor, cos.account_id)
        return cos


@_query
def roles(ctx: Environment, actor: Actor, account_id: str) -> list[Role]:
    """The roles usable in the account: the system roles, then the account's own, by name."""
    with ctx.store.snapshot() as uow:
        _reading(uow, actor, account_id)
        own = sorted(uow.roles.of_account(account_id), key=lambda r: (r.name.casefold(), r.id))
        return [*SYSTEM_ROLES.values(), *own]


@_query
def get_role(ctx: Environment, actor: Actor, role_id: str) -> Role:
    """One role: a system role for anyone, an account's custom role for its members."""
    if role_id in SYSTEM_ROLES:
        return SYSTEM_ROLES[role_id]
    with ctx.store.snapshot() as uow:
        role = known(uow, actor, "role", role_id, uow.roles.find(role_id))
        if role.account_id is not None:
            _member(uow, actor, role.account_id)
        return role


@_query
def mailboxes(
    ctx: Environment, actor: Actor, account_id: str, *, offset: int = 0, limit: int = 50
) -> Page[Mailbox]:
    """The account's mailboxes, shared and personal, sorted by address; needs `mailboxes.manage`."""
    with ctx.store.snapshot() as uow:
        _listing(uow, actor, account_id, "mailboxes.manage")
        found = sorted(uow.mailboxes.of_account(account_id), key=lambda m: (m.address.key, m.id))
    return _page(found, offset, limit)


@_query
def get_mailbox(ctx: Environment, actor: Actor, mailbox_id: str) -> Mailbox:
    """One mailbox: for whoever holds `mailboxes.manage` in its account or a grant in it."""
    with ctx.store.snapshot() as uow:
        mailbox = known(uow, actor, "mailbox", mailbox_id, uow.mailboxes.find(mailbox_id))
        if not permissions_of(uow, actor, mailbox.account_id, mailbox.id):
            authorize(uow, actor, "mailboxes.manage", mailbox.account_id)
        return mailbox


@_query
def grants(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    user_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[Grant]:
    """The grants in the account (or of one user there), account scope first; needs `grants.manage`.

    A user may always list its own grants in an account.
    """
    with ctx.store.snapshot() as uow:
        if user_id is None or user_id != actor.user_id:
            _listing(uow, actor, account_id, "grants.manage")
        else:
            _known_account(uow, actor, account_id)
        found = (
            uow.grants.of_account(account_id)
            if user_id is None
            else [g for g in uow.grants.of_user(user_id) if g.account_id == account_id]
        )
    found.sort(key=lambda g: (g.mailbox_id is not None, g.mailbox_id or "", g.user_id, g.id))
    return _page(found, offset, limit)


@_query
def get_grant(ctx: Environment, actor: Actor, grant_id: str) -> Grant:
    """One grant: for the user holding it, or whoever holds `grants.manage` in its account."""
    with ctx.store.snapshot() as uow:
        grant = known(uow, actor, "grant", grant_id, uow.grants.find(grant_id))
        if grant.user_id != actor.user_id:
            authorize(uow, actor, "grants.manage", grant.account_id)
        return grant


@_query
def admins(
    ctx: Environment, actor: Actor, account_id: str, *, offset: int = 0, limit: int = 50
) -> Page[User]:
    """The account's administrators, the super admin first, then by username; needs `users.read`."""
    with ctx.store.snapshot() as uow:
        _listing(uow, actor, account_id, "users.read")
        found = [u for u in uow.users.of_account(account_id) if u.admin]
    found.sort(key=lambda u: (not u.super_admin, u.username.key, u.id))
    return _page(found, offset, limit)


@_query
def get_invitation(ctx: Environment, actor: Actor, invitation_id: str) -> Invitation:
    """One invitation: for whoever holds `invitations.send` in its account."""
    with ctx.store.snapshot() as uow:
        invitation = known(
            uow, actor, "invitation", invitation_id, uow.invitations.find(invitation_id)
        )
        authorize(uow, actor, "invitations.send", invitation.account_id)
        return invitation


@attrs.frozen
class SendDecision:
    """Whether an address may send through a domain, and why (a stable `reason` code)."""

    allowed: bool
    reason: str


@_query
def may_send(ctx: Environment, actor: Actor, sender: str, domain_id: str) -> SendDecision:
    """Whether `sender` may send mail through the domain (seed 003's relay rule).

    The domain must be active. Its own addresses may send, and so may those
    of its primary domain: in both cases only a registered sender, an address
    a user (username or alias) or a shared mailbox of the domain's account
    holds. Reasons: `sender.allowed`, `sender.invalid`, `domain.not_active`,
    `sender.foreign_domain` (neither the domain nor its primary domain),
    `sender.unregistered`. For anyone holding a permission in the domain's
    account.
    """
    with ctx.store.snapshot() as uow:
        domain = known(uow, actor, "domain", domain_id, uow.domains.find(domain_id))
        _member(uow, actor, domain.account_id)
        try:
            address = EmailAddress.parse(sender, field="sender")
        except InvalidValue:
            return SendDecision(allowed=False, reason="sender.invalid")
        if domain.status is not DomainStatus.ACTIVE:
            return SendDecision(allowed=False, reason="domain.not_active")
        if address.domain not in {domain.name, domain.primary_domain}:
            return SendDecision(allowed=False, reason="sender.foreign_domain")
        holder = uow.users.by_address(address.key)
        mailbox = uow.mailboxes.by_address(address)
        registered = (holder is not None and holder.account_id == domain.account_id) or (
            mailbox is not None and mailbox.account_id == domain.account_id
        )
        if not registered:
            return SendDecision(allowed=False, reason="sender.unregistered")
        return SendDecision(allowed=True, reason="sender.allowed")


@_query
def former_users(ctx: Environment, actor: Actor, domain_id: str) -> list[User]:
    """The users a deleted account left on the domain, by username; needs `users.manage`.

    They are for the account that holds the domain now to adopt or remove
    (`SettleFormerUsers`).
    """
    with ctx.store.snapshot() as uow:
        domain = known(uow, actor, "domain", domain_id, uow.domains.find(domain_id))
        authorize(uow, actor, "users.manage", domain.account_id)
        return sorted(_former_users(uow, domain), key=lambda u: (u.username.key, u.id))
