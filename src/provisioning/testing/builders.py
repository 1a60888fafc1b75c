"""Small builders of valid entities for tests that talk to stores directly."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from provisioning.model import (
    Account,
    AuditEvent,
    ClassOfService,
    Credentials,
    Domain,
    DomainName,
    EmailAddress,
    Grant,
    Invitation,
    Mailbox,
    MailboxKind,
    MfaState,
    Role,
    User,
    Username,
)

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def account(account_id: str = "a-1", name: str = "Acme", parent_id: str | None = None) -> Account:
    return Account(id=account_id, name=name, created_at=WHEN, parent_id=parent_id)


def domain(domain_id: str = "d-1", name: str = "acme.example", account_id: str = "a-1") -> Domain:
    return Domain(
        id=domain_id,
        account_id=account_id,
        name=DomainName.parse(name),
        created_at=WHEN,
        verification_token="provisioning-verify=abc",
    )


def user(
    user_id: str = "u-1",
    username: str = "ann@acme.example",
    *,
    aliases: tuple[str, ...] = (),
    account_id: str = "a-1",
    domain_id: str = "d-1",
    cos_id: str | None = None,
) -> User:
    return User(
        id=user_id,
        account_id=account_id,
        domain_id=domain_id,
        username=Username.parse(username),
        created_at=WHEN,
        updated_at=WHEN,
        cos_id=cos_id,
        aliases=tuple(EmailAddress.parse(a) for a in aliases),
        credentials=Credentials(password_hash="$argon2id$v=19$secret-hash"),
        mfa=MfaState(required=True, secret="JBSWY3DPEHPK3PXP"),
    )


def cos(
    cos_id: str = "c-1", name: str = "standard", account_id: str | None = "a-1"
) -> ClassOfService:
    return ClassOfService(id=cos_id, name=name, account_id=account_id)


def role(role_id: str = "r-1", name: str = "helpdesk", account_id: str | None = "a-1") -> Role:
    return Role(id=role_id, name=name, account_id=account_id, permissions=frozenset({"cos.manage"}))


def grant(
    grant_id: str = "g-1",
    user_id: str = "u-1",
    account_id: str = "a-1",
    mailbox_id: str | None = None,
    permissions: frozenset[str] = frozenset({"cos.manage"}),
    role_ids: frozenset[str] = frozenset(),
) -> Grant:
    return Grant(
        id=grant_id,
        user_id=user_id,
        account_id=account_id,
        mailbox_id=mailbox_id,
        permissions=permissions,
        role_ids=role_ids,
    )


def mailbox(
    mailbox_id: str = "m-1", address: str = "sales@acme.example", owner_id: str | None = None
) -> Mailbox:
    """A shared mailbox, or with `owner_id` the owner's personal one (at its username)."""
    return Mailbox(
        id=mailbox_id,
        account_id="a-1",
        address=EmailAddress.parse(address),
        kind=MailboxKind.SHARED if owner_id is None else MailboxKind.PERSONAL,
        owner_id=owner_id,
    )


def invitation(
    invitation_id: str = "i-1", email: str = "bob@else.example", token_hash: str = "h-1"
) -> Invitation:
    return Invitation(
        id=invitation_id,
        account_id="a-1",
        email=EmailAddress.parse(email),
        inviter_id="u-1",
        created_at=WHEN,
        expires_at=WHEN.replace(day=12),
        token_hash=token_hash,
    )


def event(event_id: str, entity_id: str = "u-1", account_id: str | None = "a-1") -> AuditEvent:
    return AuditEvent(
        id=event_id,
        occurred_at=WHEN,
        actor="platform:ops",
        action="CreateUser",
        entity="user",
        entity_id=entity_id,
        account_id=account_id,
    )


_REFERENCES = {
    "account_id": "account",
    "parent_id": "account",
    "domain_id": "domain",
    "cos_id": "cos",
    "default_cos_id": "cos",
    "user_id": "user",
    "owner_id": "user",
    "mailbox_id": "mailbox",
}


def _stub(kind: str, entity_id: str) -> object:
    """A plain entity that others may refer to, holding no reference itself but its account."""
    tag = hashlib.sha256(entity_id.encode()).hexdigest()[:16]
    if kind == "account":
        return account(entity_id, f"Stub {tag}")
    if kind == "domain":
        return domain(entity_id, f"d{tag}.stub.example", account_id="stub-account")
    if kind == "cos":
        return cos(entity_id, f"stub {tag}", account_id=None)
    if kind == "user":
        return User(
            id=entity_id,
            username=Username.parse(f"u{tag}@stub.example"),
            created_at=WHEN,
            updated_at=WHEN,
        )
    return Mailbox(
        id=entity_id,
        account_id="stub-account",
        address=EmailAddress.parse(f"m{tag}@stub.example"),
    )


def parents(entities: Iterable[object], exists: Callable[[str, str], bool]) -> list[object]:
    """Stubs of every entity that `entities` refer to and that `exists` says is missing.

    The SQL stores check references, so a test storing a user of account
    `a-1` stores an account `a-1` first.
    """
    entities = list(entities)
    held = {(type(e).__name__, getattr(e, "id", "")) for e in entities}
    names = {"account": "Account", "domain": "Domain", "cos": "ClassOfService", "user": "User"}
    names["mailbox"] = "Mailbox"
    wanted: dict[tuple[str, str], object] = {}
    todo = list(entities)
    while todo:
        entity = todo.pop()
        for field, kind in _REFERENCES.items():
            target = getattr(entity, field, None)
            if not isinstance(target, str) or (names[kind], target) in held:
                continue
            if (kind, target) in wanted or exists(kind, target):
                continue
            stub = _stub(kind, target)
            wanted[kind, target] = stub
            todo.append(stub)
    order = ["account", "cos", "domain", "user", "mailbox"]
    return sorted(wanted.values(), key=lambda e: order.index(_kind(e)))


def _kind(entity: object) -> str:
    return {
        "Account": "account",
        "ClassOfService": "cos",
        "Domain": "domain",
        "User": "user",
        "Mailbox": "mailbox",
    }[type(entity).__name__]


def store_with_parents(uow: Any, *entities: object) -> None:
    """Add `entities` to the unit of work, after stubs of what they refer to."""
    repos: dict[str, Any] = {
        "Account": uow.accounts,
        "Domain": uow.domains,
        "ClassOfService": uow.classes_of_service,
        "User": uow.users,
        "Role": uow.roles,
        "Grant": uow.grants,
        "Mailbox": uow.mailboxes,
        "Invitation": uow.invitations,
    }
    kinds = {"account": "Account", "domain": "Domain", "cos": "ClassOfService"}
    kinds |= {"user": "User", "mailbox": "Mailbox"}

    def exists(kind: str, entity_id: str) -> bool:
        return repos[kinds[kind]].find(entity_id) is not None

    for entity in [*parents(entities, exists), *entities]:
        repos[type(entity).__name__].add(entity)
