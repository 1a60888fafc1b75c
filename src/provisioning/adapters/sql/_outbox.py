"""The SQL stores' outbox: writing messages with a change, claiming, settling and listing them."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from provisioning.adapters._outbox import with_new_id
from provisioning.adapters.sql.schema import OUTBOX
from provisioning.model import Message, MessageStatus, QueuedMessage
from provisioning.ports import Sealer
from provisioning.security.sealing import SEALED_PREFIX

__all__ = ["claim", "insert", "listed", "requeue", "settle"]

Unseal = Callable[[str, str], str]
"""Opens a sealed value for its context (the store's own, which says what is wrong)."""


def _context(message_id: str) -> str:
    return f"outbox_messages.secrets:{message_id}"


def insert(
    sql: Connection, messages: Sequence[Message], now: datetime, sealer: Sealer | None
) -> tuple[Message, ...]:
    """Write `messages` in the connection's transaction, each with a new id; them as written."""
    written = tuple(map(with_new_id, messages))
    if not written:
        return written
    rows = []
    for message in written:
        secrets = json.dumps(dict(message.secrets)) if message.secrets else None
        if secrets is not None and sealer is not None:
            secrets = sealer.seal(secrets, context=_context(message.id))
        rows.append(
            {
                "id": message.id,
                "template": message.template,
                "channel": message.channel,
                "recipient": message.to,
                "data": json.dumps(dict(message.data)),
                "secrets": secrets,
                "status": MessageStatus.PENDING.value,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
        )
    sql.execute(OUTBOX.insert(), rows)
    return written


def _queued(row: Any, secrets: Mapping[str, str]) -> QueuedMessage:  # noqa: ANN401 - a row
    return QueuedMessage(
        message=Message(
            template=row.template,
            to=row.recipient,
            data=json.loads(row.data),
            secrets=secrets,
            channel=row.channel,
            id=row.id,
        ),
        sequence=row.sequence,
        status=MessageStatus(row.status),
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        delivered_at=row.delivered_at,
        failure=row.failure,
    )


def _secrets(row: Any, unseal: Unseal) -> dict[str, str]:  # noqa: ANN401 - a row
    value = row.secrets
    if value is None:
        return {}
    if value.startswith(SEALED_PREFIX):
        value = unseal(value, _context(row.id))
    opened: dict[str, str] = json.loads(value)
    return opened


def claim(
    sql: Connection,
    *,
    postgresql: bool,
    now: datetime,
    limit: int,
    lease: timedelta,
    ids: Collection[str] | None,
    unseal: Unseal,
) -> list[QueuedMessage]:
    """Claim due messages, the oldest pending one of each recipient only (see `Store`)."""
    earlier = OUTBOX.alias("earlier")
    waits_for_earlier = (
        sa.select(earlier.c.sequence)
        .where(
            earlier.c.channel == OUTBOX.c.channel,
            earlier.c.recipient == OUTBOX.c.recipient,
            earlier.c.status == MessageStatus.PENDING.value,
            earlier.c.sequence < OUTBOX.c.sequence,
        )
        .exists()
    )
    query = (
        sa.select(OUTBOX)
        .where(
            OUTBOX.c.status == MessageStatus.PENDING.value,
            OUTBOX.c.next_attempt_at <= now,
            sa.or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until <= now),
            ~waits_for_earlier,
        )
        .order_by(OUTBOX.c.sequence)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OUTBOX.c.id.in_(list(ids)))
    if postgresql:  # a row another deliverer is claiming is skipped, never waited for
        query = query.with_for_update(skip_locked=True, of=OUTBOX)
    rows = list(sql.execute(query))
    if rows:
        sql.execute(
            OUTBOX.update()
            .where(OUTBOX.c.sequence.in_([row.sequence for row in rows]))
            .values(claimed_until=now + lease)
        )
    return [_queued(row, _secrets(row, unseal)) for row in rows]


def settle(
    sql: Connection,
    delivered: Collection[str],
    failed: Mapping[str, tuple[str, datetime | None]],
    now: datetime,
) -> None:
    """Record how claimed messages went (see `Store`)."""
    pending = OUTBOX.c.status == MessageStatus.PENDING.value
    if delivered:
        sql.execute(
            OUTBOX.update()
            .where(OUTBOX.c.id.in_(list(delivered)), pending)
            .values(
                status=MessageStatus.DELIVERED.value,
                secrets=None,
                attempts=OUTBOX.c.attempts + 1,
                delivered_at=now,
                claimed_until=None,
            )
        )
    for message_id, (reason, retry_at) in sorted(failed.items()):
        values: dict[str, Any] = {
            "attempts": OUTBOX.c.attempts + 1,
            "failure": reason,
            "claimed_until": None,
        }
        if retry_at is None:
            values["status"] = MessageStatus.FAILED.value
        else:
            values["next_attempt_at"] = retry_at
        sql.execute(OUTBOX.update().where(OUTBOX.c.id == message_id, pending).values(values))


def requeue(sql: Connection, ids: Collection[str], now: datetime) -> int:
    """Put the failed messages among `ids` back in line (see `Store`)."""
    if not ids:
        return 0
    done = sql.execute(
        OUTBOX.update()
        .where(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.status == MessageStatus.FAILED.value)
        .values(status=MessageStatus.PENDING.value, attempts=0, next_attempt_at=now)
    )
    return int(done.rowcount or 0)


def listed(
    sql: Connection, status: MessageStatus | None, offset: int, limit: int
) -> tuple[list[QueuedMessage], int]:
    """One page of the outbox without secrets, and how many match (see `Store`)."""
    where = [] if status is None else [OUTBOX.c.status == status.value]
    columns = [c for c in OUTBOX.c if c.name != "secrets"]
    page = sql.execute(
        sa.select(*columns).where(*where).order_by(OUTBOX.c.sequence).offset(offset).limit(limit)
    )
    total = sql.execute(sa.select(sa.func.count()).select_from(OUTBOX).where(*where)).scalar_one()
    return [_queued(row, {}) for row in page], int(total)
