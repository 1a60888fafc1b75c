"""The SQLite store: the embedded, persistent default (see `provisioning.adapters.sql`)."""

from provisioning.adapters.sql.store import SqliteStore, SqlUnitOfWork

__all__ = ["SqlUnitOfWork", "SqliteStore"]
