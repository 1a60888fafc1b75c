"""Support access: a parent account's agents acting in one of its customers, within limits.

Modelled on granular delegated administration: the parent asks one
customer for named roles for a bounded time; the customer's owner approves
(or its standing consent does); either side ends it whenever it likes, and
the clock ends it too. Within an active relationship an agent holding
`support.act` in the parent opens a short session and acts in the customer
as `Actor.support(session_id)`: authorized against the relationship's roles
only (see `permissions_of`), and audited as the agent of the parent acting
in the customer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import attrs

from provisioning.commands import (
    ApproveSupportAccess,
    CloseSupportSession,
    EndSupportAccess,
    OpenSupportSession,
    RequestSupportAccess,
)
from provisioning.errors import Issue, NotFound, PermissionDenied, codes
from provisioning.model import (
    OWNER_ROLE,
    Scope,
    SupportRelationship,
    SupportSession,
    SupportStatus,
    UserStatus,
)
from provisioning.ports import Message
from provisioning.rules._tx import Step, Tx, error
from provisioning.rules.access import roles
from provisioning.rules.agents import NEVER_DELEGATED

__all__ = [
    "LONGEST_RELATIONSHIP",
    "LONGEST_SESSION",
    "approve_support_access",
    "close_support_session",
    "end_support_access",
    "open_support_session",
    "request_support_access",
]

CODES: Final = codes(
    invalid=(
        "support.duration_invalid",
        "support.not_a_customer",
        "support.role_not_allowed",
        "support.role_unknown",
        "support.roles_required",
        "support.session_length_invalid",
    ),
    conflict=("support.relationship_exists",),
    state=(
        "support.ended",
        "support.not_active",
        "support.not_pending",
        "support.session_closed",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

LONGEST_RELATIONSHIP: Final = timedelta(days=730)
"""The longest a support relationship lasts (two years), as the careful platforms bound it."""
LONGEST_SESSION: Final = timedelta(hours=8)
"""The longest a support session lasts: a working day."""

_OWNER: Final = OWNER_ROLE


def request_support_access(tx: Tx, command: RequestSupportAccess) -> Step[SupportRelationship]:
    """Ask a customer for support access; active at once if the customer consents standingly."""
    tx.authorize("support.manage", command.parent_id)
    parent = tx.uow.accounts.get(command.parent_id)
    customer = tx.uow.accounts.find(command.customer_id)
    if customer is None or customer.parent_id != parent.id:  # another tenant's is no business
        return Step.refuse(
            [
                error(
                    "support.not_a_customer",
                    f"{command.customer_id!r} is no customer account of {parent.name}",
                    field="customer_id",
                )
            ]
        )
    issues = _role_issues(tx, customer.id, command.role_ids)
    days = command.duration_days
    if not 1 <= days <= LONGEST_RELATIONSHIP.days:
        issues.append(
            error(
                "support.duration_invalid",
                f"support access lasts 1 to {LONGEST_RELATIONSHIP.days} days, not {days}",
                field="duration_days",
            )
        )
    if tx.uow.relationships.live(parent.id, customer.id) is not None:
        issues.append(
            error(
                "support.relationship_exists",
                f"{parent.name} has a pending or active relationship with {customer.name}:"
                " end it first",
                field="customer_id",
            )
        )

    def run() -> SupportRelationship:
        relationship = SupportRelationship(
            id=tx.new_id(),
            parent_id=parent.id,
            customer_id=customer.id,
            role_ids=command.role_ids,
            duration_days=days,
            requested_at=tx.now,
        )
        if customer.support_consent:
            relationship = _activated(tx, relationship)
        tx.uow.relationships.add(relationship)
        if relationship.status is SupportStatus.PENDING:  # its owners decide: tell them
            _tell_owners(tx, relationship, parent.name)
        tx.record(
            "RequestSupportAccess",
            "support relationship",
            relationship.id,
            account_id=customer.id,
            detail=f"{parent.id} asks for {', '.join(sorted(command.role_ids))} for {days} days"
            f" ({relationship.status})",
        )
        return relationship

    return Step.proceed(run, issues)


def _tell_owners(tx: Tx, relationship: SupportRelationship, parent: str) -> None:
    """A `support.requested` message to each owner of the customer (who may approve it).

    Owners are those whose account grant holds `support.approve`: through
    `system:owner`, a role of the customer's that holds it, or by itself.
    """
    customer_id = relationship.customer_id
    deciding = {_OWNER} | {
        role.id
        for role in tx.uow.roles.of_account(customer_id)
        if "support.approve" in role.permissions
    }
    for grant in tx.uow.grants.of_account(customer_id):
        if grant.mailbox_id is not None:
            continue
        if not (grant.role_ids & deciding or "support.approve" in grant.permissions):
            continue
        owner = tx.uow.users.find(grant.user_id)
        if owner is None or owner.status is not UserStatus.ACTIVE:
            continue
        tx.notify(
            Message(
                template="support.requested",
                to=str(owner.username),
                data={
                    "relationship_id": relationship.id,
                    "parent": parent,
                    "roles": ", ".join(sorted(relationship.role_ids)),
                    "duration_days": str(relationship.duration_days),
                },
            )
        )


def _role_issues(tx: Tx, customer_id: str, role_ids: frozenset[str]) -> list[Issue]:
    """Roles usable in the customer, account-wide, none that gives the customer away."""
    if not role_ids:
        return [error("support.roles_required", "name the roles agents may use", field="role_ids")]
    found = roles(tx.uow, role_ids)
    issues = []
    for role_id in sorted(role_ids):
        role = found.get(role_id)
        if (
            role is None
            or role.scope is not Scope.ACCOUNT
            or role.account_id
            not in {
                None,
                customer_id,
            }
        ):
            issues.append(
                error(
                    "support.role_unknown",
                    f"{role_id!r} is no account role usable in the customer",
                    field="role_ids",
                )
            )
        elif (
            role.id == _OWNER
            or any(p.startswith("support.") for p in role.permissions)
            or role.permissions & NEVER_DELEGATED
        ):
            issues.append(
                error(
                    "support.role_not_allowed",
                    f"{role.name!r} would let an agent own, delete or re-staff the customer, or"
                    " its support access (a support role holds none of "
                    + ", ".join(sorted(NEVER_DELEGATED))
                    + ", support.*)",
                    field="role_ids",
                )
            )
    return issues


def _activated(tx: Tx, relationship: SupportRelationship) -> SupportRelationship:
    return attrs.evolve(
        relationship,
        status=SupportStatus.ACTIVE,
        approved_at=tx.now,
        expires_at=tx.now + timedelta(days=relationship.duration_days),
    )


def _relationship(tx: Tx, relationship_id: str) -> SupportRelationship:
    """The relationship, if the actor belongs to its parent or its customer; else `NotFound`."""
    relationship = tx.uow.relationships.get(relationship_id)
    if not (tx.member_of(relationship.parent_id) or tx.member_of(relationship.customer_id)):
        raise NotFound(entity="support relationship", key=relationship_id)
    return relationship


def _authorize_either_side(tx: Tx, parent_id: str, customer_id: str) -> None:
    """Return if the actor manages the parent's support access or owns the customer's."""
    if "support.manage" in tx.permissions(parent_id):
        return
    tx.authorize("support.approve", customer_id)


def approve_support_access(tx: Tx, command: ApproveSupportAccess) -> Step[SupportRelationship]:
    """The customer's owner approves a pending request."""
    relationship = _relationship(tx, command.relationship_id)
    tx.authorize("support.approve", relationship.customer_id)
    if relationship.status is not SupportStatus.PENDING:
        return Step.refuse(
            [
                error(
                    "support.not_pending",
                    f"the relationship is {relationship.status}, not waiting for approval",
                    field="relationship_id",
                )
            ]
        )

    def run() -> SupportRelationship:
        approved = tx.uow.relationships.update(_activated(tx, relationship))
        tx.record(
            "ApproveSupportAccess",
            "support relationship",
            relationship.id,
            account_id=relationship.customer_id,
            detail=f"until {approved.expires_at:%Y-%m-%d %H:%M}",
        )
        return approved

    return Step.proceed(run)


def end_support_access(tx: Tx, command: EndSupportAccess) -> Step[SupportRelationship]:
    """End a relationship from either side: the parent's managers or the customer's owner."""
    relationship = _relationship(tx, command.relationship_id)
    _authorize_either_side(tx, relationship.parent_id, relationship.customer_id)
    if relationship.status is SupportStatus.ENDED:
        return Step.refuse(
            [error("support.ended", "the relationship has ended already", field="relationship_id")]
        )
    side = "the parent" if tx.member_of(relationship.parent_id) else "the customer"

    def run() -> SupportRelationship:
        ended = tx.uow.relationships.update(
            attrs.evolve(relationship, status=SupportStatus.ENDED, ended_at=tx.now)
        )
        for session in tx.uow.sessions.of_relationship(relationship.id):
            if session.closed_at is None:
                tx.uow.sessions.update(attrs.evolve(session, closed_at=tx.now))
        tx.record(
            "EndSupportAccess",
            "support relationship",
            relationship.id,
            account_id=relationship.customer_id,
            detail=f"ended by {side}",
        )
        return ended

    return Step.proceed(run)


def open_support_session(tx: Tx, command: OpenSupportSession) -> Step[SupportSession]:
    """An agent of the parent, holding `support.act` there, opens a session in the customer."""
    agent_id = tx.actor.user_id
    if agent_id is None:  # the operator, a support actor, nobody: none of them is an agent
        raise PermissionDenied(actor=str(tx.actor), permission="support.act", account_id=None)
    relationship = tx.uow.relationships.find(command.relationship_id)
    if relationship is None or not tx.member_of(relationship.parent_id):
        raise NotFound(entity="support relationship", key=command.relationship_id)
    tx.authorize("support.act", relationship.parent_id)
    agent = tx.uow.users.get(agent_id)
    issues = []
    if not relationship.active_at(tx.now):
        state = "expired" if relationship.status is SupportStatus.ACTIVE else relationship.status
        issues.append(
            error(
                "support.not_active",
                f"the relationship is {state}: no session can be opened",
                field="relationship_id",
            )
        )
    elif relationship.expires_at is not None:
        tx.until(relationship.expires_at)
    minutes = command.minutes
    longest = int(LONGEST_SESSION.total_seconds() // 60)
    if not 1 <= minutes <= longest:
        issues.append(
            error(
                "support.session_length_invalid",
                f"a support session lasts 1 to {longest} minutes, not {minutes}",
                field="minutes",
            )
        )

    def run() -> SupportSession:
        assert relationship.expires_at is not None  # noqa: S101 - only an active one gets here
        session = SupportSession(
            id=tx.new_id(),
            relationship_id=relationship.id,
            parent_id=relationship.parent_id,
            customer_id=relationship.customer_id,
            agent_id=agent.id,
            agent=str(agent.username),
            opened_at=tx.now,
            expires_at=min(tx.now + timedelta(minutes=minutes), relationship.expires_at),
            reason=command.reason.strip(),
        )
        tx.uow.sessions.add(session)
        tx.record(
            "OpenSupportSession",
            "support session",
            session.id,
            account_id=relationship.customer_id,
            detail=f"agent {agent.username} of parent {relationship.parent_id}"
            f" until {session.expires_at:%H:%M}: {session.reason}".rstrip(": "),
        )
        return session

    return Step.proceed(run, issues)


def close_support_session(tx: Tx, command: CloseSupportSession) -> Step[SupportSession]:
    """Close a session: its agent (as itself or in it), or either side's managers."""
    session = tx.uow.sessions.get(command.session_id)
    own = tx.actor.session_id == session.id or tx.actor.user_id == session.agent_id
    if not own:
        if not (tx.member_of(session.parent_id) or tx.member_of(session.customer_id)):
            raise NotFound(entity="support session", key=session.id)
        _authorize_either_side(tx, session.parent_id, session.customer_id)
    if session.closed_at is not None:
        return Step.refuse(
            [error("support.session_closed", "the session is closed already", field="session_id")]
        )

    def run() -> SupportSession:
        closed = tx.uow.sessions.update(attrs.evolve(session, closed_at=tx.now))
        tx.record(
            "CloseSupportSession",
            "support session",
            session.id,
            account_id=session.customer_id,
            detail=f"agent {session.agent}",
        )
        return closed

    return Step.proceed(run)
