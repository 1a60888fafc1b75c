"""Removing a user or a mailbox with everything that refers to it, in the order the store needs.

Grants go before what they are in, and a user whose default mailbox goes
falls back to its personal one; each removal is audited by its action.
"""

from __future__ import annotations

import attrs

from provisioning.model import Mailbox, User
from provisioning.rules._tx import Tx
from provisioning.rules.grants import write_grant

__all__ = ["release_seat", "remove_mailbox", "remove_phones", "remove_support", "remove_user"]


def remove_mailbox(
    tx: Tx,
    mailbox: Mailbox,
    action: str,
    *,
    version: int | None = None,
    leaving: str | None = None,
) -> None:
    """Delete a mailbox, every grant in it, and every user's choice of it as default.

    `leaving` is a user being removed along with it, which is left as it is.
    """
    for grant in tx.uow.grants.of_mailbox(mailbox.id):
        write_grant(tx, grant, None)
        tx.record(action, "grant", grant.id, account_id=mailbox.account_id)
    for user in tx.uow.users.defaulting_to(mailbox.id):
        if user.id == leaving:
            continue
        tx.uow.users.update(attrs.evolve(user, default_mailbox_id=None, updated_at=tx.now))
    tx.uow.mailboxes.remove(mailbox.id, version=version)
    tx.record(
        action, "mailbox", mailbox.id, account_id=mailbox.account_id, detail=str(mailbox.address)
    )


def remove_user(
    tx: Tx, user: User, action: str, *, version: int | None = None, detail: str | None = None
) -> None:
    """Delete a user with its grants and its personal mailboxes; `detail` audits it (its name)."""
    for grant in tx.uow.grants.of_user(user.id):
        write_grant(tx, grant, None)
    for mailbox in tx.uow.mailboxes.of_owner(user.id):
        remove_mailbox(tx, mailbox, action, leaving=user.id)
    release_seat(tx, user.id, action)
    for number in tx.uow.numbers.of_user(user.id):  # free again, for the account's next user
        tx.uow.numbers.update(attrs.evolve(number, user_id=None))
        tx.record(action, "number", number.id, account_id=number.account_id, detail="released")
    for device in tx.uow.devices.of_user(user.id):
        tx.uow.devices.update(attrs.evolve(device, user_id=None, primary=False, ports_used=0))
        tx.record(action, "device", device.id, account_id=device.account_id, detail="released")
    tx.uow.users.remove(user.id, version=version)
    tx.record(
        action,
        "user",
        user.id,
        account_id=user.account_id,
        detail=str(user.username) if detail is None else detail,
    )


def release_seat(tx: Tx, user_id: str, action: str) -> None:
    """Remove the user's phone seat, if any: its station is free again."""
    seat = tx.uow.seats.of_user(user_id)
    if seat is None:
        return
    tx.uow.seats.remove(seat.id)
    station = tx.uow.stations.find(seat.station_id)
    if station is not None:
        tx.uow.stations.update(attrs.evolve(station, in_use=max(0, station.in_use - 1)))
    tx.record(action, "seat", seat.id, account_id=seat.account_id, detail="released")


def remove_phones(tx: Tx, account_id: str, action: str) -> None:
    """Remove the account's phone seats, devices, numbers and station packages."""
    uow = tx.uow
    for device in uow.devices.of_account(account_id):
        uow.devices.remove(device.id)
        tx.record(action, "device", device.id, account_id=account_id, detail=str(device.mac))
    for seat in uow.seats.of_account(account_id):
        uow.seats.remove(seat.id)
        tx.record(action, "seat", seat.id, account_id=account_id)
    for number in uow.numbers.of_account(account_id):
        uow.numbers.remove(number.id)
        tx.record(action, "number", number.id, account_id=account_id, detail=str(number.number))
    for station in uow.stations.of_account(account_id):
        uow.stations.remove(station.id)
        tx.record(action, "station", station.id, account_id=account_id, detail=station.name)


def remove_support(tx: Tx, account_id: str, action: str) -> None:
    """Remove the support relationships and sessions the account is a side of."""
    uow = tx.uow
    sessions = {s.id: s for s in uow.sessions.of_customer(account_id)}
    sessions |= {s.id: s for s in uow.sessions.of_parent(account_id)}
    for session in sessions.values():
        uow.sessions.remove(session.id)
        tx.record(action, "support session", session.id, account_id=account_id)
    relationships = {r.id: r for r in uow.relationships.of_customer(account_id)}
    relationships |= {r.id: r for r in uow.relationships.of_parent(account_id)}
    for relationship in relationships.values():
        uow.relationships.remove(relationship.id)
        tx.record(action, "support relationship", relationship.id, account_id=account_id)
