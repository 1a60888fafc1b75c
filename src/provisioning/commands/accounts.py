"""Commands on accounts: create, update, their domain policies, delete."""

from __future__ import annotations

import attrs

from provisioning.commands._base import UNCHANGED, Command, Unchanged, VersionNumber, _names
from provisioning.model import (
    Account,
    PasswordPolicy,
    SignInPolicy,
)

__all__ = ["CreateAccount", "DeleteAccount", "SetDomainPolicy", "UpdateAccount"]


@attrs.frozen(kw_only=True)
class CreateAccount(Command[Account]):
    """Create a tenant account; with `parent_id`, a customer account under that parent.

    `account_id` chooses the new account's id (so later commands of the same
    batch can refer to it); by default the context's `IdSource` picks one.
    """

    name: str
    account_id: str | None = None
    parent_id: str | None = None
    personal_mailbox_on_create: bool = False


@attrs.frozen(kw_only=True)
class UpdateAccount(Command[Account]):
    """Rename an account or change its settings.

    `default_cos_id` is the class of service new users get when their domain
    names none: one of the account's own, not one that opens the admin panel.
    `phone_region` (ISO 3166, `CH`) is where its phone numbers typed without
    their country code belong; `extension_min` and `extension_max` bound its
    phone extensions' digits (1 to 15), and every extension in use must fit.
    `support_consent` lets the parent's requests for support access be active
    at once, without asking; only the owner (`support.approve`) sets it.
    """

    account_id: str
    version: VersionNumber
    name: str | Unchanged = UNCHANGED
    personal_mailbox_on_create: bool | Unchanged = UNCHANGED
    password_policy: PasswordPolicy | Unchanged = UNCHANGED
    sign_in_policy: SignInPolicy | Unchanged = UNCHANGED
    default_cos_id: str | Unchanged = UNCHANGED
    phone_region: str | Unchanged | None = UNCHANGED
    extension_min: int | Unchanged = UNCHANGED
    extension_max: int | Unchanged = UNCHANGED
    support_consent: bool | Unchanged = UNCHANGED


@attrs.frozen(kw_only=True)
class SetDomainPolicy(Command[Account]):
    """Restrict the domains an account may add: top-level domains, how many.

    Set from above: by the platform operator, or for a customer account by
    whoever may create accounts under its parent.
    """

    account_id: str
    allowed_tlds: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    max_domains: int | None = None


@attrs.frozen(kw_only=True)
class DeleteAccount(Command[None]):
    """Delete an account, irreversibly; `confirm_name` must repeat its name.

    Its users lose access to it and to its mailboxes but stay corporate users.
    """

    account_id: str
    confirm_name: str
