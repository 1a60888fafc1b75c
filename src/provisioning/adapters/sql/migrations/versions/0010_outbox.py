"""Messages are written to an outbox with the change that made them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

`outbox_messages` keeps each message in the order it was written, with its
delivery: pending, delivered (its secrets gone) or failed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `outbox_messages` and its indexes."""
    op.create_table(
        "outbox_messages",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_messages_id")),
    )
    op.create_index(
        op.f("ix_outbox_messages_status_sequence"), "outbox_messages", ["status", "sequence"]
    )
    op.create_index(
        op.f("ix_outbox_messages_channel_recipient_sequence"),
        "outbox_messages",
        ["channel", "recipient", "sequence"],
    )


def downgrade() -> None:
    """Drop the outbox (its messages go with it)."""
    op.drop_index(op.f("ix_outbox_messages_channel_recipient_sequence"), "outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_status_sequence"), "outbox_messages")
    op.drop_table("outbox_messages")
