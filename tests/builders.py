"""Small builders of valid entities for tests that talk to stores directly."""

from __future__ import annotations

from datetime import UTC, datetime

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
    return Mailbox(
        id=mailbox_id, account_id="a-1", address=EmailAddress.parse(address), owner_id=owner_id
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
