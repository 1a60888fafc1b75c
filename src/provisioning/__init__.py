"""Provision the tenants of an email and communications platform.

Every change is a command, validated by `plan` and executed by `apply` (or
both at once by `run`) against a store reached through a `Context`:

Examples:
    >>> from provisioning import Actor, Context, CreateAccount, run
    >>> ctx = Context.in_memory()
    >>> account = run(ctx, Actor.platform(), CreateAccount(name="Acme"))
    >>> account.name
    'Acme'
"""

from provisioning import queries
from provisioning._converter import to_export
from provisioning.commands import (
    UNCHANGED,
    Command,
    CreateAccount,
    CreateClassOfService,
    DeleteClassOfService,
    UpdateAccount,
    UpdateClassOfService,
)
from provisioning.exceptions import (
    Conflict,
    InvalidValue,
    Issue,
    Location,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    Severity,
    UsageError,
    ValidationFailed,
)
from provisioning.principals import Actor
from provisioning.workflow import Context, NotificationFailed, Outcome, Plan, apply, plan, run

__all__ = [
    "UNCHANGED",
    "Actor",
    "Command",
    "Conflict",
    "Context",
    "CreateAccount",
    "CreateClassOfService",
    "DeleteClassOfService",
    "InvalidValue",
    "Issue",
    "Location",
    "NotFound",
    "NotificationFailed",
    "Outcome",
    "PermissionDenied",
    "Plan",
    "ProvisioningError",
    "Severity",
    "UpdateAccount",
    "UpdateClassOfService",
    "UsageError",
    "ValidationFailed",
    "apply",
    "plan",
    "queries",
    "run",
    "to_export",
]
