"""Classes of service: every user has one, and a default one never opens the admin panel."""

from __future__ import annotations

from typing import Final

from provisioning.errors import Issue, codes
from provisioning.model import ClassOfService, User
from provisioning.rules._issues import error
from provisioning.rules._tx import Tx
from provisioning.rules.access import ADMIN_PANEL_PERMISSIONS

__all__ = [
    "admin_after",
    "admin_panel_default",
    "assignable_cos",
    "cos_not_found",
    "cos_required",
    "panel_issues",
]

CODES: Final = codes(
    invalid=(
        "cos.admin_panel_default",
        "cos.admin_panel_forbidden",
        "cos.required",
        "cos.system_reserved",
    ),
    not_found=("cos.not_found",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def admin_panel_default(cos: ClassOfService, *, field: str, opening: bool = False) -> list[Issue]:
    """`cos.admin_panel_default` if `cos` opens the admin panel and is (or becomes) a default.

    What every new user gets (an account's or a domain's default class of
    service) never opens the admin panel. `opening` says the class of
    service is a default already and the change would open the panel;
    otherwise it is the one being made a default.
    """
    if opening:
        message = (
            f"{cos.name!r} is what the account's new users get: it cannot open the admin panel"
        )
    elif cos.admin_panel:
        message = f"{cos.name!r} opens the admin panel: it cannot be what every new user gets"
    else:
        return []
    return [error("cos.admin_panel_default", message, field=field)]


def cos_required(remedy: str, *, field: str) -> Issue:
    """`cos.required`: every user has a class of service; `remedy` says how to give one."""
    return error("cos.required", f"every user has a class of service: {remedy}", field=field)


def cos_not_found(cos_id: str, *, field: str, why: str = "") -> Issue:
    """`cos.not_found`: no class of service `cos_id` that this account may use (`why` says more).

    One of another account is as absent as one nobody holds.
    """
    return error(
        "cos.not_found",
        f"no class of service {cos_id!r}" + (f": {why}" if why else ""),
        field=field,
    )


def assignable_cos(
    tx: Tx, account_id: str, cos_id: str | None, *, field: str
) -> tuple[list[Issue], ClassOfService | None]:
    """Whether a user or domain of the account may be given this class of service.

    It must be the account's or platform-wide, and not a system one.
    """
    if cos_id is None:
        return [], None
    cos = tx.uow.classes_of_service.find(cos_id)
    if cos is None or cos.account_id not in (None, account_id):
        return [cos_not_found(cos_id, field=field)], None
    if cos.system:
        return [
            error(
                "cos.system_reserved",
                f"{cos.name!r} is a system class of service and is never assigned",
                field=field,
            )
        ], cos
    return [], cos


def panel_issues(tx: Tx, account_id: str | None, what: str, *, field: str) -> list[Issue]:
    """Whether the actor may make or unmake administrators of the account by class of service.

    A class of service that opens the admin panel gives its holders
    `system:administrator`'s permissions. Assigning one, taking one away, or
    opening or closing the panel of one in use needs `admins.manage` and
    every permission it gives (`cos.admin_panel_forbidden`).
    """
    missing = {"admins.manage", *ADMIN_PANEL_PERMISSIONS} - tx.permissions(account_id)
    if not missing:
        return []
    return [
        error(
            "cos.admin_panel_forbidden",
            f"{what}: only those who may create administrators, and hold what an"
            f" administrator holds, may do that (missing {', '.join(sorted(missing))})",
            field=field,
        )
    ]


def admin_after(user: User, cos: ClassOfService | None) -> bool:
    """Whether `user` is an administrator once it holds `cos`.

    Those created as administrators (they have a primary email) stay ones;
    anyone else is one exactly while its class of service opens the panel.
    """
    return user.primary_email is not None or (
        cos is not None and cos.admin_panel and not cos.system
    )
