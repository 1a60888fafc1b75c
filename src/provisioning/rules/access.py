"""Rank and belonging: whom an actor may change, and what belongs to no account.

The rank rule itself (the actor holds everything the target holds) is
`Tx.outranks`; a handler that refuses on it without raising (a batch of
targets, a setting that protects the owners) says so with this one issue.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Protocol, TypeVar

from provisioning.errors import Issue, NotFound, PermissionDenied, codes
from provisioning.model import (
    ADMINISTRATOR_ROLE,
    PERMISSIONS,
    SYSTEM_ROLES,
    ApiClient,
    Role,
    Scope,
    SupportRelationship,
    User,
    UserStatus,
)
from provisioning.ports import UnitOfWork
from provisioning.principals import Actor, ActorKind
from provisioning.rules._issues import error

__all__ = [
    "ADMIN_PANEL_PERMISSIONS",
    "NEVER_DELEGATED",
    "NO_ACCOUNT",
    "Owned",
    "active_client",
    "authorize",
    "belongs_to",
    "client_permissions",
    "held_by",
    "known",
    "member_of",
    "no_account",
    "open_relationship",
    "opens_panel",
    "permissions_of",
    "roles",
    "target_outranks",
]

CODES: Final = codes(
    invalid=("user.no_account",),
    denied=("permission.target_outranks",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


NEVER_DELEGATED: Final = frozenset(
    {"accounts.delete", "admins.manage", "clients.manage", "grants.manage", "roles.manage"}
)
"""Permissions no role a parent asks a customer for may hold (nor any `support.*` one).

A support agent never holds them in the customer, even through a role
approved before it gained one (see `permissions_of`)."""


def target_outranks(message: str, *, field: str) -> Issue:
    """`permission.target_outranks`: what the actor may not do to someone who outranks it."""
    return error("permission.target_outranks", message, field=field)


def no_account(message: str, *, field: str = "user_id") -> Issue:
    """`user.no_account`: the change needs a user of an account, and this one is of none."""
    return error("user.no_account", message, field=field)


def permissions_of(
    uow: UnitOfWork, actor: Actor, account_id: str | None, mailbox_id: str | None = None
) -> frozenset[str]:
    """Every permission `actor` holds in the account (or one of its mailboxes).

    The platform operator holds every catalogued permission everywhere. A user
    holds the union of its grant's roles and individually granted permissions
    in that exact scope, and what its class of service gives in its own
    account (see `held_by`); a disabled or unknown user holds nothing, and nobody
    but the operator holds anything at platform level (`account_id` None).
    A support actor holds what its session's relationship allows, in the
    customer account only (see `open_relationship`). An API client holds
    what its roles and permissions give, in its own account only, while it
    is active (see `active_client`).
    """
    if actor.is_platform:
        return frozenset(PERMISSIONS)
    if actor.kind is ActorKind.CLIENT:
        client = active_client(uow, actor)
        in_its_account = client is not None and (account_id, mailbox_id) == (
            client.account_id,
            None,
        )
        return client_permissions(uow, client) if client and in_its_account else frozenset()
    if actor.kind is ActorKind.SUPPORT:
        return _agent_permissions(uow, actor, account_id, mailbox_id)
    if account_id is None or actor.user_id is None:
        return frozenset()
    user = uow.users.find(actor.user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        return frozenset()
    return held_by(uow, user.id, account_id, mailbox_id, user=user)


def _agent_permissions(
    uow: UnitOfWork, actor: Actor, account_id: str | None, mailbox_id: str | None
) -> frozenset[str]:
    """What a support actor holds: its relationship's roles, in the customer account only."""
    relationship = open_relationship(uow, actor)
    if relationship is None or account_id != relationship.customer_id or mailbox_id is not None:
        return frozenset()
    return frozenset(
        name
        for role in roles(uow, relationship.role_ids).values()
        if role.scope is Scope.ACCOUNT and role.account_id in (None, account_id)
        for name in role.permissions
        # never the customer's say over its own access, nor a way in that outlives the session
        if not name.startswith("support.") and name not in NEVER_DELEGATED
    )


def open_relationship(uow: UnitOfWork, actor: Actor) -> SupportRelationship | None:
    """The relationship a support actor acts through, if it may act at the instant it was checked.

    That is: its session is neither closed nor expired, the relationship is
    active and unexpired, and the agent is still an active user who holds
    `support.act` in the parent. Anything less, and the actor holds nothing.
    """
    now = actor.at
    session = uow.sessions.find(actor.session_id or "")
    if now is None or session is None or not session.open_at(now):
        return None
    relationship = uow.relationships.find(session.relationship_id)
    if relationship is None or not relationship.active_at(now):
        return None
    agent = uow.users.find(session.agent_id)
    if agent is None or agent.status is not UserStatus.ACTIVE:
        return None
    if "support.act" not in held_by(uow, agent.id, session.parent_id, user=agent):
        return None
    return relationship


def active_client(uow: UnitOfWork, actor: Actor) -> ApiClient | None:
    """The API client acting, if it may act at the instant it was checked (else None).

    It may while it is neither revoked nor expired; a client actor that was
    never stamped with the clock (`Actor.checked_at`) holds nothing.
    """
    if actor.at is None or actor.client_id is None:
        return None
    client = uow.clients.find(actor.client_id)
    return client if client is not None and client.active_at(actor.at) else None


def client_permissions(uow: UnitOfWork, client: ApiClient) -> frozenset[str]:
    """What a client's roles (the system ones and its account's) and permissions give it.

    This is also its rank, whether or not it is active: whoever changes it
    must hold all of it.
    """
    return client.permissions.union(
        *(
            role.permissions
            for role in roles(uow, client.role_ids).values()
            if role.scope is Scope.ACCOUNT and role.account_id in (None, client.account_id)
        )
    ).intersection(PERMISSIONS)


def member_of(uow: UnitOfWork, actor: Actor, account_id: str | None) -> bool:
    """Whether the actor may know what the account holds: whether it belongs there.

    The operator belongs everywhere; a user to the account it is one of, or
    holds a grant in (`belongs_to`); a support actor to the customer its open
    session is in; an active API client to its own account; nobody to the
    platform level (`account_id` None).
    """
    if actor.is_platform:
        return True
    if account_id is None:
        return False
    if actor.session_id is not None:
        return bool(permissions_of(uow, actor, account_id))
    if actor.client_id is not None:
        client = active_client(uow, actor)
        return client is not None and client.account_id == account_id
    me = None if actor.user_id is None else uow.users.find(actor.user_id)
    return me is not None and belongs_to(uow, me, account_id)


class Owned(Protocol):
    """An entity of an account (or, with `account_id` None, of the platform)."""

    @property
    def account_id(self) -> str | None:
        """The account it belongs to."""
        ...


_Owned = TypeVar("_Owned", bound=Owned)


NO_ACCOUNT: Final = "-no account-"
"""An account id nobody holds: what an absent id's decoy look-up of membership asks about.

No id starts with `-` or holds a space (`id.invalid`), and every store keeps
it as text (PostgreSQL refuses a NUL in text, so it must hold none)."""


def known(
    uow: UnitOfWork, actor: Actor, entity: str, entity_id: str, found: _Owned | None
) -> _Owned:
    """`found`, if the actor may know that it exists; else `NotFound`.

    An entity of an account is known to the account's members (and the
    operator); a platform-wide one (`account_id` None) is no secret. To
    anyone else an entity of another account is as absent as an id nobody
    holds. An absent id costs the same look-up of the actor's membership as
    a foreign one, so the time an answer takes tells the two apart less
    (what is left of the difference: `docs/access.md`).
    """
    account_id = NO_ACCOUNT if found is None else found.account_id
    if (account_id is not None and not member_of(uow, actor, account_id)) or found is None:
        raise NotFound(entity=entity, key=entity_id)
    return found


def belongs_to(uow: UnitOfWork, user: User, account_id: str) -> bool:
    """Whether `user` is one of the account's own users or holds a grant there.

    Such a user is known to the account: its members may learn it exists.
    """
    return (
        user.account_id == account_id or uow.grants.for_scope(user.id, account_id, None) is not None
    )


ADMIN_PANEL_PERMISSIONS: Final = SYSTEM_ROLES[ADMINISTRATOR_ROLE].permissions
"""What a class of service that opens the admin panel gives its holders in their account."""


def held_by(
    uow: UnitOfWork,
    user_id: str,
    account_id: str,
    mailbox_id: str | None = None,
    *,
    user: User | None = None,
) -> frozenset[str]:
    """What the user holds in that scope, whatever the user's status.

    That is its grant there (roles and individual permissions) and, in its
    own account, what its class of service gives: `system:administrator`'s
    permissions when the class opens the admin panel. This is also the
    user's rank, which counts when someone acts on it: a disabled owner
    still outranks an administrator, who must not enable it again. `user` is
    the user itself when the caller has read it already.
    """
    grant = uow.grants.for_scope(user_id, account_id, mailbox_id)
    held: set[str] = set()
    if grant is not None:
        held.update(grant.permissions)
        for role in roles(uow, grant.role_ids).values():
            if role.account_id in (None, account_id):
                held.update(role.permissions)
    if mailbox_id is None and opens_panel(
        uow, user if user is not None else uow.users.find(user_id), account_id
    ):
        held.update(ADMIN_PANEL_PERMISSIONS)
    return frozenset(held)


def opens_panel(uow: UnitOfWork, user: User | None, account_id: str) -> bool:
    """Whether `user` is a user of the account whose class of service opens the admin panel."""
    if user is None or user.account_id != account_id or user.cos_id is None:
        return False
    cos = uow.classes_of_service.find(user.cos_id)
    return cos is not None and cos.admin_panel and not cos.system


def roles(uow: UnitOfWork, role_ids: Iterable[str]) -> dict[str, Role]:
    """The roles among `role_ids` that exist.

    System roles come from the catalogue, custom roles from the store.
    """
    wanted = list(dict.fromkeys(role_ids))
    found = {i: SYSTEM_ROLES[i] for i in wanted if i in SYSTEM_ROLES}
    custom = [i for i in wanted if i not in SYSTEM_ROLES]
    if custom:
        found.update(uow.roles.get_many(custom))
    return found


def authorize(
    uow: UnitOfWork,
    actor: Actor,
    permission: str,
    account_id: str | None,
    mailbox_id: str | None = None,
) -> None:
    """Return if `actor` holds `permission` in that scope; raise `PermissionDenied` if not."""
    if permission not in PERMISSIONS:
        msg = f"unknown permission {permission!r}"
        raise ValueError(msg)
    if permission not in permissions_of(uow, actor, account_id, mailbox_id):
        raise PermissionDenied(actor=str(actor), permission=permission, account_id=account_id)
