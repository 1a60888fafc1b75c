"""Roles keep when they were made and last changed (their members included).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

Roles stored before have neither time (NULL); the next change of one, or of
its members, sets `updated_at`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `roles.created_at` and `roles.updated_at`."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see 0005: no pending checks while altering
    for name in ("created_at", "updated_at"):
        op.add_column("roles", sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop them again."""
    for name in ("updated_at", "created_at"):
        op.drop_column("roles", name)
