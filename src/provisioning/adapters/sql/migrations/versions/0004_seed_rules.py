"""The seeds' rules: accounts' own classes of service, one address namespace, recovery codes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Each account stored before gets the two classes of service a new account
starts with ("Users" and "Administrators", numbered when the account already
has one of that name), and each of its users without a class of service gets
the users' one. Shared mailboxes claim their addresses in the `addresses`
table, beside usernames and aliases (a mailbox whose address a user holds
already, which older versions allowed, keeps it unclaimed).
"""

from __future__ import annotations

import json
import uuid
import warnings

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CLASSES = (
    ("default_cos_id", "Users", "What the account's users get unless told otherwise.", False),
    (
        "admin_cos_id",
        "Administrators",
        "Opens the admin panel: its holders administer the account.",
        True,
    ),
)


def _reference(name: str) -> sa.Column[str]:
    return sa.Column(
        name,
        sa.Text(),
        sa.ForeignKey(
            "classes_of_service.id",
            name=f"fk_accounts_{name}",
            deferrable=True,
            initially="DEFERRED",
        ),
        nullable=True,
    )


OLD_KINDS = sa.Enum("username", "alias", native_enum=False, create_constraint=True, name="kind")
NEW_KINDS = sa.Enum(
    "username", "alias", "mailbox", native_enum=False, create_constraint=True, name="kind"
)


RECOVERY = (
    sa.Column("credentials_recovery_code_hash", sa.Text(), nullable=True),
    sa.Column("credentials_recovery_expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("credentials_recovery_attempts", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("credentials_recovery_requests", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("credentials_recovery_window_at", sa.DateTime(timezone=True), nullable=True),
)


def upgrade() -> None:
    """Add the columns, the classes of service they name, and the mailboxes' addresses."""
    for recovery in RECOVERY:
        op.add_column("users", recovery)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a reference with the column (rebuilding users would lose its search triggers).
        op.execute(
            "ALTER TABLE users ADD COLUMN default_mailbox_id TEXT"
            " CONSTRAINT fk_users_default_mailbox_id REFERENCES mailboxes (id)"
            " DEFERRABLE INITIALLY DEFERRED"
        )
    else:
        op.add_column("users", sa.Column("default_mailbox_id", sa.Text(), nullable=True))
        op.create_foreign_key(
            "fk_users_default_mailbox_id",
            "users",
            "mailboxes",
            ["default_mailbox_id"],
            ["id"],
            deferrable=True,
            initially="DEFERRED",
        )
    op.create_index("ix_users_default_mailbox_id", "users", ["default_mailbox_id"])
    with warnings.catch_warnings():
        # SQLite's batch mode reflects the tables it rebuilds, and cannot reflect the
        # expression index on users (which it leaves as it is).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("accounts") as batch:
            for column, *_ in CLASSES:
                batch.add_column(_reference(column))
        _claim_mailbox_addresses()
    _account_classes()


def _claim_mailbox_addresses() -> None:
    with op.batch_alter_table("addresses") as batch:
        batch.alter_column("user_id", existing_type=sa.Text(), nullable=True)
        batch.alter_column(
            "kind", existing_type=OLD_KINDS, type_=NEW_KINDS, existing_nullable=False
        )
        batch.add_column(
            sa.Column(
                "mailbox_id",
                sa.Text(),
                sa.ForeignKey(
                    "mailboxes.id",
                    name="fk_addresses_mailbox_id",
                    ondelete="CASCADE",
                    deferrable=True,
                    initially="DEFERRED",
                ),
                nullable=True,
            )
        )
        batch.create_check_constraint("holder", "(user_id IS NULL) <> (mailbox_id IS NULL)")
        batch.create_index("ix_addresses_mailbox_id", ["mailbox_id"])
    op.execute(
        "INSERT INTO addresses (address, mailbox_id, kind, domain, skeleton)"
        " SELECT address_key, id, 'mailbox', address_domain, address_skeleton FROM mailboxes"
        " WHERE kind = 'shared'"
        " AND NOT EXISTS (SELECT 1 FROM addresses WHERE address = mailboxes.address_key)"
    )


def _account_classes() -> None:
    connection = op.get_bind()
    taken = {
        key for (key,) in connection.execute(sa.text("SELECT name_key FROM classes_of_service"))
    }
    for (account_id,) in connection.execute(sa.text("SELECT id FROM accounts")).all():
        for column, base, description, admin_panel in CLASSES:
            name, number = base, 1
            while f"{account_id}/{name.casefold()}" in taken:
                number += 1
                name = f"{base} {number}"
            taken.add(f"{account_id}/{name.casefold()}")
            cos_id = uuid.uuid4().hex
            connection.execute(
                sa.text(
                    "INSERT INTO classes_of_service (id, name, account_id, description, system,"
                    " admin_panel, features, version, name_key) VALUES (:id, :name, :account,"
                    " :description, :system, :panel, :features, 1, :key)"
                ),
                {
                    "id": cos_id,
                    "name": name,
                    "account": account_id,
                    "description": description,
                    "system": False,
                    "panel": admin_panel,
                    "features": json.dumps([]),
                    "key": f"{account_id}/{name.casefold()}",
                },
            )
            connection.execute(
                sa.text(f"UPDATE accounts SET {column} = :cos WHERE id = :account"),  # noqa: S608
                {"cos": cos_id, "account": account_id},
            )
            if column == "default_cos_id":
                connection.execute(
                    sa.text(
                        "UPDATE users SET cos_id = :cos WHERE account_id = :account"
                        " AND cos_id IS NULL"
                    ),
                    {"cos": cos_id, "account": account_id},
                )


def downgrade() -> None:
    """Drop the columns (the classes of service stay, as ordinary ones)."""
    op.drop_index("ix_users_default_mailbox_id", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("default_mailbox_id")
    for recovery in reversed(RECOVERY):
        with op.batch_alter_table("users") as batch:
            batch.drop_column(recovery.name)
    op.execute("DELETE FROM addresses WHERE mailbox_id IS NOT NULL")
    with op.batch_alter_table("addresses") as batch:
        batch.drop_index("ix_addresses_mailbox_id")
        batch.drop_constraint("ck_addresses_holder", type_="check")
        batch.drop_column("mailbox_id")
        batch.alter_column(
            "kind", existing_type=NEW_KINDS, type_=OLD_KINDS, existing_nullable=False
        )
        batch.alter_column("user_id", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("accounts") as batch:
        for column, *_ in reversed(CLASSES):
            batch.drop_column(column)
