"""What identity providers send: users' external ids and the organisation's attributes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

`external_id` is the id a user's directory knows it by; `external_key`
joins it with the account and the directory, unique (an index, since
SQLite adds no constraint to a table it holds). The profile gains the
organisation's attributes (`profile_title` ... `profile_preferred_language`),
empty for the users stored before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ATTRIBUTES = (
    "title",
    "department",
    "employee_number",
    "cost_center",
    "organization",
    "division",
    "manager",
    "locale",
    "preferred_language",
)


def upgrade() -> None:
    """Add the users' external ids and the profile's attributes."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see 0005: no pending checks while altering
    op.add_column("users", sa.Column("external_id", sa.Text(), nullable=True))
    for name in ATTRIBUTES:
        column = sa.Column(f"profile_{name}", sa.Text(), nullable=False, server_default="")
        op.add_column("users", column)
    op.add_column("users", sa.Column("external_key", sa.Text(), nullable=True))
    op.create_index("uq_users_external_key", "users", ["external_key"], unique=True)


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("uq_users_external_key", table_name="users")
    op.drop_column("users", "external_key")
    for name in reversed(ATTRIBUTES):
        op.drop_column("users", f"profile_{name}")
    op.drop_column("users", "external_id")
