"""Handlers for invitations: invite, revoke, re-send, accept, decline, register."""

from __future__ import annotations

import functools
import hashlib
import hmac
from datetime import timedelta
from typing import Final

import attrs

from provisioning.commands import (
    AcceptInvitation,
    DeclineInvitation,
    InviteUser,
    RegisterWithInvitation,
    ResendInvitation,
    RevokeInvitation,
)
from provisioning.errors import InvalidValue, Issue, codes
from provisioning.model import (
    OWNER_ROLE,
    Credentials,
    Domain,
    DomainStatus,
    EmailAddress,
    Invitation,
    InvitationStatus,
    MailboxOffer,
    MfaState,
    Profile,
    User,
    Username,
)
from provisioning.ports import Message
from provisioning.principals import Actor, ActorKind
from provisioning.results import InvitationIssued
from provisioning.rules._tx import Step, Tx, error, hash_token, requested_id_issues
from provisioning.rules.access import belongs_to, permissions_of, roles
from provisioning.rules.accounts import free_account_name, new_account
from provisioning.rules.addresses import claim_issues
from provisioning.rules.agents import elevation_refused
from provisioning.rules.credentials import password_issues, password_policy
from provisioning.rules.domains import not_active
from provisioning.rules.grants import grant_issues, grantable, granted, merge_grant
from provisioning.rules.mailboxes import new_personal_mailbox, personal_mailbox_issues
from provisioning.rules.users import display_name

__all__ = [
    "accept_invitation",
    "decline_invitation",
    "hash_token",
    "invite_user",
    "register_with_invitation",
    "resend_invitation",
    "revoke_invitation",
]

CODES: Final = codes(
    invalid=(
        "invitation.foreign_domain",
        "invitation.validity_invalid",
    ),
    conflict=("invitation.duplicate",),
    stale=("invitation.grants_changed",),
    not_found=("mailbox.not_found",),
    denied=("invitation.not_addressee",),
    unauthenticated=("invitation.unknown",),
    state=(
        "invitation.expired",
        "invitation.nothing_new",
        "invitation.revoked",
        "invitation.used",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

_LONGEST_VALIDITY: Final = 90


def _validity_issues(days: object) -> list[Issue]:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= _LONGEST_VALIDITY:
        return [
            error(
                "invitation.validity_invalid",
                f"an invitation is valid for 1 to {_LONGEST_VALIDITY} days, not {days!r}",
                field="valid_for_days",
            )
        ]
    return []


def _held(tx: Tx, user_id: str, account_id: str, mailbox_id: str | None) -> frozenset[str]:
    grant = tx.uow.grants.for_scope(user_id, account_id, mailbox_id)
    return frozenset() if grant is None else grant.role_ids | grant.permissions


def _offer_issues(tx: Tx, command: InviteUser, invitee: User | None) -> list[Issue]:
    """The offer must be grantable; and offering someone what they hold already is no offer."""
    account_id = command.account_id
    issues = grant_issues(tx, account_id, None, command.role_ids, command.permissions)
    for offer in command.mailboxes:
        mailbox = tx.uow.mailboxes.find(offer.mailbox_id)
        if mailbox is None or mailbox.account_id != account_id:
            issues.append(
                error(
                    "mailbox.not_found", f"no mailbox {offer.mailbox_id!r} here", field="mailboxes"
                )
            )
            continue
        issues += grant_issues(
            tx, account_id, mailbox.id, offer.role_ids, offer.permissions, field="mailboxes"
        )
    if invitee is not None:
        new = (command.role_ids | command.permissions) - _held(tx, invitee.id, account_id, None)
        for offer in command.mailboxes:
            held = _held(tx, invitee.id, account_id, offer.mailbox_id)
            new |= (offer.role_ids | offer.permissions) - held
        member = tx.uow.grants.for_scope(invitee.id, account_id, None) is not None
        if not new and (member or command.mailboxes or command.role_ids or command.permissions):
            issues.append(
                error(
                    "invitation.nothing_new",
                    f"{invitee.username} already holds everything this invitation offers",
                    field="email",
                )
            )
    return issues


def _offer_digest(tx: Tx, role_ids: frozenset[str], mailboxes: tuple[MailboxOffer, ...]) -> str:
    """A fingerprint of the roles and mailboxes an offer refers to, as they are now.

    A role counts with its account, scope and permissions, a mailbox with its
    account and address: a role or mailbox created later under a reused id,
    or one whose permissions changed, gives another digest.
    """
    parts = []
    found = roles(tx.uow, role_ids)
    for role_id in sorted(role_ids):
        role = found.get(role_id)
        held = "missing" if role is None else f"{role.account_id}|{role.scope}|"
        held += "" if role is None else ",".join(sorted(role.permissions))
        parts.append(f"role {role_id}: {held}")
    for offer in sorted(mailboxes, key=lambda offer: offer.mailbox_id):
        mailbox = tx.uow.mailboxes.find(offer.mailbox_id)
        where = "missing" if mailbox is None else f"{mailbox.account_id}|{mailbox.address.key}"
        parts.append(f"mailbox {offer.mailbox_id}: {where}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _grants_changed(tx: Tx, invitation: Invitation) -> Issue | None:
    """`invitation.grants_changed` if what the invitation refers to is not what it was."""
    if not invitation.offer_digest:
        return None  # stored before invitations kept a digest
    now = _offer_digest(tx, invitation.role_ids, invitation.mailboxes)
    if hmac.compare_digest(now, invitation.offer_digest):
        return None
    return error(
        "invitation.grants_changed",
        "the roles or mailboxes this invitation offers have changed since it was sent;"
        " ask for a new invitation",
        field="invitation_id",
    )


def _inviter_may_still_grant(tx: Tx, invitation: Invitation) -> Issue | None:
    """`invitation.grants_changed` if the inviter may no longer grant what it offered.

    The inviter's permissions are read as they are now: an inviter since
    demoted, disabled or deleted no longer vouches for what it offered.
    """
    if invitation.inviter.startswith(f"{ActorKind.PLATFORM}:"):
        return None
    kind, _, _ = invitation.inviter.partition(":")
    inviter = (  # a support session and an API client act until the clock says otherwise
        Actor(ActorKind(kind), invitation.inviter_id).checked_at(tx.now)
        if kind in (ActorKind.SUPPORT, ActorKind.CLIENT)
        else Actor.user(invitation.inviter_id)
    )

    @functools.cache
    def held_in(mailbox_id: str | None) -> frozenset[str]:
        return permissions_of(tx.uow, inviter, invitation.account_id, mailbox_id)

    scopes = [
        (None, invitation.role_ids, invitation.permissions),
        *((o.mailbox_id, o.role_ids, o.permissions) for o in invitation.mailboxes),
    ]
    if all(
        (allowed := grantable(held_in, mailbox_id)) is None
        or granted(tx.uow, role_ids, permissions) <= allowed
        for mailbox_id, role_ids, permissions in scopes
    ):
        return None
    return error(
        "invitation.grants_changed",
        "whoever sent this invitation may no longer grant what it offers; ask for a new one",
        field="invitation_id",
    )


def _expired(tx: Tx, invitation: Invitation) -> bool:
    """Whether the invitation has expired; if not, the batch holds only until it does."""
    if invitation.expires_at <= tx.now:
        return True
    tx.until(invitation.expires_at)
    return False


def _notify_invitee(tx: Tx, invitation: Invitation, token: str, *, registered: bool) -> None:
    account = tx.uow.accounts.get(invitation.account_id)
    tx.notify(
        Message(
            template="invitation.registered" if registered else "invitation.unregistered",
            to=str(invitation.email),
            data={"account": account.name, "invitation_id": invitation.id},
            secrets={"token": token},
        )
    )


def invite_user(tx: Tx, command: InviteUser) -> Step[InvitationIssued]:
    """Invite an address to the account with what the invitation offers."""
    tx.authorize("invitations.send", command.account_id)
    tx.uow.accounts.get(command.account_id)
    issues = requested_id_issues(
        command.invitation_id, tx.uow.invitations.find, field="invitation_id"
    )
    issues += _validity_issues(command.valid_for_days)
    try:
        email = EmailAddress.parse(command.email)
    except InvalidValue as invalid:
        return Step.refuse([*issues, invalid.issue()])
    invitee = tx.uow.users.by_address(email)
    if invitee is not None and not belongs_to(tx.uow, invitee, command.account_id):
        invitee = None  # a user of another account is none of this account's business
    issues += _offer_issues(tx, command, invitee)
    if command.role_ids or command.permissions or command.mailboxes:
        issues += elevation_refused(
            tx, "invites no one with a role, a permission or a mailbox", field="role_ids"
        )
    pending = [
        i
        for i in tx.uow.invitations.of_email(email)
        if i.account_id == command.account_id
        and i.status is InvitationStatus.PENDING
        and not _expired(tx, i)
    ]
    if pending:
        issues.append(
            error(
                "invitation.duplicate",
                f"{email} has a pending invitation to this account already; re-send it instead",
                field="email",
            )
        )

    def run() -> InvitationIssued:
        token = tx.token()
        invitation = Invitation(
            id=tx.new_id(command.invitation_id),
            account_id=command.account_id,
            email=email,
            inviter_id=tx.actor.id,
            created_at=tx.now,
            expires_at=tx.now + timedelta(days=command.valid_for_days),
            token_hash=hash_token(token),
            role_ids=command.role_ids,
            permissions=command.permissions,
            mailboxes=command.mailboxes,
            inviter=str(tx.actor),
            offer_digest=_offer_digest(tx, command.role_ids, command.mailboxes),
        )
        tx.uow.invitations.add(invitation)
        tx.record(
            "InviteUser",
            "invitation",
            invitation.id,
            account_id=command.account_id,
            detail=str(email),
        )
        registered = tx.uow.users.by_address(email) is not None  # picks the invitee's link
        _notify_invitee(tx, invitation, token, registered=registered)
        return InvitationIssued(invitation=invitation, token=token, registered=invitee is not None)

    return Step.proceed(run, issues)


def _state_issue(tx: Tx, invitation: Invitation) -> Issue | None:
    if invitation.status is InvitationStatus.REVOKED:
        return error("invitation.revoked", "the invitation was withdrawn")
    if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED):
        return error("invitation.used", f"the invitation was {invitation.status} already")
    if invitation.status is InvitationStatus.EXPIRED or _expired(tx, invitation):
        return error("invitation.expired", "the invitation has expired; ask for a new one")
    return None


def _managed(tx: Tx, invitation_id: str) -> Invitation:
    invitation = tx.known("invitation", invitation_id, tx.uow.invitations.find(invitation_id))
    tx.authorize("invitations.send", invitation.account_id)
    return invitation


def revoke_invitation(tx: Tx, command: RevokeInvitation) -> Step[Invitation]:
    """Withdraw a pending invitation; its link stops working."""
    invitation = _managed(tx, command.invitation_id)
    problem = _state_issue(tx, invitation)
    if problem is not None and problem.code != "invitation.expired":
        return Step.refuse([problem])

    def run() -> Invitation:
        stored = tx.uow.invitations.update(
            attrs.evolve(invitation, status=InvitationStatus.REVOKED)
        )
        tx.record("RevokeInvitation", "invitation", invitation.id, account_id=invitation.account_id)
        return stored

    return Step.proceed(run)


def resend_invitation(tx: Tx, command: ResendInvitation) -> Step[InvitationIssued]:
    """Send a pending or expired invitation again: a new token (the old link dies) and expiry."""
    invitation = _managed(tx, command.invitation_id)
    issues = _validity_issues(command.valid_for_days)
    problem = _state_issue(tx, invitation)
    if problem is not None and problem.code != "invitation.expired":
        issues.append(problem)
    # Re-sending hands out a working link: only to what the re-sender may grant itself.
    issues += grant_issues(
        tx, invitation.account_id, None, invitation.role_ids, invitation.permissions
    )
    for offer in invitation.mailboxes:
        issues += grant_issues(
            tx,
            invitation.account_id,
            offer.mailbox_id,
            offer.role_ids,
            offer.permissions,
            field="mailboxes",
        )
    changed = _grants_changed(tx, invitation)
    if changed is not None:
        issues.append(changed)

    def run() -> InvitationIssued:
        token = tx.token()
        stored = tx.uow.invitations.update(
            attrs.evolve(
                invitation,
                status=InvitationStatus.PENDING,
                token_hash=hash_token(token),
                expires_at=tx.now + timedelta(days=command.valid_for_days),
                inviter_id=tx.actor.id,
                inviter=str(tx.actor),
            )
        )
        tx.record("ResendInvitation", "invitation", invitation.id, account_id=invitation.account_id)
        invitee = tx.uow.users.by_address(invitation.email)
        _notify_invitee(tx, stored, token, registered=invitee is not None)
        known = invitee is not None and belongs_to(tx.uow, invitee, invitation.account_id)
        return InvitationIssued(invitation=stored, token=token, registered=known)

    return Step.proceed(run, issues)


def _addressee(tx: Tx, invitation: Invitation) -> tuple[User | None, list[Issue]]:
    """The acting user, when the invitation is addressed to one of its addresses.

    That is the rule for answering an invitation: no permission gives the
    right to answer someone else's. To an actor outside the inviting account
    another's invitation is not found; to its members it is an issue.
    """
    user = tx.uow.users.find(tx.actor.user_id) if tx.actor.user_id else None
    if user is not None and invitation.email.key in user.addresses:
        return user, []
    tx.known("invitation", invitation.id, invitation)
    return None, [
        error(
            "invitation.not_addressee",
            "only the person the invitation is addressed to answers it",
            field="invitation_id",
        )
    ]


def _grant_offer(tx: Tx, invitation: Invitation, user: User, action: str) -> None:
    account_id = invitation.account_id
    if invitation.role_ids or invitation.permissions:
        merge_grant(
            tx,
            user_id=user.id,
            account_id=account_id,
            mailbox_id=None,
            role_ids=invitation.role_ids,
            permissions=invitation.permissions,
            action=action,
        )
    for offer in invitation.mailboxes:
        if tx.uow.mailboxes.find(offer.mailbox_id) is None:
            continue  # deleted since the invitation was sent: nothing left to grant there
        merge_grant(
            tx,
            user_id=user.id,
            account_id=account_id,
            mailbox_id=offer.mailbox_id,
            role_ids=offer.role_ids,
            permissions=offer.permissions,
            action=action,
        )


def _answer(tx: Tx, invitation: Invitation, user: User, status: InvitationStatus) -> Invitation:
    stored = tx.uow.invitations.update(attrs.evolve(invitation, status=status))
    action = "AcceptInvitation" if status is InvitationStatus.ACCEPTED else "DeclineInvitation"
    tx.record(
        action, "invitation", invitation.id, account_id=invitation.account_id, detail=str(status)
    )
    inviter = tx.uow.users.find(invitation.inviter_id)
    if inviter is not None:
        tx.notify(
            Message(
                template=f"invitation.{status}",
                to=str(inviter.username),
                data={"invitee": str(user.username), "invitation_id": invitation.id},
            )
        )
    return stored


def _still_valid_offer(tx: Tx, invitation: Invitation) -> Issue | None:
    """The offer must refer to what it did and be within what the inviter may grant now."""
    return _grants_changed(tx, invitation) or _inviter_may_still_grant(tx, invitation)


def accept_invitation(tx: Tx, command: AcceptInvitation) -> Step[Invitation]:
    """The invited user accepts: it receives exactly what was offered; the inviter is told."""
    invitation = tx.uow.invitations.get(command.invitation_id)
    user, issues = _addressee(tx, invitation)
    if user is None:
        return Step.refuse(issues)
    problem = _state_issue(tx, invitation) or _still_valid_offer(tx, invitation)
    if problem is not None:
        return Step.refuse([problem])

    def run() -> Invitation:
        assert user is not None  # noqa: S101 - refused above otherwise
        _grant_offer(tx, invitation, user, "AcceptInvitation")
        return _answer(tx, invitation, user, InvitationStatus.ACCEPTED)

    return Step.proceed(run)


def decline_invitation(tx: Tx, command: DeclineInvitation) -> Step[Invitation]:
    """The invited user declines: nothing is granted; the inviter is told."""
    invitation = tx.uow.invitations.get(command.invitation_id)
    user, issues = _addressee(tx, invitation)
    if user is None:
        return Step.refuse(issues)
    problem = _state_issue(tx, invitation)
    if problem is not None:
        return Step.refuse([problem])
    answerer = user
    return Step.proceed(lambda: _answer(tx, invitation, answerer, InvitationStatus.DECLINED))


def _by_token(tx: Tx, token: str) -> Invitation | None:
    digest = hash_token(token)
    invitation = tx.uow.invitations.by_token_hash(digest)
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        return None
    return invitation


def _registration_issues(tx: Tx, username: Username, domain: Domain | None) -> list[Issue]:
    hint = ": if it is yours, sign in and accept the invitation"
    issues = claim_issues(tx, username, field="token", hint=hint)
    if domain is not None and domain.status is DomainStatus.INACTIVE:
        issues.append(not_active(domain, "nobody registers on it now", field="token"))
    return issues


def _own_account(tx: Tx, user: User) -> None:
    """A non-corporate registrant's own account: it owns it, and its personal mailbox is there."""
    own = new_account(
        tx,
        name=free_account_name(tx, user.profile.display_name or user.username.local),
        action="RegisterWithInvitation",
    )
    merge_grant(
        tx,
        user_id=user.id,
        account_id=own.id,
        mailbox_id=None,
        role_ids=frozenset({OWNER_ROLE}),
        permissions=frozenset(),
        action="RegisterWithInvitation",
    )
    new_personal_mailbox(tx, user, own.id, "RegisterWithInvitation")


def register_with_invitation(tx: Tx, command: RegisterWithInvitation) -> Step[User]:
    """Someone new registers through an invitation: a profile, and the offer on top.

    On an active domain of the inviting account the registrant becomes one of
    its corporate users and follows its settings: its class of service, the
    domain's second factor, a personal mailbox when the account creates them.
    Anywhere else (a domain no account has, or one of the inviting account's
    that is not active yet) it is a non-corporate user with an account of its
    own, which holds its personal mailbox; an account that activates the
    domain later adopts it. Nobody registers on a deactivated domain, nor on
    another account's domain.
    """
    invitation = _by_token(tx, command.token)
    if invitation is None:
        return Step.refuse(
            [error("invitation.unknown", "this invitation link is not valid", field="token")]
        )
    problem = _state_issue(tx, invitation) or _still_valid_offer(tx, invitation)
    if problem is not None:
        return Step.refuse([problem])
    username = Username(local=invitation.email.local, domain=invitation.email.domain)
    domain = tx.uow.domains.by_name(username.domain)
    if domain is not None and domain.account_id != invitation.account_id:
        # Only the account that owns a domain creates users at its addresses.
        return Step.refuse(
            [
                error(
                    "invitation.foreign_domain",
                    f"{username.domain} belongs to another organisation: its administrators"
                    " create its addresses; sign in there and accept the invitation",
                    field="token",
                )
            ]
        )
    issues = _registration_issues(tx, username, domain)
    account = tx.uow.accounts.get(invitation.account_id)
    corporate = domain is not None and domain.status is DomainStatus.ACTIVE
    cos_id = None
    if corporate and domain is not None:
        cos_id = domain.default_cos_id or account.default_cos_id
    cos = tx.uow.classes_of_service.find(cos_id) if cos_id is not None else None
    issues += password_issues(
        password_policy(account if corporate else None, cos),
        command.password,
        command.password_repeat,
        username,
        account.name,
    )
    first, last = command.first_name.strip(), command.last_name.strip()
    user = User(
        id=tx.new_id(),
        username=username,
        created_at=tx.now,
        updated_at=tx.now,
        account_id=account.id if corporate else None,
        domain_id=domain.id if corporate and domain is not None else None,
        cos_id=cos_id,
        profile=Profile(
            first_name=first,
            last_name=last,
            display_name=display_name(first, last)[0],
        ),
        corporate=corporate,
        mfa=MfaState(required=corporate and domain is not None and domain.require_2fa),
    )
    personal = account.personal_mailbox_on_create if corporate else True
    if personal:
        issues += personal_mailbox_issues(tx, user, account.id)

    def run() -> User:
        stored = attrs.evolve(
            user,
            credentials=Credentials(
                password_hash=tx.hash_password(command.password), changed_at=tx.now
            ),
        )
        tx.uow.users.add(stored)
        kind = "corporate user" if corporate else "non-corporate user"
        tx.record(
            "RegisterWithInvitation",
            "user",
            stored.id,
            account_id=stored.account_id,
            detail=f"{username} ({kind})",
        )
        if not corporate:
            _own_account(tx, stored)
        elif personal:
            new_personal_mailbox(tx, stored, account.id, "RegisterWithInvitation")
        _grant_offer(tx, invitation, stored, "RegisterWithInvitation")
        _answer(tx, invitation, stored, InvitationStatus.ACCEPTED)
        return stored

    return Step.proceed(run, issues)
