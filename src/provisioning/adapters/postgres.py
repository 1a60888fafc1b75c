"""The PostgreSQL store, for deployments beyond one machine (see `provisioning.adapters.sql`)."""

from provisioning.adapters.sql.store import PostgresStore, SqlUnitOfWork

__all__ = ["PostgresStore", "SqlUnitOfWork"]
