"""Messages: what a change tells someone, and its record in the store's outbox.

A handler makes a `Message` (a welcome with its set-password link, an
invitation, a recovery code); `apply` writes it into the store's outbox in
the same transaction as the change, where it waits as a `QueuedMessage`
until `deliver` hands it to a notifier. A delivered message keeps its record
without its secrets.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

import attrs

from provisioning.model._entities import SECRET

__all__ = [
    "Attachment",
    "DeliveryPolicy",
    "Message",
    "MessageStatus",
    "QueuedMessage",
]


@attrs.frozen
class Attachment:
    """A file a message carries, made when it is delivered (a report): its name, type and bytes."""

    name: str
    content_type: str
    content: bytes = attrs.field(repr=lambda content: f"<{len(content)} bytes>")


@attrs.frozen
class Message:
    """A notification a change makes, delivered once the change has committed.

    `template` names what happened (`invitation.accepted` ...); `data` holds
    the values a template needs. A one-time token meant for the recipient
    (an invitation or set-password link) travels in `secrets`, which `repr`
    and `to_export` leave out: only the notifier that delivers it reads it.
    `id` is the message's stable id, given when the outbox takes it: a
    notifier passes it on (an email's `Message-ID`) so that a receiver can
    drop a message delivered twice.
    """

    template: str
    to: str
    data: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    secrets: Mapping[str, str] = attrs.field(
        factory=dict, hash=False, repr=False, metadata={SECRET: True}
    )
    channel: str = "email"
    """How it travels: `email` (`to` is an address) or `sms` (`to` is an E.164 number)."""
    id: str = attrs.field(default="", kw_only=True)
    attachments: tuple[Attachment, ...] = attrs.field(default=(), kw_only=True, hash=False)
    """Files made when the message is delivered (never kept in the outbox)."""


class MessageStatus(enum.Enum):
    """Where a message of the outbox is: waiting, delivered, or given up on."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@attrs.frozen
class QueuedMessage:
    """A message in the store's outbox, with how its delivery went so far.

    `sequence` orders the outbox (the order the messages were written);
    messages to one recipient are delivered in it. `failure` says why the
    last attempt failed (a reason code and the error's kind, never a
    secret). `message.secrets` are empty once delivered, and in listings.
    """

    message: Message
    sequence: int
    status: MessageStatus
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    delivered_at: datetime | None = None
    failure: str | None = None

    @property
    def id(self) -> str:
        """The message's stable id."""
        return self.message.id


@attrs.frozen
class DeliveryPolicy:
    """How delivery retries: after `first_retry`, then twice as long each time, `attempts` in all.

    A claimed message is another deliverer's for `lease`: if its deliverer
    dies, the message is delivered by the next one once the lease ends.
    """

    attempts: int = 8
    first_retry: timedelta = timedelta(minutes=1)
    lease: timedelta = timedelta(minutes=5)

    def retry_at(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts (None: give up)."""
        if attempts >= self.attempts:
            return None
        return now + self.first_retry * (1 << max(attempts - 1, 0))


DEFAULT_DELIVERY: Final = DeliveryPolicy()
"""The retries `deliver` makes unless told otherwise."""
