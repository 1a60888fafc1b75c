"""Security: what an invitation offered and who offered it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

New columns get a server default so that the rows already stored take the
value the model gives an entity stored before the field existed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("invitations", sa.Column("inviter", sa.Text(), nullable=False, server_default="")),
    ("invitations", sa.Column("offer_digest", sa.Text(), nullable=False, server_default="")),
)


def upgrade() -> None:
    """Add the columns."""
    for table, column in COLUMNS:
        op.add_column(table, column)


def downgrade() -> None:
    """Drop the columns."""
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column.name)
