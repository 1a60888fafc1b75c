"""Security: invitations' offers, failed sign-ins, set-password links, policies' floor.

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


def _number(name: str, default: int) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default=str(default))


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


COLUMNS = (
    ("invitations", sa.Column("inviter", sa.Text(), nullable=False, server_default="")),
    ("invitations", sa.Column("offer_digest", sa.Text(), nullable=False, server_default="")),
    ("accounts", _number("sign_in_policy_max_failures", 10)),
    ("accounts", _number("sign_in_policy_wait_increment_s", 60)),
    ("accounts", _number("sign_in_policy_max_wait_s", 900)),
    ("accounts", _number("sign_in_policy_reset_after_s", 43_200)),
    ("accounts", _number("sign_in_policy_captcha_after", 3)),
    ("users", _number("sign_in_failures", 0)),
    ("users", _time("sign_in_last_failure_at")),
    ("users", _time("sign_in_locked_until")),
    ("users", sa.Column("credentials_setup_token_hash", sa.Text(), nullable=True)),
    ("users", _time("credentials_setup_expires_at")),
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
