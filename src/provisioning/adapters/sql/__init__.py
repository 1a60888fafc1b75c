"""The SQL stores: SQLite and PostgreSQL on one relational schema, with Alembic migrations."""

from provisioning.adapters.sql._store import (
    UNREADABLE_URL,
    PostgresStore,
    SqliteStore,
    SqlStore,
    SqlUnitOfWork,
    redacted,
)
from provisioning.adapters.sql.schema import METADATA

__all__ = [
    "METADATA",
    "UNREADABLE_URL",
    "PostgresStore",
    "SqlStore",
    "SqlUnitOfWork",
    "SqliteStore",
    "redacted",
]
