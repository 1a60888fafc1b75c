"""Change scopes: what a plan read, and what a write changed, in a few counters.

A plan is written as it is when nothing it read has changed since. Rather
than one counter for the whole store (which every writer of every tenant
would take turns on), the store keeps one counter per *scope*, and a
committed write moves the counters of the scopes it changed:

- an account's id: the rows of that account (a support relationship and a
  session belong to both of their accounts, an account to itself and its
  parent);
- `PLATFORM`: the rows of no account (system roles, system classes of
  service, the operator's users);
- a look-up bucket (`~` and four hex digits): a share of a platform-wide
  look-up that no unique index decides, such as the look-alike skeleton of
  an address, which two tenants could claim at once.

A plan records the scopes of every row it read and of every look-up it made
(`Overlay.reads`), and their counters as its snapshot saw them. `apply`
takes its turn on those scopes and the ones it writes (in one fixed order,
so two writers never wait for each other in a circle), compares the
counters, and writes the plan as it is when none moved. A value that a
unique index decides (an address, a domain name, an id) needs no scope: the
index refuses a duplicate at write time, and the plan is checked again.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from provisioning.storage._tables import TABLES, Table

if TYPE_CHECKING:
    from provisioning.storage._repositories import TableChanges

__all__ = [
    "ACCOUNT_VALUED",
    "BUCKETED",
    "EVERYTHING",
    "PLATFORM",
    "REFERENCES",
    "change_scopes",
    "lookup_scope",
    "row_accounts",
    "row_scopes",
    "scopes_of",
]

PLATFORM: Final = "*platform"
"""The scope of the rows that belong to no account."""

EVERYTHING: Final = "*everything"
"""Recorded by a read of a whole table: such a plan is always checked again when applied."""

BUCKETS: Final = 1 << 16
"""How many buckets the platform-wide look-ups are shared among."""

ACCOUNT_VALUED: Final = frozenset(
    {
        "account.parent",
        "audit.account",
        "client.account",
        "cos.account",
        "device.account",
        "domain.account",
        "grant.account",
        "invitation.account",
        "mailbox.account",
        "number.account",
        "role.account",
        "seat.account",
        "session.customer",
        "session.parent",
        "station.account",
        "support.customer",
        "support.parent",
        "user.account",
    }
)
"""Look-ups whose value is an account's id ("*": no account): their scope is that account."""

BUCKETED: Final = frozenset(
    {
        "domain.skeleton",
        "grant.user",
        "invitation.email",
        "mailbox.domain_name",
        "mailbox.skeleton",
        "user.alias_domain",
        "user.domain_name",
        "user.skeleton",
    }
)
"""Look-ups across accounts that no unique index decides: their scope is a bucket of the value.

A look-alike is the case in point: two tenants may each find no address
that looks like theirs, and write at once; the bucket makes one of them
see the other's and check again. A grant names a user who may be another
account's member, so it is looked up by bucket too."""

REFERENCES: Final = frozenset(
    {
        "device.user",
        "domain.cos",
        "grant.mailbox",
        "mailbox.owner",
        "number.user",
        "seat.station",
        "session.relationship",
        "user.cos",
        "user.default_mailbox",
        "user.domain",
        "audit.entity",
    }
)
"""Look-ups by the id of a row of the same account, which the plan read (and so scoped).

A row written meanwhile that names a row the plan deletes (or the other way
round) is refused by the database's foreign key (`Conflict`
`reference.changed`), and the plan is checked again."""


def _account(entity: Any) -> Sequence[str]:  # noqa: ANN401 - a row of any table
    account_id: str | None = entity.account_id
    return (account_id or PLATFORM,)


def _account_row(entity: Any) -> Sequence[str]:  # noqa: ANN401 - an Account
    parent: str | None = entity.parent_id
    return (entity.id,) if parent is None else (entity.id, parent)


def _both_sides(entity: Any) -> Sequence[str]:  # noqa: ANN401 - a relationship or a session
    return (entity.parent_id, entity.customer_id)


def _nothing(entity: Any) -> Sequence[str]:  # noqa: ANN401 - an audit event
    del entity
    return ()


_ROW_SCOPES: Final = {
    TABLES.accounts.name: _account_row,
    TABLES.relationships.name: _both_sides,
    TABLES.sessions.name: _both_sides,
    # No plan reads the audit log, so its rows move no counter (an operator's event, of no
    # account, would otherwise make every plan that read a system role check again).
    TABLES.audit.name: _nothing,
}


def _bucket(namespace: str, value: str) -> str:
    bucket = zlib.crc32(f"{namespace} {value}".encode()) % BUCKETS
    return f"~{bucket:04x}"


def lookup_scope(namespace: str, value: str) -> str | None:
    """The scope a look-up of `value` under `namespace` reads (None: a unique index decides)."""
    if namespace in ACCOUNT_VALUED:
        return PLATFORM if value == "*" else value
    if namespace in BUCKETED:
        return _bucket(namespace, value)
    return None


def row_accounts(table: Table[Any], entity: Any) -> Sequence[str]:  # noqa: ANN401 - a row
    """The account scopes of a row: its account's (or accounts'), or `PLATFORM`."""
    return _ROW_SCOPES.get(table.name, _account)(entity)


def row_scopes(table: Table[Any], entity: Any) -> Iterator[str]:  # noqa: ANN401 - a row
    """The scopes a row belongs to: its account's (or accounts'), and its look-up buckets."""
    return (scope for scope, _known in _scopes_of_row(table, entity, {}))


def _scopes_of_row(
    table: Table[Any],
    entity: Any,  # noqa: ANN401 - a row
    born: Mapping[str, set[str]],
) -> Iterator[tuple[str, bool]]:
    """Each scope of a row, and whether another writer may know it.

    A scope named by a row the batch creates (`born`: table name -> ids) is
    known to the batch alone: a new account's, a bucket of a new user's id.
    """
    new_accounts = born.get(TABLES.accounts.name, ())
    for scope in row_accounts(table, entity):
        yield scope, scope not in new_accounts
    for key in table.keys:
        if key.namespace in BUCKETED:
            new = born.get(key.owner_table, ()) if key.owner is not None else ()
            for value in key.values(entity):
                known = not new or key.owner is None or key.owner(value) not in new
                yield _bucket(key.namespace, value), known


def scopes_of(changes: Iterable[TableChanges]) -> tuple[set[str], set[str]]:
    """The scopes a batch's changes move, and those of them a writer must claim first.

    Every scope of each row as it was and as it will be moves; the second
    set leaves out the scopes only rows the batch creates are known by,
    which no other writer can have read or be writing.
    """
    changes = list(changes)
    born = {
        table.table.name: {c.new.id for c in table.rows if c.old is None and c.new is not None}
        for table in changes
    }
    moved: set[str] = set()
    claimed: set[str] = set()
    for table_changes in changes:
        table = table_changes.table
        for change in table_changes.rows:
            for row in (change.old, change.new):
                if row is not None:
                    for scope, known in _scopes_of_row(table, row, born):
                        moved.add(scope)
                        if known:
                            claimed.add(scope)
    return moved, claimed


def change_scopes(changes: Iterable[TableChanges], *, claimed: bool = False) -> set[str]:
    """Every scope a batch's changes move (`claimed`: only those to claim; see `scopes_of`)."""
    moved, to_claim = scopes_of(changes)
    return to_claim if claimed else moved
