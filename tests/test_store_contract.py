"""The shipped store contract, over every store the `store` fixture gives (conftest.py)."""

from __future__ import annotations

from provisioning.testing import StoreContract


class TestEveryStore(StoreContract):
    """Memory, SQLite and PostgreSQL alike."""
