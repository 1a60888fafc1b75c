"""Queries of phones: numbers, devices, station packages and seats."""

from __future__ import annotations

from provisioning.model import (
    Device,
    DirectNumber,
    PhoneSeat,
    StationPackage,
)
from provisioning.ports import Environment
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, page_of, phones_of, query, readable_user

__all__ = ["devices", "phone_numbers", "phone_seat", "station_packages", "user_devices"]


@query
def phone_numbers(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    free_only: bool = False,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[DirectNumber]:
    """The account's phone numbers in E.164 order (those assigned to nobody, with `free_only`).

    Needs `phones.manage` in the account.
    """
    with ctx.store.snapshot() as uow:
        phones_of(uow, actor, account_id)
        found = uow.numbers.of_account(account_id)
    shown = [n for n in found if n.user_id is None] if free_only else found
    return page_of(shown, offset, limit, after)


@query
def devices(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    free_only: bool = False,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[Device]:
    """The account's devices by MAC address (those assigned to nobody, with `free_only`).

    Needs `phones.manage` in the account.
    """
    with ctx.store.snapshot() as uow:
        phones_of(uow, actor, account_id)
        found = uow.devices.of_account(account_id)
    shown = [d for d in found if d.user_id is None] if free_only else found
    return page_of(shown, offset, limit, after)


@query
def user_devices(ctx: Environment, actor: Actor, user_id: str) -> list[Device]:
    """The user's devices, its primary first, for whoever may read the account's users."""
    with ctx.store.snapshot() as uow:
        return uow.devices.of_user(readable_user(uow, actor, user_id).id)


@query
def station_packages(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    *,
    free_only: bool = False,
    offset: int = 0,
    limit: int = PAGE,
    after: str | None = None,
) -> Page[StationPackage]:
    """The account's station packages by name, each with how many are owned, in use and free.

    With `free_only`, those with a station left. Needs `phones.manage` in the account.
    """
    with ctx.store.snapshot() as uow:
        phones_of(uow, actor, account_id)
        found = uow.stations.of_account(account_id)
    shown = [s for s in found if s.free > 0] if free_only else found
    return page_of(shown, offset, limit, after)


@query
def phone_seat(ctx: Environment, actor: Actor, user_id: str) -> PhoneSeat | None:
    """The user's phone seat (None without one), for whoever may read the account's users."""
    with ctx.store.snapshot() as uow:
        return uow.seats.of_user(readable_user(uow, actor, user_id).id)
