"""`deliver`: hand the outbox's messages to a notifier, at least once, in each recipient's order.

`apply` writes a batch's messages into the store's outbox in the batch's own
transaction; nothing is sent inside it. Delivery is its own step: it claims
due messages (for a while: a deliverer that dies lets them go to the next),
sends each, and records how each went. A message that fails is tried again
later, twice as late each time, and given up on after the policy's
attempts (`FAILED`, visible in `queries.messages`, put back in line by
`retry_messages`). A notifier that refuses a message for good (an unknown
template, an address that is no address) raises `UndeliverableMessage`: it
is given up on at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Final

import attrs

from provisioning.errors import PermissionDenied, UndeliverableMessage, UsageError, codes
from provisioning.model import DEFAULT_DELIVERY, DeliveryPolicy, Message, QueuedMessage
from provisioning.ports import Environment, Notifier
from provisioning.principals import Actor

__all__ = ["Delivery", "deliver", "retry_messages"]

CODES: Final = codes(
    usage=("delivery.no_notifier",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

logger = logging.getLogger("provisioning")

_SETTLED_EVERY: Final = 25  # messages sent between two records of how they went


@attrs.frozen
class Delivery:
    """What one `deliver` did, by message id: sent, to be tried again, given up on."""

    delivered: tuple[str, ...] = ()
    retrying: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every message claimed was delivered."""
        return not self.retrying and not self.failed


def deliver(
    ctx: Environment,
    notifier: Notifier | None = None,
    *,
    limit: int = 100,
    policy: DeliveryPolicy = DEFAULT_DELIVERY,
    only: Collection[str] | None = None,
    prepare: Callable[[Message], Message] | None = None,
) -> Delivery:
    """Deliver up to `limit` due messages of the outbox through `notifier` (else `ctx.notifier`).

    At least once: a message is recorded as delivered after its notifier
    took it, so a process that dies in between sends it again (with the same
    `Message.id`, which a receiver may use to drop the second). With `only`,
    just those messages (the ones a batch made). `prepare` completes a
    message as it is sent (`bulk.attach_reports` attaches the report a
    `report.users` message asks for); an `UndeliverableMessage` it raises
    gives the message up. Run it in a loop, from a cron job or a task
    queue; several deliverers may run at once.

    Examples:
        >>> from provisioning import Actor, Context, CreateAccount, run
        >>> from provisioning.adapters.memory import Outbox
        >>> ctx = Context.in_memory(notifier=None)
        >>> deliver(ctx, Outbox()).delivered
        ()
    """
    sending = notifier if notifier is not None else ctx.notifier
    if sending is None:
        raise UsageError(
            code="delivery.no_notifier",
            reason="deliver needs a notifier: pass one, or give the context one",
        )
    done = Delivery()
    tried = 0
    try:
        while tried < limit:
            # A claim takes the oldest pending message of each recipient: a recipient's
            # next one is claimed once the one before it is settled.
            claimed = ctx.store.claim_messages(
                now=ctx.clock.now(),
                limit=min(limit - tried, _SETTLED_EVERY),
                lease=policy.lease,
                ids=only,
            )
            if not claimed:
                break
            tried += len(claimed)
            done = _merged(done, _send(ctx, sending, claimed, policy, prepare))
    finally:
        close = getattr(sending, "close", None)
        if callable(close):
            close()
    return done


def _send(
    ctx: Environment,
    notifier: Notifier,
    claimed: Sequence[QueuedMessage],
    policy: DeliveryPolicy,
    prepare: Callable[[Message], Message] | None,
) -> Delivery:
    delivered: list[str] = []
    failed: dict[str, tuple[str, datetime | None]] = {}
    for queued in claimed:
        try:
            message = queued.message if prepare is None else prepare(queued.message)
            notifier.send([message])
        except UndeliverableMessage as refused:
            failed[queued.id] = (f"{refused.code}: {refused.reason}", None)
            _logged(queued.message, refused.code)
        except Exception as exc:  # noqa: BLE001 - any failure of a notifier leaves it pending
            reason = _reason(exc)
            failed[queued.id] = (reason, policy.retry_at(queued.attempts + 1, ctx.clock.now()))
            _logged(queued.message, reason)
        else:
            delivered.append(queued.id)
    now = ctx.clock.now()
    ctx.store.settle_messages(delivered, failed, now=now)
    return Delivery(
        delivered=tuple(delivered),
        retrying=tuple(key for key, (_, retry) in failed.items() if retry is not None),
        failed=tuple(key for key, (_, retry) in failed.items() if retry is None),
    )


def _merged(one: Delivery, other: Delivery) -> Delivery:
    return Delivery(
        delivered=one.delivered + other.delivered,
        retrying=one.retrying + other.retrying,
        failed=one.failed + other.failed,
    )


def _reason(exc: BaseException) -> str:
    """Why a send failed, as it may be kept and shown: the error's kind and code, no text.

    A server's reply can quote what it was sent; the text is left out so
    that no link or code of the message ever reaches a log or a listing.
    """
    code = getattr(exc, "smtp_code", None)
    return f"delivery.failed: {type(exc).__name__}" + (f" {code}" if code else "")


def _logged(message: Message, reason: str) -> None:
    logger.warning(
        "message %s (%s, %s) not delivered: %s",
        message.id,
        message.template,
        message.channel,
        reason,
        extra={"event": "message.not_delivered"},
    )


def retry_messages(ctx: Environment, actor: Actor, message_ids: Collection[str]) -> int:
    """Put failed messages back in line, their attempts counted from naught; how many were.

    The outbox is the platform's: only its operator retries what failed.
    """
    if not actor.is_platform:
        raise PermissionDenied(actor=str(actor), permission="messages.retry", account_id=None)
    return ctx.store.requeue_messages(list(message_ids), now=ctx.clock.now())
