"""Classes of service: every user has one, and a default one never opens the admin panel."""

from __future__ import annotations

from provisioning.exceptions import Issue
from provisioning.model import ClassOfService
from provisioning.rules._issues import error

__all__ = ["admin_panel_default", "cos_not_found", "cos_required"]


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
