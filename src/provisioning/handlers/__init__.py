"""The handlers: one per command, grouped by aggregate, looked up by the command's type."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from provisioning import commands
from provisioning.handlers.accounts import (
    create_account,
    delete_account,
    set_domain_policy,
    update_account,
)
from provisioning.handlers.admins import create_admin, delete_admin, update_admin
from provisioning.handlers.classes_of_service import (
    create_class_of_service,
    delete_class_of_service,
    update_class_of_service,
)
from provisioning.handlers.clients import (
    create_api_client,
    revoke_api_client,
    rotate_api_client_secret,
    update_api_client,
)
from provisioning.handlers.credentials import (
    authenticate,
    complete_password_setup,
    enroll_mfa,
    finalize_mfa,
    reinitialize_mfa,
    reset_password,
    set_password,
    sign_in_guess,
)
from provisioning.handlers.directory import sync_directory
from provisioning.handlers.domains import (
    activate_domain,
    add_domain,
    deactivate_domain,
    delete_domain,
    settle_former_users,
    unverify_domain,
    update_domain,
    verify_domain,
)
from provisioning.handlers.grants import (
    add_role_member,
    create_role,
    delete_role,
    remove_role_member,
    set_grant,
    update_role,
)
from provisioning.handlers.invitations import (
    accept_invitation,
    decline_invitation,
    invite_user,
    register_with_invitation,
    resend_invitation,
    revoke_invitation,
)
from provisioning.handlers.mailboxes import (
    create_mailbox,
    create_personal_mailbox,
    delete_mailbox,
    rename_mailbox,
)
from provisioning.handlers.phones import (
    add_device,
    add_phone_numbers,
    assign_device,
    change_station,
    release_number,
    remove_device,
    remove_phone_number,
    set_station_package,
    set_up_phone_user,
    unassign_device,
)
from provisioning.handlers.recovery import (
    complete_password_recovery,
    recovery_guess,
    start_password_recovery,
)
from provisioning.handlers.support import (
    approve_support_access,
    close_support_session,
    end_support_access,
    open_support_session,
    request_support_access,
)
from provisioning.handlers.users import (
    create_user,
    delete_user,
    prefetch_create_user,
    rename_user,
    request_users_report,
    update_user,
)
from provisioning.model import Guess
from provisioning.ports import UnitOfWork
from provisioning.rules._tx import Step, Tx
from provisioning.storage import Overlay

__all__ = [
    "GUESSES",
    "HANDLERS",
    "PREFETCH",
    "GuessRule",
    "Handler",
    "Prefetch",
]

Handler = Callable[[Tx, Any], Step[Any]]
"""Checks one command and describes its change (see `Step`)."""

Prefetch = Callable[[Overlay, Sequence[Any]], None]
"""Reads, in one go, what a batch of commands of one type will look up one by one."""

HANDLERS: Final[Mapping[type, Handler]] = MappingProxyType(
    {
        commands.CreateAccount: create_account,
        commands.AddRoleMember: add_role_member,
        commands.RemoveRoleMember: remove_role_member,
        commands.CreateApiClient: create_api_client,
        commands.UpdateApiClient: update_api_client,
        commands.RotateApiClientSecret: rotate_api_client_secret,
        commands.RevokeApiClient: revoke_api_client,
        commands.AddPhoneNumbers: add_phone_numbers,
        commands.RemovePhoneNumber: remove_phone_number,
        commands.SetStationPackage: set_station_package,
        commands.SetUpPhoneUser: set_up_phone_user,
        commands.AddDevice: add_device,
        commands.RemoveDevice: remove_device,
        commands.AssignDevice: assign_device,
        commands.UnassignDevice: unassign_device,
        commands.ChangeStation: change_station,
        commands.ReleaseNumber: release_number,
        commands.RequestSupportAccess: request_support_access,
        commands.ApproveSupportAccess: approve_support_access,
        commands.EndSupportAccess: end_support_access,
        commands.OpenSupportSession: open_support_session,
        commands.CloseSupportSession: close_support_session,
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
        commands.SettleFormerUsers: settle_former_users,
        commands.CreateAdmin: create_admin,
        commands.UpdateAdmin: update_admin,
        commands.DeleteAdmin: delete_admin,
        commands.CreateUser: create_user,
        commands.UpdateUser: update_user,
        commands.RenameUser: rename_user,
        commands.DeleteUser: delete_user,
        commands.RequestUsersReport: request_users_report,
        commands.SetPassword: set_password,
        commands.ResetPassword: reset_password,
        commands.CompletePasswordSetup: complete_password_setup,
        commands.StartPasswordRecovery: start_password_recovery,
        commands.CompletePasswordRecovery: complete_password_recovery,
        commands.EnrollMfa: enroll_mfa,
        commands.FinalizeMfa: finalize_mfa,
        commands.ReinitializeMfa: reinitialize_mfa,
        commands.Authenticate: authenticate,
        commands.SyncDirectory: sync_directory,
        commands.CreateRole: create_role,
        commands.UpdateRole: update_role,
        commands.DeleteRole: delete_role,
        commands.SetGrant: set_grant,
        commands.CreateMailbox: create_mailbox,
        commands.RenameMailbox: rename_mailbox,
        commands.DeleteMailbox: delete_mailbox,
        commands.CreatePersonalMailbox: create_personal_mailbox,
        commands.InviteUser: invite_user,
        commands.RevokeInvitation: revoke_invitation,
        commands.ResendInvitation: resend_invitation,
        commands.AcceptInvitation: accept_invitation,
        commands.DeclineInvitation: decline_invitation,
        commands.RegisterWithInvitation: register_with_invitation,
    }
)
"""The handler of each command type."""

PREFETCH: Final[Mapping[type, Prefetch]] = MappingProxyType(
    {commands.CreateUser: prefetch_create_user}
)
"""For the command types that come in large batches: what to read before checking them."""

GuessRule = Callable[[UnitOfWork, Any], Guess]
"""The guess at a secret a command makes (what it counts against, under which policy)."""

GUESSES: Final[Mapping[type, GuessRule]] = MappingProxyType(
    {
        commands.Authenticate: sign_in_guess,
        commands.CompletePasswordRecovery: recovery_guess,
    }
)
"""For the command types that check a secret someone may guess: the guess to count first."""
