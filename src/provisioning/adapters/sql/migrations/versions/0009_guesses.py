"""Guesses are counted by the name typed, before they are checked.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

The failed sign-ins counted on each user move to `sign_in_guesses`, under
the digest of the user's username that sign-ins now count against, so no
lockout under way is lifted by the upgrade; the users' columns go. A
downgrade brings the columns back empty: the counters of names nobody
holds have no user to go back to.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = ("sign_in_failures", "sign_in_last_failure_at", "sign_in_locked_until")


def upgrade() -> None:
    """Create `sign_in_guesses`, move the users' counts into it, drop the users' columns."""
    guesses = op.create_table(
        "sign_in_guesses",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_guesses")),
    )
    op.create_index(
        op.f("ix_sign_in_guesses_last_failure_at"), "sign_in_guesses", ["last_failure_at"]
    )
    counted = op.get_bind().execute(
        sa.text(
            "SELECT a.address, u.sign_in_failures, u.sign_in_last_failure_at,"
            " u.sign_in_locked_until FROM users u"
            " JOIN addresses a ON a.user_id = u.id AND a.kind = 'username'"
            " WHERE u.sign_in_failures > 0 OR u.sign_in_locked_until IS NOT NULL"
        ).columns(
            sa.column("address", sa.Text()),
            sa.column("sign_in_failures", sa.BigInteger()),
            sa.column("sign_in_last_failure_at", sa.DateTime(timezone=True)),
            sa.column("sign_in_locked_until", sa.DateTime(timezone=True)),
        )
    )
    rows = [
        {
            "key": hashlib.sha256(f"sign-in:{address}".encode()).hexdigest(),
            "failures": failures,
            "last_failure_at": last_failure_at,
            "locked_until": locked_until,
        }
        for address, failures, last_failure_at, locked_until in counted
    ]
    if rows:
        op.bulk_insert(guesses, rows)
    for column in _COLUMNS:
        op.drop_column("users", column)


def downgrade() -> None:
    """Bring the users' columns back (empty) and drop `sign_in_guesses`."""
    op.add_column(
        "users",
        sa.Column("sign_in_failures", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.add_column("users", sa.Column("sign_in_last_failure_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("sign_in_locked_until", sa.DateTime(timezone=True)))
    op.drop_index(op.f("ix_sign_in_guesses_last_failure_at"), table_name="sign_in_guesses")
    op.drop_table("sign_in_guesses")
