"""Adapters: implementations of the ports.

`memory` holds the in-memory store, outbox, fixed clock and sequential ids;
`sqlite` the embedded persistent store.
"""
