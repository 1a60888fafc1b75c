"""Phone numbers: the numbers accounts own, and each account's phone region.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A number is one account's, platform-wide (unique in E.164), and assigned to
at most one user. Accounts stored before have no phone region: their numbers
are typed with their country code until one is set.
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
    op.create_table(
        "direct_numbers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_direct_numbers_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_direct_numbers_user_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_direct_numbers")),
        sa.UniqueConstraint("number", name=op.f("uq_direct_numbers_number")),
    )
    op.create_index(
        op.f("ix_direct_numbers_account_id"), "direct_numbers", ["account_id"], unique=False
    )
    op.create_index(op.f("ix_direct_numbers_user_id"), "direct_numbers", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop the table of numbers and the accounts' phone region."""
    op.drop_index(op.f("ix_direct_numbers_user_id"), table_name="direct_numbers")
    op.drop_index(op.f("ix_direct_numbers_account_id"), table_name="direct_numbers")
    op.drop_table("direct_numbers")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("phone_region")
