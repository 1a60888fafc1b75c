"""Custom roles' external ids: what an identity provider knows a role (a SCIM group) by.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

`external_key` joins the role's account and its external id, unique (an
index, as for users in 0013). Roles stored before have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `roles.external_id` and its unique key."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see 0005: no pending checks while altering
    op.add_column("roles", sa.Column("external_id", sa.Text(), nullable=True))
    op.add_column("roles", sa.Column("external_key", sa.Text(), nullable=True))
    op.create_index("uq_roles_external_key", "roles", ["external_key"], unique=True)


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("uq_roles_external_key", table_name="roles")
    op.drop_column("roles", "external_key")
    op.drop_column("roles", "external_id")
