"""Security: invitations' offers, failed sign-ins, set-password links, look-alike keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

New columns get a server default so that the rows already stored take the
value the model gives an entity stored before the field existed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from provisioning.model import skeleton

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
    ("addresses", sa.Column("skeleton", sa.Text(), nullable=False, server_default="")),
    ("domains", sa.Column("name_skeleton", sa.Text(), nullable=False, server_default="")),
    ("mailboxes", sa.Column("address_skeleton", sa.Text(), nullable=False, server_default="")),
)
INDEXES = (
    ("ix_addresses_skeleton", "addresses", "skeleton"),
    ("ix_domains_name_skeleton", "domains", "name_skeleton"),
    ("ix_mailboxes_address_skeleton", "mailboxes", "address_skeleton"),
)
# The look-alike keys of what is stored, filled in by the library's own skeleton function.
SKELETONS = (
    ("addresses", "address", "skeleton"),
    ("domains", "name", "name_skeleton"),
    ("mailboxes", "address_key", "address_skeleton"),
)


FLOOR = 8  # the shortest minimum length a password policy may set from now on


def upgrade() -> None:
    """Add the columns; raise password policies below the floor to it."""
    for table, column in COLUMNS:
        op.add_column(table, column)
    for index, table, column_name in INDEXES:
        op.create_index(index, table, [column_name])
    connection = op.get_bind()
    for table, source, target in SKELETONS:
        rows = connection.execute(sa.text(f"SELECT {source} FROM {table}")).all()  # noqa: S608
        for (value,) in rows:
            connection.execute(
                sa.text(f"UPDATE {table} SET {target} = :skeleton WHERE {source} = :value"),  # noqa: S608
                {"skeleton": skeleton(value), "value": value},
            )
    for table in ("accounts", "classes_of_service"):
        for bound in ("min_length", "max_length"):
            name = f"password_policy_{bound}"
            op.execute(f"UPDATE {table} SET {name} = {FLOOR} WHERE {name} < {FLOOR}")  # noqa: S608


def downgrade() -> None:
    """Drop the indexes and the columns."""
    for index, table, _ in INDEXES:
        op.drop_index(index, table_name=table)
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column.name)
