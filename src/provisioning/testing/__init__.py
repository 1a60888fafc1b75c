"""Helpers for testing with and against provisioning: the store contract suite, entity builders.

Needs pytest (and, for its concurrency tests, threads). See
`provisioning.testing.StoreContract` and "How to write a store" in the docs.
"""

from provisioning.testing import builders
from provisioning.testing._contract import StoreContract, seed

__all__ = ["StoreContract", "builders", "seed"]
