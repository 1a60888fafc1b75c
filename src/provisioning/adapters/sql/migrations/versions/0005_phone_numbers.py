"""Phones: the numbers and station packages accounts own, and users' phone seats.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A number is one account's, platform-wide (unique in E.164), and assigned to
at most one user. Accounts stored before have no phone region (their numbers
are typed with their country code until one is set) and extensions of 3 to
6 digits. A seat holds one station of a package; an extension is unique in
its account (NULL for a seat without one).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the accounts' phone region and the table of numbers."""
    if op.get_bind().dialect.name == "postgresql":
        # Earlier revisions' row updates leave deferred foreign-key checks pending in this
        # transaction, and PostgreSQL alters no table with checks pending: run them now.
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    op.add_column("accounts", sa.Column("phone_region", sa.Text(), nullable=True))
    for name, default in (("extension_min", 3), ("extension_max", 6)):
        column = sa.Column(name, sa.BigInteger(), nullable=False, server_default=str(default))
        op.add_column("accounts", column)
    op.create_table(
        "direct_numbers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        _reference("direct_numbers", "account_id", "accounts.id"),
        _reference("direct_numbers", "user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_direct_numbers")),
        sa.UniqueConstraint("number", name=op.f("uq_direct_numbers_number")),
    )
    op.create_index(
        op.f("ix_direct_numbers_account_id"), "direct_numbers", ["account_id"], unique=False
    )
    op.create_index(op.f("ix_direct_numbers_user_id"), "direct_numbers", ["user_id"], unique=False)
    op.create_table(
        "station_packages",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("owned", sa.BigInteger(), nullable=False),
        sa.Column("in_use", sa.BigInteger(), nullable=False),
        sa.Column("applications", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        _reference("station_packages", "account_id", "accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_packages")),
        sa.UniqueConstraint("name_key", name=op.f("uq_station_packages_name_key")),
    )
    op.create_index(
        op.f("ix_station_packages_account_id"), "station_packages", ["account_id"], unique=False
    )
    op.create_table(
        "phone_seats",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("station_id", sa.Text(), nullable=False),
        sa.Column("extension", sa.Text(), nullable=True),
        sa.Column("number_id", sa.Text(), nullable=True),
        sa.Column("applications", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("extension_key", sa.Text(), nullable=True),
        _reference("phone_seats", "account_id", "accounts.id"),
        _reference("phone_seats", "user_id", "users.id"),
        _reference("phone_seats", "station_id", "station_packages.id"),
        _reference("phone_seats", "number_id", "direct_numbers.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_seats")),
        sa.UniqueConstraint("user_id", name=op.f("uq_phone_seats_user_id")),
        sa.UniqueConstraint("extension_key", name=op.f("uq_phone_seats_extension_key")),
    )
    for indexed in ("account_id", "station_id"):
        op.create_index(op.f(f"ix_phone_seats_{indexed}"), "phone_seats", [indexed], unique=False)


def _reference(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}"),
        initially="DEFERRED",
        deferrable=True,
    )


def downgrade() -> None:
    """Drop the phone tables and the accounts' phone settings."""
    for indexed in ("account_id", "station_id"):
        op.drop_index(op.f(f"ix_phone_seats_{indexed}"), table_name="phone_seats")
    op.drop_table("phone_seats")
    op.drop_index(op.f("ix_station_packages_account_id"), table_name="station_packages")
    op.drop_table("station_packages")
    op.drop_index(op.f("ix_direct_numbers_user_id"), table_name="direct_numbers")
    op.drop_index(op.f("ix_direct_numbers_account_id"), table_name="direct_numbers")
    op.drop_table("direct_numbers")
    with op.batch_alter_table("accounts") as batch:
        for name in ("extension_max", "extension_min", "phone_region"):
            batch.drop_column(name)
