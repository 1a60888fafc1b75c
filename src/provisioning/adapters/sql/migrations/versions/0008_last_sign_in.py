"""Users' last sign-in, for the users report.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Users stored before have never signed in as far as the store knows (NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `users.last_sign_in_at`."""
    op.add_column("users", sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop it again."""
    op.drop_column("users", "last_sign_in_at")
