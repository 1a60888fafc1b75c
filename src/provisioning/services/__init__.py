"""Services: one handler per command, looked up by the command's type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from provisioning import commands
from provisioning.services._access import authorize, permissions_of
from provisioning.services._base import Step, Tx
from provisioning.services.accounts import create_account, update_account
from provisioning.services.classes_of_service import (
    create_class_of_service,
    delete_class_of_service,
    update_class_of_service,
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
    }
)
"""The handler of each command type."""
