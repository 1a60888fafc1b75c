"""Commands: one frozen class per intent.

A command holds raw input as a caller, a spreadsheet row or a JSON document
gives it (strings, numbers, flags); validation turns it into model values and
reports every problem as an `Issue`. Update commands carry the `version` the
entity was read at, and `UNCHANGED` for every field they leave alone.

The commands are grouped by the aggregate they change, one module each
(`provisioning.commands.users` ...); all of them are importable from here.
"""

from __future__ import annotations

from provisioning.commands._base import (
    DEFAULT_TEXT_LIMIT,
    UNCHANGED,
    AddressText,
    CodeText,
    Command,
    DescriptionText,
    LanguageText,
    MobileText,
    PasswordText,
    Text,
    TokenText,
    Unchanged,
    VersionNumber,
    Whole,
    ZoneText,
)
from provisioning.commands.accounts import (
    CreateAccount,
    DeleteAccount,
    SetDomainPolicy,
    UpdateAccount,
)
from provisioning.commands.admins import (
    CreateAdmin,
    DeleteAdmin,
    UpdateAdmin,
)
from provisioning.commands.classes_of_service import (
    CreateClassOfService,
    DeleteClassOfService,
    UpdateClassOfService,
)
from provisioning.commands.clients import (
    CreateApiClient,
    RevokeApiClient,
    RotateApiClientSecret,
    UpdateApiClient,
)
from provisioning.commands.credentials import (
    Authenticate,
    CompletePasswordRecovery,
    CompletePasswordSetup,
    EnrollMfa,
    FinalizeMfa,
    ReinitializeMfa,
    ResetPassword,
    SetPassword,
    StartPasswordRecovery,
)
from provisioning.commands.directory import (
    DirectoryEntry,
    SyncDirectory,
)
from provisioning.commands.domains import (
    ActivateDomain,
    AddDomain,
    DeactivateDomain,
    DeleteDomain,
    SettleFormerUsers,
    UnverifyDomain,
    UpdateDomain,
    VerifyDomain,
)
from provisioning.commands.grants import (
    AddRoleMember,
    CreateRole,
    DeleteRole,
    RemoveRoleMember,
    SetGrant,
    UpdateRole,
)
from provisioning.commands.invitations import (
    AcceptInvitation,
    DeclineInvitation,
    InviteUser,
    RegisterWithInvitation,
    ResendInvitation,
    RevokeInvitation,
)
from provisioning.commands.mailboxes import (
    CreateMailbox,
    CreatePersonalMailbox,
    DeleteMailbox,
    RenameMailbox,
)
from provisioning.commands.phones import (
    AddDevice,
    AddPhoneNumbers,
    AssignDevice,
    ChangeStation,
    ReleaseNumber,
    RemoveDevice,
    RemovePhoneNumber,
    SetStationPackage,
    SetUpPhoneUser,
    UnassignDevice,
)
from provisioning.commands.support import (
    ApproveSupportAccess,
    CloseSupportSession,
    EndSupportAccess,
    OpenSupportSession,
    RequestSupportAccess,
)
from provisioning.commands.users import (
    CreateUser,
    DeleteUser,
    RenameUser,
    RequestUsersReport,
    UpdateUser,
)

__all__ = [
    "DEFAULT_TEXT_LIMIT",
    "UNCHANGED",
    "AcceptInvitation",
    "ActivateDomain",
    "AddDevice",
    "AddDomain",
    "AddPhoneNumbers",
    "AddRoleMember",
    "AddressText",
    "ApproveSupportAccess",
    "AssignDevice",
    "Authenticate",
    "ChangeStation",
    "CloseSupportSession",
    "CodeText",
    "Command",
    "CompletePasswordRecovery",
    "CompletePasswordSetup",
    "CreateAccount",
    "CreateAdmin",
    "CreateApiClient",
    "CreateClassOfService",
    "CreateMailbox",
    "CreatePersonalMailbox",
    "CreateRole",
    "CreateUser",
    "DeactivateDomain",
    "DeclineInvitation",
    "DeleteAccount",
    "DeleteAdmin",
    "DeleteClassOfService",
    "DeleteDomain",
    "DeleteMailbox",
    "DeleteRole",
    "DeleteUser",
    "DescriptionText",
    "DirectoryEntry",
    "EndSupportAccess",
    "EnrollMfa",
    "FinalizeMfa",
    "InviteUser",
    "LanguageText",
    "MobileText",
    "OpenSupportSession",
    "PasswordText",
    "RegisterWithInvitation",
    "ReinitializeMfa",
    "ReleaseNumber",
    "RemoveDevice",
    "RemovePhoneNumber",
    "RemoveRoleMember",
    "RenameMailbox",
    "RenameUser",
    "RequestSupportAccess",
    "RequestUsersReport",
    "ResendInvitation",
    "ResetPassword",
    "RevokeApiClient",
    "RevokeInvitation",
    "RotateApiClientSecret",
    "SetDomainPolicy",
    "SetGrant",
    "SetPassword",
    "SetStationPackage",
    "SetUpPhoneUser",
    "SettleFormerUsers",
    "StartPasswordRecovery",
    "SyncDirectory",
    "Text",
    "TokenText",
    "UnassignDevice",
    "Unchanged",
    "UnverifyDomain",
    "UpdateAccount",
    "UpdateAdmin",
    "UpdateApiClient",
    "UpdateClassOfService",
    "UpdateDomain",
    "UpdateRole",
    "UpdateUser",
    "VerifyDomain",
    "VersionNumber",
    "Whole",
    "ZoneText",
]
