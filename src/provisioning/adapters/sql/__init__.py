"""The SQL stores: SQLite and PostgreSQL on one relational schema, with Alembic migrations."""

from provisioning.adapters.sql.schema import METADATA
from provisioning.adapters.sql.store import (
    PostgresStore,
    SqliteStore,
    SqlStore,
    SqlUnitOfWork,
    redacted,
)

__all__ = ["METADATA", "PostgresStore", "SqlStore", "SqlUnitOfWork", "SqliteStore", "redacted"]
