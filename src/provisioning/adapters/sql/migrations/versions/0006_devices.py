"""Devices: the IP phones an account adds, and which user each is assigned to.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

A MAC address is one device's, platform-wide. A device is assigned to at
most one user; `primary_of` holds the user's id on that user's one primary
device (NULL on the others), so that a second primary is refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the table of devices."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see 0005: no pending checks while altering
    op.create_table(
        "devices",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("mac", sa.Text(), nullable=False),
        sa.Column("ports", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("primary", sa.Boolean(create_constraint=True, name="primary"), nullable=False),
        sa.Column("ports_used", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("primary_of", sa.Text(), nullable=True),
        _reference("account_id", "accounts.id"),
        _reference("user_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("mac", name=op.f("uq_devices_mac")),
        sa.UniqueConstraint("primary_of", name=op.f("uq_devices_primary_of")),
    )
    for indexed in ("account_id", "user_id"):
        op.create_index(op.f(f"ix_devices_{indexed}"), "devices", [indexed], unique=False)


def _reference(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_devices_{column}"),
        initially="DEFERRED",
        deferrable=True,
    )


def downgrade() -> None:
    """Drop the table of devices."""
    for indexed in ("account_id", "user_id"):
        op.drop_index(op.f(f"ix_devices_{indexed}"), table_name="devices")
    op.drop_table("devices")
