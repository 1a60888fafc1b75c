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
from provisioning.services.credentials import (
    authenticate,
    enroll_mfa,
    finalize_mfa,
    reinitialize_mfa,
    reset_password,
    set_password,
)
from provisioning.services.directory import sync_directory
from provisioning.services.domains import (
    activate_domain,
    add_domain,
    deactivate_domain,
    delete_domain,
    unverify_domain,
    update_domain,
    verify_domain,
)
from provisioning.services.grants import create_role, delete_role, set_grant, update_role
from provisioning.services.invitations import (
    accept_invitation,
    decline_invitation,
    invite_user,
    register_with_invitation,
    resend_invitation,
    revoke_invitation,
)
from provisioning.services.mailboxes import (
    create_mailbox,
    create_personal_mailbox,
    delete_mailbox,
    rename_mailbox,
)
from provisioning.services.users import create_user, delete_user, rename_user, update_user

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
        commands.CreateUser: create_user,
        commands.UpdateUser: update_user,
        commands.RenameUser: rename_user,
        commands.DeleteUser: delete_user,
        commands.SetPassword: set_password,
        commands.ResetPassword: reset_password,
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
