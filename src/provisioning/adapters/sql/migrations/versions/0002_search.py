"""Indexes for "contains" searches over users: FTS5 trigram (SQLite), pg_trgm GIN (PostgreSQL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE = (
    (
        "CREATE VIRTUAL TABLE users_search USING fts5("
        "username_text, full_name, directory, content='users', content_rowid='rowid',"
        " tokenize='trigram')"
    ),
    (
        "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN"
        " INSERT INTO users_search (rowid, username_text, full_name, directory)"
        " VALUES (new.rowid, new.username_text, new.full_name, new.directory); END"
    ),
    (
        "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN"
        " INSERT INTO users_search (users_search, rowid, username_text, full_name, directory)"
        " VALUES ('delete', old.rowid, old.username_text, old.full_name, old.directory); END"
    ),
    (
        "CREATE TRIGGER users_search_update AFTER UPDATE ON users BEGIN"
        " INSERT INTO users_search (users_search, rowid, username_text, full_name, directory)"
        " VALUES ('delete', old.rowid, old.username_text, old.full_name, old.directory);"
        " INSERT INTO users_search (rowid, username_text, full_name, directory)"
        " VALUES (new.rowid, new.username_text, new.full_name, new.directory); END"
    ),
    "INSERT INTO users_search (users_search) VALUES ('rebuild')",
)

POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_users_username_text_trgm ON users USING gin (username_text gin_trgm_ops)",
    "CREATE INDEX ix_users_full_name_trgm ON users USING gin (full_name gin_trgm_ops)",
    "CREATE INDEX ix_users_directory_trgm ON users USING gin (directory gin_trgm_ops)",
)


def upgrade() -> None:
    """Create the search index of the database's kind, filled with the users there are."""
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    """Drop the search index."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER users_search_{name}")
        op.execute("DROP TABLE users_search")
    else:
        for column in ("username_text", "full_name", "directory"):
            op.execute(f"DROP INDEX ix_users_{column}_trgm")
