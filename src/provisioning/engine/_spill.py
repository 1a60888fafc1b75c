"""The checked parts of a large plan, kept on disk so that memory holds one part at a time.

`plan_parts` checks a large batch a part at a time. Each part's changes,
results, audit events and messages are what `apply` writes when nothing the
plan read has changed since, so they are kept rather than checked again:
pickled, sealed with a key that lives only in this process's memory (the
messages carry set-password links), in a private temporary folder removed
when the plan is let go of. `apply` reads them back one part at a time.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import attrs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from provisioning.model import AuditEvent
from provisioning.ports import Message
from provisioning.storage import TABLES, TableChanges

__all__ = ["Spill", "Spilled"]

_TABLES: Final = {table.name: table for table in TABLES.all()}


@attrs.frozen
class Spilled:
    """One checked part, as `apply` writes it."""

    start: int
    changes: tuple[TableChanges, ...]
    scopes: frozenset[str]  # those its changes move (`storage.scopes_of`)
    results: tuple[Any, ...]
    events: tuple[AuditEvent, ...]
    messages: tuple[Message, ...]
    forgotten: tuple[str, ...]


class Spill:
    """Sealed files of checked parts in a private folder, gone with the object (or `close`).

    A forked child adds its parts to the same folder with the same key; the
    parent learns their files from what the child returns (`adopt`).
    """

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="provisioning-plan-"))  # mode 0700
        self._key = AESGCM.generate_key(bit_length=128)
        self._files: dict[int, Path] = {}
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)

    def add(self, part: Spilled) -> Path:
        """Seal and write one part; the file it went to."""
        nonce = os.urandom(12)
        # A table is named, not pickled: its keys are functions.
        changes = tuple((table.table.name, table.rows) for table in part.changes)
        kept = (
            part.start,
            changes,
            part.scopes,
            part.results,
            part.events,
            part.messages,
            part.forgotten,
        )
        data = pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)
        path = self._folder / f"part-{part.start:09d}-{os.getpid()}"
        path.write_bytes(nonce + AESGCM(self._key).encrypt(nonce, data, None))
        self._files[part.start] = path
        return path

    def adopt(self, files: Sequence[tuple[int, str]]) -> None:
        """Take in the parts a forked child wrote: (first position, file)."""
        for start, name in files:
            self._files[start] = Path(name)

    def files(self) -> list[tuple[int, str]]:
        """The parts written here: (first position, file), to hand to the parent."""
        return [(start, str(path)) for start, path in sorted(self._files.items())]

    def parts(self) -> Iterator[Spilled]:
        """Each part, read back in the order of the batch."""
        for _start, path in sorted(self._files.items()):
            sealed = path.read_bytes()
            start, changes, scopes, results, events, messages, forgotten = pickle.loads(  # noqa: S301
                AESGCM(self._key).decrypt(sealed[:12], sealed[12:], None)  # sealed here
            )
            tables = tuple(TableChanges(_TABLES[name], rows) for name, rows in changes)
            yield Spilled(start, tables, scopes, results, events, messages, forgotten)

    def __len__(self) -> int:
        return len(self._files)

    def close(self) -> None:
        """Remove the folder and every part in it."""
        self._finalizer()
