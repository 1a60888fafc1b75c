"""A tenant with principals of every rank, for the security tests.

Acme has its super admin (`postmaster@`), a second owner, an administrator,
a user who holds only `grants.manage`, one who holds `admins.manage` and
`users.manage` (a lead, below the owners), and plain members; Globex has an
administrator of its own.
"""

from __future__ import annotations

import attrs

from access_world import user as _user
from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    Context,
    CreateAccount,
    CreateAdmin,
    SetGrant,
    UpdateDomain,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.model import User, Username


@attrs.frozen
class Tenant:
    ctx: Context
    dns: MemoryDns
    users: dict[str, User]
    domain_id: str

    def actor(self, name: str) -> Actor:
        if name == "platform":
            return OPERATOR
        if name == "anonymous":
            return Actor.anonymous()
        return Actor.user(self.users[name].id)

    def fresh(self, name: str) -> User:
        """The user as it is stored now."""
        return self.fresh_by_id(self.users[name].id)

    def ask_for_captcha(self, *, on_login: bool) -> None:
        """Set whether Acme's domain asks for a CAPTCHA on login, as the operator."""
        with self.ctx.store.snapshot() as snapshot:
            domain = snapshot.domains.get(self.domain_id)
        run(
            self.ctx,
            OPERATOR,
            UpdateDomain(domain_id=domain.id, version=domain.version, captcha_on_login=on_login),
        )

    def fresh_by_id(self, user_id: str) -> User:
        with self.ctx.store.snapshot() as snapshot:
            return snapshot.users.get(user_id)


def _admin(ctx: Context, account: str, address: str, role: str) -> User:
    created: User = run(
        ctx,
        OPERATOR,
        CreateAdmin(
            account_id=account,
            address=address,
            primary_email=f"{address.partition('@')[0]}@home.example",
            role_ids=frozenset({role}),
        ),
    )
    return created


def build_tenant(ctx: Context, dns: MemoryDns) -> Tenant:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    domain = active_domain(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    active_domain(ctx, dns, "globex", "globex.example", admin_email="it@gx.example")
    with ctx.store.snapshot() as snapshot:
        found = snapshot.users.by_username(Username.parse("postmaster@acme.example"))
    assert found is not None
    users = {
        "super": found,
        "owner": _admin(ctx, "acme", "owner2@acme.example", "system:owner"),
        "owner2": _admin(ctx, "acme", "owner3@acme.example", "system:owner"),
        "admin": _admin(ctx, "acme", "admin@acme.example", "system:administrator"),
        "admin2": _admin(ctx, "acme", "admin2@acme.example", "system:administrator"),
        "granter": _user(ctx, "granter@acme.example"),
        "lead": _user(ctx, "lead@acme.example"),
        "member": _user(ctx, "member@acme.example"),
        "member2": _user(ctx, "member2@acme.example"),
        "stranger": _admin(ctx, "globex", "admin@globex.example", "system:administrator"),
    }
    for name in ("member", "member2"):
        run(
            ctx,
            OPERATOR,
            SetGrant(
                user_id=users[name].id, account_id="acme", role_ids=frozenset({"system:member"})
            ),
        )
    run(
        ctx,
        OPERATOR,
        SetGrant(
            user_id=users["granter"].id,
            account_id="acme",
            permissions=frozenset({"grants.manage"}),
        ),
    )
    run(
        ctx,
        OPERATOR,
        SetGrant(
            user_id=users["lead"].id,
            account_id="acme",
            permissions=frozenset({"admins.manage", "users.manage", "users.read"}),
        ),
    )
    return Tenant(ctx, dns, users, domain.id)
