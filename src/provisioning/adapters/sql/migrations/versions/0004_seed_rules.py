"""The seeds' rules: every account has a users' and an admins' class of service.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Each account stored before gets the two classes of service a new account
starts with ("Users" and "Administrators", numbered when the account already
has one of that name), and each of its users without a class of service gets
the users' one.
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CLASSES = (
    ("default_cos_id", "Users", "What the account's users get unless told otherwise.", False),
    (
        "admin_cos_id",
        "Administrators",
        "Opens the admin panel: its holders administer the account.",
        True,
    ),
)


def _reference(name: str) -> sa.Column[str]:
    return sa.Column(
        name,
        sa.Text(),
        sa.ForeignKey(
            "classes_of_service.id",
            name=f"fk_accounts_{name}",
            deferrable=True,
            initially="DEFERRED",
        ),
        nullable=True,
    )


def upgrade() -> None:
    """Add the two columns, and the classes of service they name for every account."""
    with op.batch_alter_table("accounts") as batch:
        for column, *_ in CLASSES:
            batch.add_column(_reference(column))
    connection = op.get_bind()
    taken = {
        key for (key,) in connection.execute(sa.text("SELECT name_key FROM classes_of_service"))
    }
    for (account_id,) in connection.execute(sa.text("SELECT id FROM accounts")).all():
        for column, base, description, admin_panel in CLASSES:
            name, number = base, 1
            while f"{account_id}/{name.casefold()}" in taken:
                number += 1
                name = f"{base} {number}"
            taken.add(f"{account_id}/{name.casefold()}")
            cos_id = uuid.uuid4().hex
            connection.execute(
                sa.text(
                    "INSERT INTO classes_of_service (id, name, account_id, description, system,"
                    " admin_panel, features, version, name_key) VALUES (:id, :name, :account,"
                    " :description, :system, :panel, :features, 1, :key)"
                ),
                {
                    "id": cos_id,
                    "name": name,
                    "account": account_id,
                    "description": description,
                    "system": False,
                    "panel": admin_panel,
                    "features": json.dumps([]),
                    "key": f"{account_id}/{name.casefold()}",
                },
            )
            connection.execute(
                sa.text(f"UPDATE accounts SET {column} = :cos WHERE id = :account"),  # noqa: S608
                {"cos": cos_id, "account": account_id},
            )
            if column == "default_cos_id":
                connection.execute(
                    sa.text(
                        "UPDATE users SET cos_id = :cos WHERE account_id = :account"
                        " AND cos_id IS NULL"
                    ),
                    {"cos": cos_id, "account": account_id},
                )


def downgrade() -> None:
    """Drop the two columns (the classes of service stay, as ordinary ones)."""
    with op.batch_alter_table("accounts") as batch:
        for column, *_ in reversed(CLASSES):
            batch.drop_column(column)
