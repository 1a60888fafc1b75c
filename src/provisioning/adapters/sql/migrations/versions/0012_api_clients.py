"""API clients: machine principals of an account, with roles, a hashed secret and an end.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

`name_key` is the client's name folded and scoped by its account, unique:
two clients of an account never share a name. `secret_hash` is the SHA-256
of the token's secret part (sealed where the store seals its secrets);
the token itself is never stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `api_clients`."""
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("directory_service", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_api_clients_account_id"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name_key", name=op.f("uq_api_clients_name_key")),
    )
    op.create_index(op.f("ix_api_clients_account_id"), "api_clients", ["account_id"])


def downgrade() -> None:
    """Drop `api_clients`."""
    op.drop_index(op.f("ix_api_clients_account_id"), table_name="api_clients")
    op.drop_table("api_clients")
