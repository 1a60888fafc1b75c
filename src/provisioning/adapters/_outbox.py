"""The memory store's outbox: its messages in the order they were written, and their claims."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from provisioning.model import Message, MessageStatus, QueuedMessage

__all__ = ["MemoryOutbox", "new_message_id", "recipient_key", "with_new_id"]


def new_message_id() -> str:
    """A message's stable id: random, so that no two stores or runs ever share one."""
    return uuid.uuid4().hex


def with_new_id(message: Message) -> Message:
    """`message` with a new stable id (built directly: a batch stamps many)."""
    return Message(
        template=message.template,
        to=message.to,
        data=message.data,
        secrets=message.secrets,
        channel=message.channel,
        id=new_message_id(),
    )


def recipient_key(message: Message) -> str:
    """Who a message goes to, as delivery keeps their messages in order: channel and address."""
    return f"{message.channel}:{message.to}"


def without_secrets(queued: QueuedMessage) -> QueuedMessage:
    """The record as a listing shows it: its secrets left out."""
    if not queued.message.secrets:
        return queued
    return attrs.evolve(queued, message=attrs.evolve(queued.message, secrets={}))


@attrs.define
class MemoryOutbox:
    """The outbox of a `MemoryStore`; the store's lock guards it.

    `put` is what a unit of work's journal calls to take a message back out
    when the unit of work rolls back, as it does for rows.
    """

    records: dict[str, QueuedMessage] = attrs.Factory(dict)
    pending: dict[str, None] = attrs.Factory(dict)
    claimed: dict[str, datetime] = attrs.Factory(dict)
    sequence: int = 0

    def add(self, messages: Sequence[Message], now: datetime) -> tuple[Message, ...]:
        """Write `messages`, each with a new id; them as written."""
        written = []
        for message in messages:
            self.sequence += 1
            stamped = with_new_id(message)
            self.records[stamped.id] = QueuedMessage(
                message=stamped,
                sequence=self.sequence,
                status=MessageStatus.PENDING,
                created_at=now,
                next_attempt_at=now,
            )
            self.pending[stamped.id] = None
            written.append(stamped)
        return tuple(written)

    def put(self, message_id: str, previous: None) -> None:
        """Take a message back out (a rolled-back unit of work)."""
        del previous
        self.records.pop(message_id, None)
        self.pending.pop(message_id, None)

    def claim(
        self, now: datetime, limit: int, lease: timedelta, ids: Collection[str] | None
    ) -> list[QueuedMessage]:
        """Up to `limit` due messages, the oldest of each recipient's first, claimed for `lease`."""
        wanted = None if ids is None else set(ids)
        waiting: set[str] = set()
        found: list[QueuedMessage] = []
        for message_id in self.pending:
            queued = self.records[message_id]
            recipient = recipient_key(queued.message)
            if recipient in waiting:
                continue  # an earlier message to them goes first
            waiting.add(recipient)
            claimed = self.claimed.get(message_id)
            if (
                (wanted is not None and message_id not in wanted)
                or queued.next_attempt_at > now
                or (claimed is not None and claimed > now)
            ):
                continue
            self.claimed[message_id] = now + lease
            found.append(queued)
            if len(found) >= limit:
                break
        return found

    def settle(
        self,
        delivered: Collection[str],
        failed: Mapping[str, tuple[str, datetime | None]],
        now: datetime,
    ) -> None:
        """Record the attempts: delivered (secrets dropped), or failed (retried, or given up)."""
        for message_id in delivered:
            queued = self.records.get(message_id)
            if queued is None or queued.status is not MessageStatus.PENDING:
                continue
            self.records[message_id] = attrs.evolve(
                without_secrets(queued),
                status=MessageStatus.DELIVERED,
                attempts=queued.attempts + 1,
                delivered_at=now,
            )
            self.pending.pop(message_id, None)
            self.claimed.pop(message_id, None)
        for message_id, (reason, retry_at) in failed.items():
            queued = self.records.get(message_id)
            if queued is None or queued.status is not MessageStatus.PENDING:
                continue
            self.records[message_id] = attrs.evolve(
                queued,
                status=MessageStatus.PENDING if retry_at is not None else MessageStatus.FAILED,
                attempts=queued.attempts + 1,
                next_attempt_at=retry_at or queued.next_attempt_at,
                failure=reason,
            )
            if retry_at is None:
                self.pending.pop(message_id, None)
            self.claimed.pop(message_id, None)

    def requeue(self, ids: Collection[str], now: datetime) -> int:
        """Put failed messages back in line, their attempts counted from naught; how many."""
        count = 0
        for message_id in ids:
            queued = self.records.get(message_id)
            if queued is None or queued.status is not MessageStatus.FAILED:
                continue
            self.records[message_id] = attrs.evolve(
                queued, status=MessageStatus.PENDING, attempts=0, next_attempt_at=now
            )
            self.pending[message_id] = None
            count += 1
        if count:  # back in the order they were written
            self.pending = dict.fromkeys(sorted(self.pending, key=self._sequence))
        return count

    def listed(
        self, status: MessageStatus | None, offset: int, limit: int
    ) -> tuple[list[QueuedMessage], int]:
        """One page of the outbox in the order it was written, without secrets, and its total."""
        matching = [q for q in self.records.values() if status is None or q.status is status]
        page = [without_secrets(q) for q in matching[offset : offset + limit]]
        return page, len(matching)

    def _sequence(self, message_id: str) -> int:
        return self.records[message_id].sequence
