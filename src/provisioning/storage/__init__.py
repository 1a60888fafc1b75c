"""What every store shares: the tables, the repositories over a `Backend`, changes, the overlay.

A store supplies a `Backend` per table (a handful of primitive operations
inside its transaction) and a unit of work deriving from `UnitOfWork`; the
typed repositories and the set-based `write` are written here once, so the
memory store and the SQL stores cannot drift apart in behaviour. A batch is
planned in an `Overlay`: reads reach the store once, writes stay in the
batch as `TableChanges` until `apply` writes them. "How to write a store"
in the stores' documentation walks through it.
"""

from __future__ import annotations

from provisioning.storage._overlay import Overlay
from provisioning.storage._repositories import (
    AccountRepo,
    AuditRepo,
    Change,
    ClassOfServiceRepo,
    ClientRepo,
    DeviceRepo,
    DomainRepo,
    GrantRepo,
    InvitationRepo,
    MailboxRepo,
    NumberRepo,
    RelationshipRepo,
    RoleRepo,
    SeatRepo,
    SessionRepo,
    StationRepo,
    TableChanges,
    UnitOfWork,
    UserRepo,
)
from provisioning.storage._scopes import (
    EVERYTHING,
    PLATFORM,
    change_scopes,
    lookup_scope,
    row_accounts,
    row_scopes,
    scopes_of,
)
from provisioning.storage._tables import (
    TABLES,
    Backend,
    Column,
    Identified,
    Key,
    KeyIndex,
    RowByRow,
    Select,
    Table,
    Versioned,
    external_key,
    instant_text,
    reindex,
)

__all__ = [
    "EVERYTHING",
    "PLATFORM",
    "TABLES",
    "AccountRepo",
    "AuditRepo",
    "Backend",
    "Change",
    "ClassOfServiceRepo",
    "ClientRepo",
    "Column",
    "DeviceRepo",
    "DomainRepo",
    "GrantRepo",
    "Identified",
    "InvitationRepo",
    "Key",
    "KeyIndex",
    "MailboxRepo",
    "NumberRepo",
    "Overlay",
    "RelationshipRepo",
    "RoleRepo",
    "RowByRow",
    "SeatRepo",
    "Select",
    "SessionRepo",
    "StationRepo",
    "Table",
    "TableChanges",
    "UnitOfWork",
    "UserRepo",
    "Versioned",
    "change_scopes",
    "external_key",
    "instant_text",
    "lookup_scope",
    "reindex",
    "row_accounts",
    "row_scopes",
    "scopes_of",
]
