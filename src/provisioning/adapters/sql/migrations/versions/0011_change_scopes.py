"""Writers in different tenants no longer take turns: a counter per change scope.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

`change_scopes` counts the committed writes of each scope (an account, the
platform, a look-up bucket); the store-wide `changes` counter goes. On
PostgreSQL, the audit log's sequence numbers come from `audit_events_seq`,
started after the highest one held. A downgrade brings the store-wide
counter back at zero (a plan made before it is checked again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `change_scopes` (and the audit sequence); drop the store-wide counter."""
    op.create_table(
        "change_scopes",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_change_scopes")),
    )
    # The platform's row is locked (shared) by nearly every writer: it is there from the start.
    op.execute("INSERT INTO change_scopes (scope, count) VALUES ('*platform', 0)")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("audit_events_seq")))
        op.execute(
            "SELECT setval('audit_events_seq', COALESCE(MAX(seq), 0) + 1, false) FROM audit_events"
        )
    op.execute("DELETE FROM provisioning_meta WHERE key = 'changes'")


def downgrade() -> None:
    """Drop `change_scopes` (and the audit sequence); bring the store-wide counter back."""
    op.execute("INSERT INTO provisioning_meta (key, value) VALUES ('changes', 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("audit_events_seq")))
    op.drop_table("change_scopes")
