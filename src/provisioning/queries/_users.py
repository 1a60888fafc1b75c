"""Queries of users: a page of an account's users, one user, the administrators."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import attrs

from provisioning.commands import AddressText
from provisioning.errors import (
    InvalidValue,
    NotFound,
)
from provisioning.model import (
    EmailAddress,
    MfaStatus,
    User,
    UserStatus,
)
from provisioning.ports import Environment, UnitOfWork
from provisioning.principals import Actor
from provisioning.queries._base import (
    PAGE,
    Page,
    argument_invalid,
    check_page,
    cursor_invalid,
    listing,
    page_of,
    query,
)
from provisioning.rules.access import authorize, known, permissions_of

__all__ = ["UserPage", "UserSummary", "admins", "find_user", "find_users", "get_user", "users"]


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


UserPage = Page[UserSummary]
"""A page of users (the one `Page`, of `UserSummary` rows)."""


@query
def users(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    domain_id: str | None = None,
    search: str | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[UserSummary]:
    """Users of the account (or of one of its domains), sorted by username, one page at a time.

    `search` matches case-insensitively: "contains" over the username, the
    full name and the directory service, "equals" over the id. Needs
    `users.read` in the account. Pages are reached by `offset`, or, faster
    for deep pages, by passing the previous page's `next_cursor` as `after`
    (keyset paging: the store reads from the index where the last page ended).
    """
    check_page(offset, limit)
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
    return Page(
        items=tuple(UserSummary.of(u) for u in found),
        total=total,
        offset=offset,
        limit=limit,
        next_cursor=cursor,
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
        raise cursor_invalid() from exc
    if not isinstance(key, str) or not isinstance(user_id, str):
        raise cursor_invalid()
    return key, user_id


@query
def get_user(ctx: Environment, actor: Actor, user_id: str) -> User:
    """One user: for the user itself, or anyone holding `users.read` in its account.

    To an actor that holds nothing in the user's account, the user is as
    absent as an id nobody holds (`user.not_found`).
    """
    with ctx.store.snapshot() as uow:
        return _readable(uow, actor, uow.users.find(user_id), asked=user_id)


def _readable(uow: UnitOfWork, actor: Actor, found: User | None, *, asked: str) -> User:
    """`found`, if the actor may read it: itself, or with `users.read` in its account.

    Otherwise `user.not_found` naming what was `asked` for (never the id of
    a user the actor may not see), or `permission.denied` to a member of the
    user's account without `users.read`.
    """
    if found is not None and actor.user_id == found.id:
        return found
    user = known(uow, actor, "user", asked, found)
    if not actor.is_platform and not permissions_of(uow, actor, user.account_id):
        raise NotFound(entity="user", key=asked)
    authorize(uow, actor, "users.read", user.account_id)
    return user


@query
def find_user(
    ctx: Environment,
    actor: Actor,
    *,
    username: AddressText | None = None,
    address: AddressText | None = None,
    external_id: str | None = None,
    account_id: str | None = None,
    directory: str | None = None,
) -> User:
    """The user whose username is `username`, who holds `address`, or known as `external_id`.

    Give exactly one of the three: each is one indexed read. `address` is
    matched against usernames and aliases alike; `username` against
    usernames only. Case does not matter, nor does the domain's spelling
    (Unicode or punycode). `external_id` is case-exact, and needs the
    `account_id` it is unique in, and the `directory` of the users it is
    unique among (None: the users of no directory). The same rights as
    `get_user`: to an actor that may not read the user, it is as absent as
    an address nobody holds (`user.not_found`, naming what was asked for).

    Examples:
        >>> from provisioning import Actor, AddDomain, Context, CreateAccount, run
        >>> ctx, operator = Context.in_memory(), Actor.platform()
        >>> acme = run(ctx, operator, CreateAccount(name="Acme"))
        >>> _ = run(ctx, operator, AddDomain(account_id=acme.id, name="acme.example",
        ...                                  admin_email="it@home.example"))
        >>> str(find_user(ctx, operator, username="POSTMASTER@Acme.Example").username)
        'postmaster@acme.example'
    """
    given = [
        name
        for name, value in (
            ("username", username),
            ("address", address),
            ("external_id", external_id),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise argument_invalid("give username, address or external_id, one of them")
    if external_id is not None:
        if account_id is None:
            raise argument_invalid("an external id is looked up in an account: give account_id")
        with ctx.store.snapshot() as uow:
            found = uow.users.by_external_id(account_id, directory, external_id)
            return _readable(uow, actor, found, asked=external_id)
    asked = str(username if username is not None else address)[:320]
    key = _address_key(asked)
    with ctx.store.snapshot() as uow:
        found = uow.users.by_address(key) if key is not None else None
        if found is not None and username is not None and found.username.key != key:
            found = None  # an alias: not the username asked for
        return _readable(uow, actor, found, asked=asked)


@query
def find_users(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    username: AddressText | None = None,
    address: AddressText | None = None,
    external_id: str | None = None,
    directory: str | None = None,
    enabled: bool | None = None,
    changed_since: datetime | None = None,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[User]:
    """The account's users, in full, that match every filter given: sorted by username.

    For an integration (a SCIM filter, a sync): `username`, `address`
    (a username or an alias) and `external_id` (among the users of
    `directory`, None: of none) are each one indexed read, as in
    `find_user`; `enabled` and `changed_since` (changed after that instant)
    filter in the store. Needs `users.read` in the account; pages as
    `users` does (`after` is a page's `next_cursor`).
    """
    check_page(offset, limit)
    last = _cursor_of(after)
    status = None if enabled is None else (UserStatus.ACTIVE if enabled else UserStatus.DISABLED)
    with ctx.store.snapshot() as uow:
        listing(uow, actor, account_id, "users.read")
        if username is None and address is None and external_id is None:
            found, total = uow.users.page(
                account_id=account_id,
                offset=offset,
                limit=limit,
                after=last,
                status=None if status is None else status.value,
                changed_since=changed_since,
            )
        else:
            one = _one_of(
                uow,
                account_id,
                username=username,
                address=address,
                external_id=external_id,
                directory=directory,
            )
            matching = [
                user
                for user in ([] if one is None else [one])
                if (status is None or user.status is status)
                and (changed_since is None or user.updated_at > changed_since)
            ]
            found, total = (matching[offset:] if last is None else []), len(matching)
    cursor = _cursor(found[-1]) if len(found) == limit else None
    return Page(items=tuple(found), total=total, offset=offset, limit=limit, next_cursor=cursor)


def _one_of(
    uow: UnitOfWork,
    account_id: str,
    *,
    username: str | None,
    address: str | None,
    external_id: str | None,
    directory: str | None,
) -> User | None:
    """The one user of the account every key given names (None: none, or they disagree)."""
    named: list[User | None] = []
    if external_id is not None:
        named.append(uow.users.by_external_id(account_id, directory, external_id))
    for asked, alias_too in ((username, False), (address, True)):
        if asked is not None:
            key = _address_key(asked[:320])
            user = uow.users.by_address(key) if key is not None else None
            named.append(user if alias_too or user is None or user.username.key == key else None)
    first = named[0]
    if first is None or first.account_id != account_id:
        return None
    return first if all(user is not None and user.id == first.id for user in named) else None


def _address_key(text: str) -> str | None:
    """The key an address is indexed by (`EmailAddress.key`), or None for no address.

    An ASCII address needs no parsing to be looked up: its key is its
    lower-cased form, and one that is no address matches nothing.
    """
    text = text.strip()
    if text.isascii():
        local, at, domain = text.rpartition("@")
        return f"{local.casefold()}@{domain.lower()}" if at and local and domain else None
    try:
        return EmailAddress.parse(text, field="address").key
    except InvalidValue:
        return None


@query
def admins(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[User]:
    """The account's administrators, the super admin first, then by username; needs `users.read`."""
    with ctx.store.snapshot() as uow:
        listing(uow, actor, account_id, "users.read")
        found = [u for u in uow.users.of_account(account_id) if u.admin]
    found.sort(key=lambda u: (not u.super_admin, u.username.key, u.id))
    return page_of(found, offset, limit, after)
