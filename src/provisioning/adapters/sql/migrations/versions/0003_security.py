"""Security: what an invitation offered and who offered it; password policies' floor.

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


FLOOR = 8  # the shortest minimum length a password policy may set from now on


def upgrade() -> None:
    """Add the columns; raise password policies below the floor to it."""
    for table, column in COLUMNS:
        op.add_column(table, column)
    for table in ("accounts", "classes_of_service"):
        for bound in ("min_length", "max_length"):
            name = f"password_policy_{bound}"
            op.execute(f"UPDATE {table} SET {name} = {FLOOR} WHERE {name} < {FLOOR}")  # noqa: S608


def downgrade() -> None:
    """Drop the columns."""
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column.name)
