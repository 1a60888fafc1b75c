"""A shared world for the access and invitation tests: two accounts and principals of each kind."""

from __future__ import annotations

from typing import Any

import attrs

from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    AddDomain,
    Context,
    CreateAccount,
    CreateMailbox,
    CreateUser,
    SetGrant,
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


def user(ctx: Context, username: str, account: str = "acme", **extra: Any) -> User:
    """A user with a password and, unless `extra` says otherwise, an alternate email."""
    fields: dict[str, Any] = {"alternate_email": "someone@home.example", **extra}
    created: User = run(
        ctx,
        OPERATOR,
        CreateUser(
            account_id=account,
            username=username,
            password=PASSWORD,
            password_repeat=PASSWORD,
            **fields,
        ),
    )
    return created


def build(ctx: Context, dns: MemoryDns) -> World:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    domain_id = active_domain(
        ctx, dns, "acme", "acme.example", captcha_on_login=True, admin_email="it@holding.example"
    ).id
    active_domain(
        ctx, dns, "globex", "globex.example", captcha_on_login=True, admin_email="it@gx.example"
    )
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
