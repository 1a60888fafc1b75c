"""Queries: read-only views for callers, each checked against the actor's permissions.

Queries read repositories directly and never write; each runs in its own
read-only snapshot, which neither waits for a writer nor holds one up. Every
argument is checked against its annotation first (`UsageError`
`query.argument_invalid`), and paging arguments against their bounds
(`query.page_invalid`: an offset from 0, a limit from 1 to `MAX_PAGE`).

Every list that can grow comes a `Page` at a time (`PAGE` items unless
`limit` says otherwise), with how many the whole list holds and a cursor
to the next page; `every` reads a whole list. The queries are grouped by
area, one module each (`queries/_users.py` ...), and all of them
are importable from here.
"""

from __future__ import annotations

from provisioning.queries._accounts import (
    accounts,
    audit_log,
    classes_of_service,
    customers,
    get_account,
    get_class_of_service,
    permissions,
)
from provisioning.queries._base import (
    MAX_PAGE,
    PAGE,
    Page,
    every,
)
from provisioning.queries._clients import (
    api_clients,
    authenticate_client,
    client_of_token,
    get_api_client,
)
from provisioning.queries._domains import (
    SendDecision,
    domains,
    former_users,
    get_domain,
    may_send,
)
from provisioning.queries._invitations import (
    get_invitation,
    invitations,
    pending_invitations,
)
from provisioning.queries._mailboxes import (
    get_mailbox,
    mailboxes,
)
from provisioning.queries._messages import messages
from provisioning.queries._phones import (
    devices,
    phone_numbers,
    phone_seat,
    station_packages,
    user_devices,
)
from provisioning.queries._roles import (
    get_grant,
    get_role,
    grants,
    role_members,
    roles,
)
from provisioning.queries._support import (
    support_relationships,
    support_sessions,
)
from provisioning.queries._users import (
    UserPage,
    UserSummary,
    admins,
    find_user,
    find_users,
    get_user,
    users,
)

__all__ = [
    "MAX_PAGE",
    "PAGE",
    "Page",
    "SendDecision",
    "UserPage",
    "UserSummary",
    "accounts",
    "admins",
    "api_clients",
    "audit_log",
    "authenticate_client",
    "classes_of_service",
    "client_of_token",
    "customers",
    "devices",
    "domains",
    "every",
    "find_user",
    "find_users",
    "former_users",
    "get_account",
    "get_api_client",
    "get_class_of_service",
    "get_domain",
    "get_grant",
    "get_invitation",
    "get_mailbox",
    "get_role",
    "get_user",
    "grants",
    "invitations",
    "mailboxes",
    "may_send",
    "messages",
    "pending_invitations",
    "permissions",
    "phone_numbers",
    "phone_seat",
    "role_members",
    "roles",
    "station_packages",
    "support_relationships",
    "support_sessions",
    "user_devices",
    "users",
]
