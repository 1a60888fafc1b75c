"""Invitations end to end: registered and unregistered invitees, expiry, tokens, notifications."""

from __future__ import annotations

from typing import Any

import pytest

from access_world import PASSWORD, World, build
from conftest import OPERATOR
from provisioning import (
    AcceptInvitation,
    ActivateDomain,
    Actor,
    Authenticate,
    Context,
    CreateMailbox,
    CreateUser,
    DeactivateDomain,
    DeclineInvitation,
    InviteUser,
    NotFound,
    PermissionDenied,
    RegisterWithInvitation,
    ResendInvitation,
    RevokeInvitation,
    SetGrant,
    UpdateUser,
    ValidationFailed,
    VerifyDomain,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns, Outbox
from provisioning.commands import Command
from provisioning.handlers.invitations import hash_token
from provisioning.model import InvitationStatus, MailboxKind, MailboxOffer, User
from provisioning.results import InvitationIssued


@pytest.fixture
def world(ctx: Context, dns: MemoryDns) -> World:
    return build(ctx, dns)


def invite(world: World, email: str, **offer: object) -> InvitationIssued:
    issued: InvitationIssued = run(
        world.ctx,
        world.actors["holder"],
        InviteUser(account_id="acme", email=email, **offer),  # type: ignore[arg-type]
    )
    return issued


def register(world: World, token: str, password: str = PASSWORD) -> User:
    registered: User = run(
        world.ctx,
        Actor.anonymous("registration"),
        RegisterWithInvitation(
            token=token,
            password=password,
            password_repeat=password,
            first_name="New",
            last_name="Comer",
        ),
    )
    return registered


def refused(world: World, actor: Actor, command: Command[Any]) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        run(world.ctx, actor, command)
    return caught.value.codes


OFFER = {
    "permissions": {"users.read"},
    "mailboxes": (MailboxOffer(mailbox_id="sales", role_ids=frozenset({"system:agent"})),),
}


def test_the_raw_token_is_returned_once_and_only_its_hash_is_kept(
    world: World, outbox: Outbox
) -> None:
    outbox.clear()
    issued = invite(world, "newcomer@else.example", **OFFER)
    assert issued.token not in repr(issued)
    assert issued.invitation.token_hash == hash_token(issued.token) != issued.token
    with world.ctx.store.unit_of_work() as uow:
        stored = uow.invitations.get(issued.invitation.id)
    assert issued.token not in repr(stored)
    assert stored.expires_at == world.ctx.clock.now().replace(day=world.ctx.clock.now().day + 7)
    (message,) = outbox.messages
    assert (message.template, message.to, message.secrets["token"]) == (
        "invitation.unregistered",
        "newcomer@else.example",
        issued.token,
    )


def test_registration_creates_profile_mailbox_and_grants_in_one_go(
    world: World, outbox: Outbox
) -> None:
    issued = invite(world, "Newcomer@Else.example", **OFFER)
    outbox.clear()
    newcomer = register(world, issued.token)
    me = Actor.user(newcomer.id)
    assert queries.permissions(world.ctx, me, "acme") == {"users.read"}
    assert queries.permissions(world.ctx, me, "acme", "sales") == {
        "mailbox.read",
        "mailbox.send",
        "mailbox.organize",
    }
    with world.ctx.store.unit_of_work() as uow:
        (box,) = uow.mailboxes.of_owner(newcomer.id)
        invitation = uow.invitations.get(issued.invitation.id)
    assert (box.kind, str(box.address)) == (MailboxKind.PERSONAL, "Newcomer@else.example")
    assert invitation.status is InvitationStatus.ACCEPTED
    assert (newcomer.account_id, newcomer.corporate) == (None, False)
    run(
        world.ctx,
        Actor.anonymous(),
        Authenticate(username="newcomer@else.example", password=PASSWORD),
    )
    (told,) = outbox.messages
    assert (told.template, told.to) == ("invitation.accepted", "holder@acme.example")


def test_an_invitee_on_an_active_domain_of_the_account_becomes_corporate(world: World) -> None:
    issued = invite(world, "colleague@acme.example")
    colleague = register(world, issued.token)
    assert (colleague.account_id, colleague.domain_id, colleague.corporate) == (
        "acme",
        world.domain_id,
        True,
    )


def test_a_registrant_on_a_domain_not_active_yet_is_adopted_when_it_is(
    world: World, dns: MemoryDns
) -> None:
    issued = invite(world, "early@soon.example")
    early = register(world, issued.token)
    assert (early.account_id, early.domain_id, early.corporate) == (None, None, False)
    domain = queries.get_domain(world.ctx, OPERATOR, world.pending_domain_id)
    dns.publish("soon.example", domain.verification_token)
    run(world.ctx, OPERATOR, VerifyDomain(domain_id=domain.id))
    run(world.ctx, OPERATOR, ActivateDomain(domain_id=domain.id))
    adopted = queries.get_user(world.ctx, OPERATOR, early.id)
    assert (adopted.account_id, adopted.domain_id, adopted.corporate) == (
        "acme",
        domain.id,
        True,
    )


def test_nobody_registers_on_a_deactivated_domain(world: World, dns: MemoryDns) -> None:
    domain = queries.get_domain(world.ctx, OPERATOR, world.pending_domain_id)
    dns.publish("soon.example", domain.verification_token)
    for step in (VerifyDomain, ActivateDomain, DeactivateDomain):
        run(world.ctx, OPERATOR, step(domain_id=domain.id))
    issued = invite(world, "late@soon.example")
    assert refused(
        world,
        Actor.anonymous(),
        RegisterWithInvitation(token=issued.token, password=PASSWORD, password_repeat=PASSWORD),
    ) == ["domain.not_active"]


def test_a_registration_with_a_bad_password_changes_nothing(world: World) -> None:
    issued = invite(world, "newcomer@else.example", **OFFER)
    codes = refused(
        world,
        Actor.anonymous(),
        RegisterWithInvitation(token=issued.token, password="k9#Tz", password_repeat="k9#Tzz"),
    )
    assert codes == ["password.too_short", "password.mismatch"]
    with world.ctx.store.unit_of_work() as uow:
        assert uow.users.by_address("newcomer@else.example") is None
        assert uow.invitations.get(issued.invitation.id).status is InvitationStatus.PENDING
    register(world, issued.token)  # the link still works


def test_registrants_of_one_name_get_accounts_named_in_a_few_look_ups(world: World) -> None:
    """The 4,000th registrant of a name once probed "Name 2" ... "Name 4000", one by one."""
    names = []
    for n in range(8):
        registered = register(world, invite(world, f"comer{n}@else.example", **OFFER).token)
        with world.ctx.store.unit_of_work() as uow:
            (own,) = [g for g in uow.grants.of_user(registered.id) if "system:owner" in g.role_ids]
            names.append(uow.accounts.get(own.account_id).name)
    assert names[:5] == ["New Comer", "New Comer 2", "New Comer 3", "New Comer 4", "New Comer 5"]
    assert len(set(names)) == 8
    assert all(name.startswith("New Comer ") and len(name) <= 16 for name in names[5:])


def test_tokens_that_cannot_be_used_are_refused_with_distinct_codes(
    world: World, clock: FixedClock
) -> None:
    anonymous = Actor.anonymous()

    def attempt(token: str) -> list[str]:
        return refused(
            world,
            anonymous,
            RegisterWithInvitation(token=token, password=PASSWORD, password_repeat=PASSWORD),
        )

    assert attempt("made-up-token") == ["invitation.unknown"]
    revoked = invite(world, "a@else.example")
    run(world.ctx, world.actors["holder"], RevokeInvitation(invitation_id=revoked.invitation.id))
    assert attempt(revoked.token) == ["invitation.revoked"]
    used = invite(world, "b@else.example")
    register(world, used.token)
    assert attempt(used.token) == ["invitation.used"]
    late = invite(world, "c@else.example")
    clock.advance(days=7)
    assert attempt(late.token) == ["invitation.expired"]


def test_resending_rotates_the_token_and_renews_the_expiry(world: World, clock: FixedClock) -> None:
    first = invite(world, "d@else.example", valid_for_days=2)
    clock.advance(days=3)
    again = run(
        world.ctx, world.actors["holder"], ResendInvitation(invitation_id=first.invitation.id)
    )
    assert again.token != first.token
    assert again.invitation.expires_at == clock.now().replace(day=clock.now().day + 7)
    assert refused(
        world,
        Actor.anonymous(),
        RegisterWithInvitation(token=first.token, password=PASSWORD, password_repeat=PASSWORD),
    ) == ["invitation.unknown"]
    register(world, again.token)


def test_registered_invitees_accept_and_get_exactly_what_was_offered(
    world: World, outbox: Outbox
) -> None:
    ann = world.users["ann"]
    issued = invite(world, "ANN@acme.example", **OFFER)
    assert issued.registered
    assert [i.id for i in queries.pending_invitations(world.ctx, world.actors["ann"])] == [
        issued.invitation.id
    ]
    outbox.clear()
    run(world.ctx, world.actors["ann"], AcceptInvitation(invitation_id=issued.invitation.id))
    assert queries.permissions(world.ctx, world.actors["ann"], "acme") == {"users.read"}
    assert queries.permissions(world.ctx, world.actors["ann"], "acme", "sales") == {
        "mailbox.read",
        "mailbox.send",
        "mailbox.organize",
    }
    assert queries.permissions(world.ctx, world.actors["ann"], "acme", "support") == frozenset()
    assert list(queries.pending_invitations(world.ctx, world.actors["ann"])) == []
    assert [(m.template, m.to, m.data["invitee"]) for m in outbox.messages] == [
        ("invitation.accepted", "holder@acme.example", str(ann.username))
    ]


def test_declining_grants_nothing_and_tells_the_inviter(world: World, outbox: Outbox) -> None:
    issued = invite(world, "ann@acme.example", **OFFER)
    outbox.clear()
    run(world.ctx, world.actors["ann"], DeclineInvitation(invitation_id=issued.invitation.id))
    assert queries.permissions(world.ctx, world.actors["ann"], "acme") == frozenset()
    assert [(m.template, m.to) for m in outbox.messages] == [
        ("invitation.declined", "holder@acme.example")
    ]
    assert refused(
        world, world.actors["ann"], AcceptInvitation(invitation_id=issued.invitation.id)
    ) == ["invitation.used"]


def test_only_the_invitee_answers(world: World) -> None:
    """Answering is a rule, not a permission: nobody answers someone else's invitation."""
    issued = invite(world, "ann@acme.example", **OFFER)
    invitation_id = issued.invitation.id
    for other in ["without", "holder"]:  # members of the account are told why
        for answer in (AcceptInvitation, DeclineInvitation):
            with pytest.raises(ValidationFailed) as caught:
                run(world.ctx, world.actors[other], answer(invitation_id=invitation_id))
            assert caught.value.codes == ["invitation.not_addressee"]
    for stranger in (world.actors["outsider"], Actor.anonymous()):  # to others it does not exist
        with pytest.raises(NotFound) as hidden:
            run(world.ctx, stranger, DeclineInvitation(invitation_id=invitation_id))
        assert hidden.value.code == "invitation.not_found"


def test_an_alias_counts_as_the_invitees_address(world: World) -> None:
    ann = world.users["ann"]
    run(
        world.ctx,
        OPERATOR,
        UpdateUser(user_id=ann.id, version=ann.version, aliases=("a.lee@acme.example",)),
    )
    issued = invite(world, "a.lee@acme.example", permissions={"users.read"})
    run(world.ctx, world.actors["ann"], AcceptInvitation(invitation_id=issued.invitation.id))
    assert queries.permissions(world.ctx, world.actors["ann"], "acme") == {"users.read"}


def test_an_expired_invitation_cannot_be_accepted(world: World, clock: FixedClock) -> None:
    issued = invite(world, "ann@acme.example", **OFFER)
    clock.advance(days=7, seconds=1)
    assert list(queries.pending_invitations(world.ctx, world.actors["ann"])) == []
    assert refused(
        world, world.actors["ann"], AcceptInvitation(invitation_id=issued.invitation.id)
    ) == ["invitation.expired"]


def test_an_invitation_planned_before_it_expired_is_checked_again_when_applied_after(
    world: World, clock: FixedClock
) -> None:
    """A fresh plan is written as it is, but not past a time limit it checked."""
    issued = invite(world, "ann@acme.example", **OFFER)
    clock.advance(days=7, seconds=-60)  # a minute before it expires
    accepting = plan(
        world.ctx, world.actors["ann"], [AcceptInvitation(invitation_id=issued.invitation.id)]
    )
    assert accepting.ok
    clock.advance(seconds=9 * 60)  # applied nine minutes later: well within `fresh_for`
    with pytest.raises(ValidationFailed) as refused_late:
        apply(world.ctx, accepting)
    assert refused_late.value.codes == ["invitation.expired"]
    assert queries.permissions(world.ctx, world.actors["ann"], "acme") == frozenset()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"email": "not-an-address"}, ["email.invalid"]),
        ({"valid_for_days": 0}, ["invitation.validity_invalid"]),
        ({"valid_for_days": 91}, ["invitation.validity_invalid"]),
        ({"role_ids": {"nope"}}, ["role.not_found"]),
        ({"mailboxes": (MailboxOffer(mailbox_id="gx-sales"),)}, ["mailbox.not_found"]),
        ({"role_ids": {"system:owner"}}, ["grant.escalation"]),
    ],
)
def test_invitation_input_rules(
    world: World, changes: dict[str, object], expected: list[str]
) -> None:
    fields: dict[str, object] = {"account_id": "acme", "email": "x@else.example", **changes}
    command = InviteUser(**fields)  # type: ignore[arg-type]
    assert [i.code for i in plan(world.ctx, world.actors["holder"], [command]).errors] == expected


def test_an_invitation_without_anything_new_is_an_issue_not_a_duplicate(world: World) -> None:
    ann = world.users["ann"].id
    run(world.ctx, OPERATOR, SetGrant(user_id=ann, account_id="acme", permissions={"users.read"}))
    command = InviteUser(account_id="acme", email="ann@acme.example", permissions={"users.read"})
    assert [i.code for i in plan(world.ctx, world.actors["holder"], [command]).errors] == [
        "invitation.nothing_new"
    ]
    bare = InviteUser(account_id="acme", email="ann@acme.example")
    assert [i.code for i in plan(world.ctx, world.actors["holder"], [bare]).errors] == [
        "invitation.nothing_new"
    ]
    more = InviteUser(
        account_id="acme", email="ann@acme.example", permissions={"users.read", "invitations.send"}
    )
    assert plan(world.ctx, world.actors["holder"], [more]).ok


def test_a_second_pending_invitation_to_one_address_is_refused(world: World) -> None:
    invite(world, "x@else.example")
    command = InviteUser(account_id="acme", email="X@else.example")
    assert [i.code for i in plan(world.ctx, world.actors["holder"], [command]).errors] == [
        "invitation.duplicate"
    ]
    other_account = InviteUser(account_id="globex", email="x@else.example")
    assert plan(world.ctx, world.actors["outsider"], [other_account]).ok


def test_invitations_are_sent_managed_and_listed_by_permission(world: World) -> None:
    for principal in ["without", "outsider", "ann"]:
        with pytest.raises(PermissionDenied):
            run(
                world.ctx,
                world.actors[principal],
                InviteUser(account_id="acme", email="y@else.example"),
            )
    issued = invite(world, "y@else.example")
    for principal in ["without", "outsider"]:
        # A member lacking the permission is refused; to another account it does not exist.
        with pytest.raises(PermissionDenied if principal == "without" else NotFound):
            run(
                world.ctx,
                world.actors[principal],
                RevokeInvitation(invitation_id=issued.invitation.id),
            )
        with pytest.raises(PermissionDenied):
            queries.invitations(world.ctx, world.actors[principal], "acme")
    assert [i.id for i in queries.invitations(world.ctx, world.actors["holder"], "acme")] == [
        issued.invitation.id
    ]
    assert "token" not in str(queries.invitations(world.ctx, world.actors["holder"], "acme"))
    assert issued.token not in str(queries.invitations(world.ctx, world.actors["holder"], "acme"))


def test_a_registration_claims_its_address_as_every_other_road_does(world: World) -> None:
    """One rule for the address namespace: a mailbox's address, and a look-alike, are taken."""
    team = invite(world, "team@acme.example")
    pinar = invite(world, "p\u0131nar@acme.example")  # a dotless i
    run(world.ctx, OPERATOR, CreateMailbox(account_id="acme", address="team@acme.example"))
    run(world.ctx, OPERATOR, CreateUser(account_id="acme", username="pinar@acme.example"))
    answers = {}
    for name, issued in (("team", team), ("pinar", pinar)):
        command = RegisterWithInvitation(
            token=issued.token, password=PASSWORD, password_repeat=PASSWORD
        )
        planned = plan(world.ctx, Actor.anonymous("registration"), [command])
        answers[name] = [(issue.code, issue.field) for issue in planned.errors]
    assert answers == {
        "team": [("address.taken", "token")],  # found by the plan, not by the database
        "pinar": [("address.confusable", "token")],
    }
