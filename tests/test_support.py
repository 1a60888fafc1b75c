"""A parent's support access to a customer: asked, approved, bounded, audited, ended."""

from __future__ import annotations

import pytest

from access_world import user
from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    ApproveSupportAccess,
    CloseSupportSession,
    Context,
    CreateAccount,
    CreateUser,
    EndSupportAccess,
    NotFound,
    OpenSupportSession,
    PermissionDenied,
    RequestSupportAccess,
    SetGrant,
    TargetOutranks,
    UpdateAccount,
    UpdateUser,
    ValidationFailed,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns, Outbox
from provisioning.model import SupportRelationship, SupportStatus, User


class Desk:
    """A reseller with a customer, Acme, and another tenant, Globex; and who works where."""

    def __init__(self, ctx: Context, dns: MemoryDns) -> None:
        self.ctx = ctx
        run(ctx, OPERATOR, CreateAccount(name="Reseller", account_id="reseller"))
        for name, account in (("Acme", "acme"), ("Apex Tools", "apex")):
            run(ctx, OPERATOR, CreateAccount(name=name, account_id=account, parent_id="reseller"))
        run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
        for account, domain in (
            ("reseller", "reseller.example"),
            ("acme", "acme.example"),
            ("globex", "globex.example"),
        ):
            active_domain(ctx, dns, account, domain, admin_email=f"it@{domain}")
        self.users = {
            "manager": self._with("boss@reseller.example", "reseller", "system:owner"),
            "agent": self._with("ann@reseller.example", "reseller", "system:support"),
            "clerk": self._with("cy@reseller.example", "reseller", "system:administrator"),
            "owner": self._with("owner@acme.example", "acme", "system:owner"),
            "admin": self._with("admin@acme.example", "acme", "system:administrator"),
            "member": user(ctx, "mo@acme.example"),
            "outsider": self._with("gus@globex.example", "globex", "system:owner"),
        }

    def _with(self, username: str, account: str, role: str) -> User:
        found = user(self.ctx, username, account)
        run(self.ctx, OPERATOR, SetGrant(user_id=found.id, account_id=account, role_ids={role}))
        return found

    def actor(self, name: str) -> Actor:
        return Actor.user(self.users[name].id)

    def request(self, *roles: str, days: int = 30) -> SupportRelationship:
        ask = RequestSupportAccess(
            parent_id="reseller",
            customer_id="acme",
            role_ids=set(roles or {"system:administrator"}),
            duration_days=days,
        )
        relationship: SupportRelationship = run(self.ctx, self.actor("manager"), ask)
        return relationship

    def active(self, *roles: str, days: int = 30) -> SupportRelationship:
        relationship = self.request(*roles, days=days)
        approved: SupportRelationship = run(
            self.ctx, self.actor("owner"), ApproveSupportAccess(relationship_id=relationship.id)
        )
        return approved

    def session(self, relationship: SupportRelationship, minutes: int = 60) -> Actor:
        opened = run(
            self.ctx,
            self.actor("agent"),
            OpenSupportSession(relationship_id=relationship.id, minutes=minutes, reason="ticket 7"),
        )
        return Actor.support(opened.id)


@pytest.fixture
def desk(ctx: Context, dns: MemoryDns) -> Desk:
    return Desk(ctx, dns)


def _new_user(name: str) -> CreateUser:
    return CreateUser(account_id="acme", username=f"{name}@acme.example")


def test_an_approved_relationship_lets_an_agent_act_in_the_customer_and_is_audited(
    desk: Desk, outbox: Outbox
) -> None:
    outbox.clear()
    pending = desk.request()
    assert (pending.status, pending.expires_at) == (SupportStatus.PENDING, None)
    told = [(m.to, m.data["parent"]) for m in outbox.messages if m.template == "support.requested"]
    assert ("owner@acme.example", "Reseller") in told  # each owner of the customer
    assert all(to.endswith("@acme.example") for to, _ in told)
    assert ("admin@acme.example", "Reseller") not in told  # an administrator does not decide
    with pytest.raises(ValidationFailed) as early:
        desk.session(pending)
    assert early.value.codes == ["support.not_active"]
    active = run(desk.ctx, desk.actor("owner"), ApproveSupportAccess(relationship_id=pending.id))
    assert active.status is SupportStatus.ACTIVE
    agent = desk.session(active)
    created = run(desk.ctx, agent, _new_user("new"))
    assert str(created.username) == "new@acme.example"
    assert queries.users(desk.ctx, agent, "acme").total >= 4
    (event,) = queries.audit_log(desk.ctx, OPERATOR, "acme", entity_id=created.id)
    assert event.actor.startswith(
        "agent ann@reseller.example of parent reseller acting in customer acme (support:"
    )
    (visit,) = queries.support_sessions(desk.ctx, desk.actor("owner"), "acme")
    assert (visit.agent, visit.reason, visit.closed_at) == (
        "ann@reseller.example",
        "ticket 7",
        None,
    )
    assert list(queries.support_sessions(desk.ctx, desk.actor("manager"), "reseller")) == [visit]


def test_an_agent_holds_the_relationship_s_roles_and_never_more(desk: Desk) -> None:
    run(
        desk.ctx,
        OPERATOR,
        SetGrant(user_id=desk.users["agent"].id, account_id="acme", role_ids={"system:owner"}),
    )  # its own grant does not count
    agent = desk.session(desk.active("system:member"))
    with pytest.raises(PermissionDenied):
        run(desk.ctx, agent, _new_user("new"))
    with pytest.raises(PermissionDenied):
        queries.users(desk.ctx, agent, "acme")


def test_a_session_reaches_its_customer_only(desk: Desk) -> None:
    agent = desk.session(desk.active())
    for elsewhere in ("apex", "globex", "reseller"):
        with pytest.raises((PermissionDenied, NotFound)):
            run(desk.ctx, agent, CreateUser(account_id=elsewhere, username="x@acme.example"))
    with pytest.raises(NotFound):  # another tenant's user is as absent as none
        run(
            desk.ctx,
            agent,
            UpdateUser(user_id=desk.users["outsider"].id, version=1, first_name="X"),
        )


def test_an_agent_does_not_outrank_the_customer_s_owner(desk: Desk) -> None:
    agent = desk.session(desk.active())
    owner = desk.users["owner"]
    with pytest.raises(TargetOutranks):
        run(desk.ctx, agent, UpdateUser(user_id=owner.id, version=owner.version, enabled=False))


def test_standing_consent_makes_a_request_active_at_once(desk: Desk) -> None:
    account = queries.get_account(desk.ctx, OPERATOR, "acme")
    consent = UpdateAccount(account_id="acme", version=account.version, support_consent=True)
    with pytest.raises(PermissionDenied):  # the owner's to give, not an administrator's
        run(desk.ctx, desk.actor("admin"), consent)
    run(desk.ctx, desk.actor("owner"), consent)
    relationship = desk.request(days=7)
    assert relationship.status is SupportStatus.ACTIVE
    assert relationship.expires_at is not None
    assert relationship.approved_at is not None
    assert (relationship.expires_at - relationship.approved_at).days == 7


def test_ending_the_relationship_from_either_side_cuts_off_an_open_session(desk: Desk) -> None:
    for side in ("owner", "manager"):
        relationship = desk.active()
        agent = desk.session(relationship)
        run(desk.ctx, agent, _new_user(f"before-{side}"))
        ended = run(desk.ctx, desk.actor(side), EndSupportAccess(relationship_id=relationship.id))
        assert ended.status is SupportStatus.ENDED
        with pytest.raises(PermissionDenied):
            run(desk.ctx, agent, _new_user(f"after-{side}"))
        (closed,) = [
            s
            for s in queries.support_sessions(desk.ctx, desk.actor("owner"), "acme")
            if s.id == agent.id
        ]
        assert closed.closed_at is not None


def test_the_clock_ends_sessions_and_relationships(desk: Desk, clock: FixedClock) -> None:
    relationship = desk.active(days=2)
    agent = desk.session(relationship, minutes=30)
    planned = plan(desk.ctx, agent, [_new_user("late")])
    assert planned.ok
    clock.advance(minutes=31)
    with pytest.raises(ValidationFailed) as late:  # planned in time, applied too late
        apply(desk.ctx, planned)
    assert late.value.codes == ["permission.denied"]
    with pytest.raises(PermissionDenied):
        queries.users(desk.ctx, agent, "acme")
    longer = desk.session(relationship, minutes=480)
    clock.advance(days=2)
    with pytest.raises(PermissionDenied):
        run(desk.ctx, longer, _new_user("later"))
    with pytest.raises(ValidationFailed) as expired:
        desk.session(relationship)
    assert expired.value.codes == ["support.not_active"]


def test_a_batch_planned_in_a_session_is_checked_again_when_written(
    desk: Desk, clock: FixedClock
) -> None:
    agent = desk.session(desk.active(), minutes=30)
    clock.advance(minutes=29)
    planned = plan(desk.ctx, agent, [_new_user("last-minute")])
    assert planned.ok
    clock.advance(minutes=2)  # a plan this young is written as it is, but not in a session
    with pytest.raises(ValidationFailed) as late:
        apply(desk.ctx, planned)
    assert late.value.codes == ["permission.denied"]


def test_a_session_never_outlasts_its_relationship(desk: Desk, clock: FixedClock) -> None:
    relationship = desk.active(days=1)
    clock.advance(hours=23)
    opened = run(
        desk.ctx,
        desk.actor("agent"),
        OpenSupportSession(relationship_id=relationship.id, minutes=480),
    )
    assert opened.expires_at == relationship.expires_at


def test_only_the_parent_s_support_staff_open_sessions(desk: Desk) -> None:
    relationship = desk.active()
    opening = OpenSupportSession(relationship_id=relationship.id)
    with pytest.raises(PermissionDenied):
        run(desk.ctx, desk.actor("clerk"), opening)  # an administrator of the parent
    with pytest.raises(PermissionDenied):
        run(desk.ctx, OPERATOR, opening)
    for outside in ("owner", "outsider"):
        with pytest.raises(NotFound):
            run(desk.ctx, desk.actor(outside), opening)
    agent = desk.session(relationship)
    with pytest.raises(PermissionDenied):  # nor from inside a session
        run(desk.ctx, agent, opening)


def test_an_agent_who_loses_the_support_role_loses_its_sessions(desk: Desk) -> None:
    agent = desk.session(desk.active())
    run(
        desk.ctx,
        OPERATOR,
        SetGrant(user_id=desk.users["agent"].id, account_id="reseller", role_ids={"system:member"}),
    )
    with pytest.raises(PermissionDenied):
        run(desk.ctx, agent, _new_user("new"))


def test_every_bad_request_is_an_issue(desk: Desk) -> None:
    def codes(**fields: object) -> list[tuple[str, str | None]]:
        asked: dict[str, object] = {
            "parent_id": "reseller",
            "customer_id": "acme",
            "role_ids": {"system:administrator"},
            **fields,
        }
        planned = plan(desk.ctx, desk.actor("manager"), [RequestSupportAccess(**asked)])  # type: ignore[arg-type]
        return [(i.code, i.field) for i in planned.errors]

    assert codes(customer_id="globex") == [("support.not_a_customer", "customer_id")]
    assert codes(customer_id="nowhere") == [("support.not_a_customer", "customer_id")]
    assert codes(role_ids={"system:owner"}) == [("support.role_not_allowed", "role_ids")]
    assert codes(role_ids={"system:viewer", "made-up"}) == [
        ("support.role_unknown", "role_ids"),
        ("support.role_unknown", "role_ids"),
    ]
    assert codes(role_ids=()) == [("support.roles_required", "role_ids")]
    assert codes(duration_days=0) == [("support.duration_invalid", "duration_days")]
    assert codes(duration_days=731) == [("support.duration_invalid", "duration_days")]
    desk.request()
    assert codes() == [("support.relationship_exists", "customer_id")]
    with pytest.raises(PermissionDenied):
        run(
            desk.ctx,
            desk.actor("clerk"),
            RequestSupportAccess(
                parent_id="reseller", customer_id="apex", role_ids={"system:administrator"}
            ),
        )


def test_only_the_customer_s_owner_approves_and_only_once(desk: Desk) -> None:
    relationship = desk.request()
    approve = ApproveSupportAccess(relationship_id=relationship.id)
    for who in ("admin", "manager"):
        with pytest.raises(PermissionDenied):
            run(desk.ctx, desk.actor(who), approve)
    with pytest.raises(NotFound):
        run(desk.ctx, desk.actor("outsider"), approve)
    run(desk.ctx, desk.actor("owner"), approve)
    with pytest.raises(ValidationFailed) as again:
        run(desk.ctx, desk.actor("owner"), approve)
    assert again.value.codes == ["support.not_pending"]


def test_two_requests_racing_for_one_customer_leave_one(desk: Desk) -> None:
    ask = RequestSupportAccess(
        parent_id="reseller", customer_id="acme", role_ids={"system:administrator"}
    )
    one, other = (plan(desk.ctx, desk.actor("manager"), [ask]) for _ in range(2))
    assert one.ok
    assert other.ok
    apply(desk.ctx, one)
    with pytest.raises(ValidationFailed) as caught:
        apply(desk.ctx, other)
    assert caught.value.codes == ["support.relationship_exists"]
    assert len(queries.support_relationships(desk.ctx, desk.actor("owner"), "acme")) == 1


def test_a_session_closes_once_and_anyone_may_end_their_own(desk: Desk) -> None:
    agent = desk.session(desk.active())
    assert agent.session_id is not None
    close = CloseSupportSession(session_id=agent.session_id)
    with pytest.raises(PermissionDenied):
        run(desk.ctx, desk.actor("admin"), close)
    closed = run(desk.ctx, agent, close)
    assert closed.closed_at is not None
    with pytest.raises(ValidationFailed) as again:
        run(desk.ctx, desk.actor("owner"), close)
    assert again.value.codes == ["support.session_closed"]
    with pytest.raises(PermissionDenied):
        run(desk.ctx, agent, _new_user("new"))


def test_a_parent_s_support_staff_find_customers_by_name(desk: Desk) -> None:
    found = queries.customers(desk.ctx, desk.actor("agent"), "reseller", "ap")
    assert [a.name for a in found] == ["Apex Tools"]
    assert [a.id for a in queries.customers(desk.ctx, desk.actor("manager"), "reseller")] == [
        "acme",
        "apex",
    ]
    with pytest.raises(PermissionDenied):
        queries.customers(desk.ctx, desk.actor("clerk"), "reseller")
    with pytest.raises(PermissionDenied):
        queries.support_sessions(desk.ctx, desk.actor("admin"), "acme")


def test_deleting_the_customer_removes_its_relationships(desk: Desk) -> None:
    from provisioning import DeleteAccount  # noqa: PLC0415 - this test's own command

    desk.session(desk.active())
    run(desk.ctx, OPERATOR, DeleteAccount(account_id="acme", confirm_name="Acme"))
    assert list(queries.support_relationships(desk.ctx, desk.actor("manager"), "reseller")) == []
    assert list(queries.support_sessions(desk.ctx, desk.actor("manager"), "reseller")) == []


def test_a_role_that_later_gains_a_say_over_support_gives_the_agent_none(desk: Desk) -> None:
    from provisioning import CreateRole, UpdateRole  # noqa: PLC0415 - this test's own commands

    helpers = run(
        desk.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="Helpers", permissions={"users.read"}),
    )
    agent = desk.session(desk.active(helpers.id))
    run(
        desk.ctx,
        OPERATOR,
        UpdateRole(
            role_id=helpers.id,
            version=helpers.version,
            permissions={"users.read", "support.approve"},
        ),
    )
    assert queries.permissions(desk.ctx, agent, "acme") == frozenset({"users.read"})
    account = queries.get_account(desk.ctx, OPERATOR, "acme")
    with pytest.raises(PermissionDenied):
        run(
            desk.ctx,
            agent,
            UpdateAccount(account_id="acme", version=account.version, support_consent=True),
        )


def test_an_agent_never_mints_an_api_client_even_through_a_role_that_gained_the_right(
    desk: Desk,
) -> None:
    from provisioning import CreateApiClient, CreateRole, UpdateRole  # noqa: PLC0415

    helpers = run(
        desk.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="Helpers", permissions={"users.read"}),
    )
    agent = desk.session(desk.active(helpers.id))
    gained = {"users.read", "clients.manage", "accounts.delete", "grants.manage"}
    run(
        desk.ctx,
        OPERATOR,
        UpdateRole(role_id=helpers.id, version=helpers.version, permissions=gained),
    )
    assert queries.permissions(desk.ctx, agent, "acme") == frozenset({"users.read"})
    mint = CreateApiClient(account_id="acme", name="Backdoor", permissions={"users.read"})
    codes = [issue.code for issue in plan(desk.ctx, agent, [mint]).errors]
    assert codes == ["permission.denied"]


def test_an_agent_reads_the_users_report_within_its_session(desk: Desk, clock: FixedClock) -> None:
    import io  # noqa: PLC0415

    from provisioning.bulk import write_users_report  # noqa: PLC0415

    agent = desk.session(desk.active(), minutes=5)
    assert write_users_report(desk.ctx, agent, "acme", io.BytesIO(), format="csv") >= 3
    clock.advance(minutes=6)
    with pytest.raises(PermissionDenied):
        write_users_report(desk.ctx, agent, "acme", io.BytesIO(), format="csv")


def test_an_invitation_an_agent_sends_offers_membership_alone(desk: Desk) -> None:
    """An agent's invitation once offered permissions that outlived the session."""
    from provisioning import AcceptInvitation, InviteUser  # noqa: PLC0415

    agent = desk.session(desk.active())
    with pytest.raises(ValidationFailed) as refused:
        run(
            desk.ctx,
            agent,
            InviteUser(account_id="acme", email="newbie@acme.example", permissions={"users.read"}),
        )
    assert refused.value.codes == ["support.elevation_refused"]
    issued = run(desk.ctx, agent, InviteUser(account_id="acme", email="newbie@acme.example"))
    invitee = Actor.user(user(desk.ctx, "newbie@acme.example").id)
    assert agent.session_id is not None
    run(desk.ctx, agent, CloseSupportSession(session_id=agent.session_id))
    run(desk.ctx, invitee, AcceptInvitation(invitation_id=issued.invitation.id))
    assert queries.permissions(desk.ctx, invitee, "acme") == frozenset()  # a plain member


def test_a_request_is_told_to_whoever_may_approve_it(desk: Desk, outbox: Outbox) -> None:
    from provisioning import CreateRole  # noqa: PLC0415 - this test's own command

    deciders = run(
        desk.ctx,
        OPERATOR,
        CreateRole(account_id="acme", name="Deciders", permissions={"support.approve"}),
    )
    mo = desk.users["member"]
    run(desk.ctx, OPERATOR, SetGrant(user_id=mo.id, account_id="acme", role_ids={deciders.id}))
    outbox.clear()
    desk.request()
    told = {m.to for m in outbox.messages if m.template == "support.requested"}
    assert {"owner@acme.example", "mo@acme.example"} <= told
    assert "admin@acme.example" not in told


# -- nothing an agent does outlives the relationship -----------------------------------------


def test_an_agent_never_sets_receives_or_re_points_a_credential(desk: Desk) -> None:
    """Each move once let an agent keep a way into the customer after the relationship ended."""
    from provisioning import (  # noqa: PLC0415
        EnrollMfa,
        ResetPassword,
        SetPassword,
    )

    agent = desk.session(desk.active())
    admin = desk.users["admin"]  # the agent's equal in rank
    member = desk.users["member"]
    moves = [
        ResetPassword(user_id=admin.id),  # the new password came back to the agent
        ResetPassword(user_id=member.id),
        SetPassword(
            user_id=member.id, password="Chosen-By-Agent-77", password_repeat="Chosen-By-Agent-77"
        ),
        EnrollMfa(user_id=member.id),  # the TOTP secret came back to the agent
        UpdateUser(user_id=admin.id, version=admin.version, alternate_email="agent@evil.example"),
        UpdateUser(user_id=member.id, version=member.version, mobile="+41 79 111 22 33"),
        CreateUser(
            account_id="acme",
            username="backdoor@acme.example",
            password="Chosen-By-Agent-77",
            password_repeat="Chosen-By-Agent-77",
        ),
    ]
    for move in moves:
        with pytest.raises(ValidationFailed) as refused:
            run(desk.ctx, agent, move)
        assert "support.credentials_refused" in refused.value.codes, move
    # what the customer's own administrator may still do
    assert run(desk.ctx, desk.actor("admin"), ResetPassword(user_id=member.id)).password


def test_an_agent_s_new_user_gets_its_link_at_its_own_address(desk: Desk, outbox: Outbox) -> None:
    agent = desk.session(desk.active())
    outbox.clear()
    run(
        desk.ctx,
        agent,
        CreateUser(
            account_id="acme", username="new@acme.example", alternate_email="agent@evil.example"
        ),
    )
    ((message,),) = ([m for m in outbox.messages if m.template == "user.created"],)
    assert message.to == "new@acme.example"


def test_an_agent_never_makes_anyone_more_than_a_plain_user(desk: Desk) -> None:
    from provisioning import InviteUser  # noqa: PLC0415

    agent = desk.session(desk.active())
    with pytest.raises(ValidationFailed) as refused:
        run(
            desk.ctx,
            agent,
            InviteUser(
                account_id="acme",
                email="friend@else.example",
                role_ids={"system:administrator"},
            ),
        )
    assert "support.elevation_refused" in refused.value.codes
    plain = run(desk.ctx, agent, InviteUser(account_id="acme", email="friend@else.example"))
    assert plain.invitation.role_ids == frozenset()


def test_a_parent_cannot_ask_for_a_role_that_deletes_or_re_staffs_the_customer(
    desk: Desk,
) -> None:
    from provisioning import CreateRole  # noqa: PLC0415

    everything_but_support = run(
        desk.ctx,
        desk.actor("owner"),
        CreateRole(
            account_id="acme",
            name="almost owner",
            permissions={
                "accounts.manage",
                "accounts.delete",
                "admins.manage",
                "grants.manage",
                "roles.manage",
                "users.manage",
            },
        ),
    )
    for role_id in (everything_but_support.id, "system:owner"):
        with pytest.raises(ValidationFailed) as refused:
            desk.request(role_id)
        assert refused.value.codes == ["support.role_not_allowed"]
    assert desk.request("system:administrator").status is SupportStatus.PENDING
