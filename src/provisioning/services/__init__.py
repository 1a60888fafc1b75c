"""Services: one handler per command, looked up by the command's type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from provisioning import commands
from provisioning.services._access import authorize, permissions_of
from provisioning.services._base import Step, Tx
from provisioning.services.accounts import (
    create_account,
    delete_account,
    set_domain_policy,
    update_account,
)
from provisioning.services.admins import create_admin, delete_admin, update_admin
from provisioning.services.classes_of_service import (
    create_class_of_service,
    delete_class_of_service,
    update_class_of_service,
)
from provisioning.services.domains import (
    activate_domain,
    add_domain,
    deactivate_domain,
    delete_domain,
    unverify_domain,
    update_domain,
    verify_domain,
)

__all__ = ["HANDLERS", "Handler", "Step", "Tx", "authorize", "permissions_of"]

Handler = Callable[[Tx, Any], Step[Any]]

HANDLERS: Final[Mapping[type, Handler]] = MappingProxyType(
    {
        commands.CreateAccount: create_account,
        commands.UpdateAccount: update_account,
        commands.CreateClassOfService: create_class_of_service,
        commands.UpdateClassOfService: update_class_of_service,
        commands.DeleteClassOfService: delete_class_of_service,
        commands.SetDomainPolicy: set_domain_policy,
        commands.DeleteAccount: delete_account,
        commands.AddDomain: add_domain,
        commands.UpdateDomain: update_domain,
        commands.VerifyDomain: verify_domain,
        commands.ActivateDomain: activate_domain,
        commands.DeactivateDomain: deactivate_domain,
        commands.UnverifyDomain: unverify_domain,
        commands.DeleteDomain: delete_domain,
        commands.CreateAdmin: create_admin,
        commands.UpdateAdmin: update_admin,
        commands.DeleteAdmin: delete_admin,
    }
)
"""The handler of each command type."""
