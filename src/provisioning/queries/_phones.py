"""Queries of phones: numbers, devices, station packages and seats."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from provisioning.model import (
    Device,
    DirectNumber,
    PhoneSeat,
    StationPackage,
)
from provisioning.ports import Environment, UnitOfWork
from provisioning.principals import Actor
from provisioning.queries._base import PAGE, Page, page_of, phones_of, query, readable_user

__all__ = ["devices", "phone_numbers", "phone_seat", "station_packages", "user_devices"]

_T = TypeVar("_T")


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
    return _inventory(
        ctx,
        actor,
        account_id,
        lambda uow: uow.numbers.of_account(account_id),
        kept=(lambda number: number.user_id is None) if free_only else None,
        paging=(offset, limit, after),
    )


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
    return _inventory(
        ctx,
        actor,
        account_id,
        lambda uow: uow.devices.of_account(account_id),
        kept=(lambda device: device.user_id is None) if free_only else None,
        paging=(offset, limit, after),
    )


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
    return _inventory(
        ctx,
        actor,
        account_id,
        lambda uow: uow.stations.of_account(account_id),
        kept=(lambda package: package.free > 0) if free_only else None,
        paging=(offset, limit, after),
    )


@query
def phone_seat(ctx: Environment, actor: Actor, user_id: str) -> PhoneSeat | None:
    """The user's phone seat (None without one), for whoever may read the account's users."""
    with ctx.store.snapshot() as uow:
        return uow.seats.of_user(readable_user(uow, actor, user_id).id)


def _inventory(
    ctx: Environment,
    actor: Actor,
    account_id: str,
    rows: Callable[[UnitOfWork], list[_T]],
    *,
    kept: Callable[[_T], bool] | None,
    paging: tuple[int, int, str | None],
) -> Page[_T]:
    """One page of an account's phone inventory (those `kept`, with one), for `phones.manage`."""
    with ctx.store.snapshot() as uow:
        phones_of(uow, actor, account_id)
        found = rows(uow)
    shown = found if kept is None else [row for row in found if kept(row)]
    return page_of(shown, *paging)
