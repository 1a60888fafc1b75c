"""Support access: parent accounts' relationships with their customers, and agents' sessions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

A parent and a customer have at most one pending or active relationship at
a time: `live_pair` holds `parent/customer` on it (NULL once ended), unique.
A session keeps its agent's id and name after the agent's user is gone (the
customer's list of who accessed it outlives the agent), so `agent_id`
references no row. Accounts stored before give no standing consent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the accounts' standing consent, and the tables of relationships and sessions."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see 0005: no pending checks while altering
        consent = sa.Boolean(create_constraint=True, name="support_consent")
        op.add_column(
            "accounts",
            sa.Column("support_consent", consent, nullable=False, server_default=sa.false()),
        )
    else:  # SQLite adds a column with its check, which Alembic leaves to a table rebuild
        op.execute(
            "ALTER TABLE accounts ADD COLUMN support_consent BOOLEAN NOT NULL DEFAULT 0"
            " CONSTRAINT support_consent CHECK (support_consent IN (0, 1))"
        )
    op.create_table(
        "support_relationships",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("duration_days", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "active",
                "ended",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("live_pair", sa.Text(), nullable=True),
        _reference("support_relationships", "parent_id", "accounts.id"),
        _reference("support_relationships", "customer_id", "accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_relationships")),
        sa.UniqueConstraint("live_pair", name=op.f("uq_support_relationships_live_pair")),
    )
    for indexed in ("parent_id", "customer_id"):
        op.create_index(
            op.f(f"ix_support_relationships_{indexed}"), "support_relationships", [indexed]
        )
    op.create_table(
        "support_sessions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("relationship_id", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        _reference("support_sessions", "relationship_id", "support_relationships.id"),
        _reference("support_sessions", "parent_id", "accounts.id"),
        _reference("support_sessions", "customer_id", "accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_sessions")),
    )
    for indexed in ("relationship_id", "parent_id", "customer_id"):
        op.create_index(op.f(f"ix_support_sessions_{indexed}"), "support_sessions", [indexed])


def _reference(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}"),
        initially="DEFERRED",
        deferrable=True,
    )


def downgrade() -> None:
    """Drop the support tables and the accounts' standing consent."""
    for indexed in ("relationship_id", "parent_id", "customer_id"):
        op.drop_index(op.f(f"ix_support_sessions_{indexed}"), table_name="support_sessions")
    op.drop_table("support_sessions")
    for indexed in ("parent_id", "customer_id"):
        op.drop_index(
            op.f(f"ix_support_relationships_{indexed}"), table_name="support_relationships"
        )
    op.drop_table("support_relationships")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("support_consent")
