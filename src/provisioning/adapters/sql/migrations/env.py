"""Alembic's environment: migrations run on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from provisioning.adapters.sql.schema import METADATA

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    msg = "run the migrations through provisioning (SqlStore or `provisioning db upgrade`)"
    raise RuntimeError(msg)

context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
