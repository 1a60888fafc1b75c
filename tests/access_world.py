"""A shared world for the access and invitation tests: two accounts and principals of each kind."""

from __future__ import annotations

from typing import Any

import attrs

from conftest import OPERATOR
from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    CreateMailbox,
    CreateUser,
    SetGrant,
    VerifyDomain,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.model import User

PASSWORD = "Blue-Lantern-Walks-42"
ACCESS = frozenset(
    {"grants.manage", "roles.manage", "mailboxes.manage", "invitations.send", "users.read"}
)


@attrs.frozen
class World:
    ctx: Context
    actors: dict[str, Actor]
    users: dict[str, User]
    domain_id: str
    pending_domain_id: str


def activate(ctx: Context, dns: MemoryDns, account: str, name: str, **extra: Any) -> str:
    domain = run(
        ctx, OPERATOR, AddDomain(account_id=account, name=name, captcha_on_login=True, **extra)
    )
    dns.publish(name, domain.verification_token)
    run(ctx, OPERATOR, VerifyDomain(domain_id=domain.id))
    run(ctx, OPERATOR, ActivateDomain(domain_id=domain.id))
    return str(domain.id)


def user(ctx: Context, username: str, account: str = "acme", **extra: Any) -> User:
    created: User = run(
        ctx,
        OPERATOR,
        CreateUser(
            account_id=account,
            username=username,
            password=PASSWORD,
            password_repeat=PASSWORD,
            alternate_email="someone@home.example",
            **extra,
        ),
    )
    return created


def build(ctx: Context, dns: MemoryDns) -> World:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    domain_id = activate(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    activate(ctx, dns, "globex", "globex.example", admin_email="it@globex-holding.example")
    pending = run(
        ctx, OPERATOR, AddDomain(account_id="acme", name="soon.example", captcha_on_login=True)
    )
    run(
        ctx,
        OPERATOR,
        CreateMailbox(account_id="acme", address="sales@acme.example", mailbox_id="sales"),
    )
    run(
        ctx,
        OPERATOR,
        CreateMailbox(account_id="acme", address="support@acme.example", mailbox_id="support"),
    )
    run(
        ctx,
        OPERATOR,
        CreateMailbox(account_id="globex", address="sales@globex.example", mailbox_id="gx-sales"),
    )
    users = {
        "holder": user(ctx, "holder@acme.example"),
        "without": user(ctx, "without@acme.example"),
        "outsider": user(ctx, "boss@globex.example", account="globex"),
        "ann": user(ctx, "ann@acme.example"),
    }
    run(ctx, OPERATOR, SetGrant(user_id=users["holder"].id, account_id="acme", permissions=ACCESS))
    run(
        ctx,
        OPERATOR,
        SetGrant(user_id=users["without"].id, account_id="acme", permissions={"users.read"}),
    )
    run(
        ctx,
        OPERATOR,
        SetGrant(user_id=users["outsider"].id, account_id="globex", permissions=ACCESS),
    )
    actors = {"platform": OPERATOR, **{name: Actor.user(u.id) for name, u in users.items()}}
    return World(ctx, actors, users, domain_id, pending.id)
