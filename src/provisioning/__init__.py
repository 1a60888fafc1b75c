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
    ActivateDomain,
    AddDomain,
    Authenticate,
    Command,
    CreateAccount,
    CreateAdmin,
    CreateClassOfService,
    CreateUser,
    DeactivateDomain,
    DeleteAccount,
    DeleteAdmin,
    DeleteClassOfService,
    DeleteDomain,
    DeleteUser,
    DirectoryEntry,
    EnrollMfa,
    FinalizeMfa,
    ReinitializeMfa,
    RenameUser,
    ResetPassword,
    SetDomainPolicy,
    SetPassword,
    SyncDirectory,
    UnverifyDomain,
    UpdateAccount,
    UpdateAdmin,
    UpdateClassOfService,
    UpdateDomain,
    UpdateUser,
    VerifyDomain,
)
from provisioning.exceptions import (
    Conflict,
    DnsUnavailable,
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
from provisioning.workflow import (
    Context,
    NotificationFailed,
    Outcome,
    Plan,
    Ports,
    apply,
    plan,
    run,
)

__all__ = [
    "UNCHANGED",
    "ActivateDomain",
    "Actor",
    "AddDomain",
    "Authenticate",
    "Command",
    "Conflict",
    "Context",
    "CreateAccount",
    "CreateAdmin",
    "CreateClassOfService",
    "CreateUser",
    "DeactivateDomain",
    "DeleteAccount",
    "DeleteAdmin",
    "DeleteClassOfService",
    "DeleteDomain",
    "DeleteUser",
    "DirectoryEntry",
    "DnsUnavailable",
    "EnrollMfa",
    "FinalizeMfa",
    "InvalidValue",
    "Issue",
    "Location",
    "NotFound",
    "NotificationFailed",
    "Outcome",
    "PermissionDenied",
    "Plan",
    "Ports",
    "ProvisioningError",
    "ReinitializeMfa",
    "RenameUser",
    "ResetPassword",
    "SetDomainPolicy",
    "SetPassword",
    "Severity",
    "SyncDirectory",
    "UnverifyDomain",
    "UpdateAccount",
    "UpdateAdmin",
    "UpdateClassOfService",
    "UpdateDomain",
    "UpdateUser",
    "UsageError",
    "ValidationFailed",
    "VerifyDomain",
    "apply",
    "plan",
    "queries",
    "run",
    "to_export",
]
