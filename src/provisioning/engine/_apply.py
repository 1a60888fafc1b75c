"""`apply`: prepare what is expensive once, then write a plan in one short transaction.

The plan's password hashes are computed first, outside any transaction, on
every core. Then one write transaction: a plan nothing has changed under is
written as it is, in sets; otherwise it is checked again inside the
transaction, reusing every id, token, DNS answer and hash it made, and all of
it is written or `ValidationFailed` says what no longer holds.
`run` is `plan` and `apply` for one command.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs

from provisioning.commands import Command
from provisioning.engine._collector import fewer_collections
from provisioning.engine._deliver import deliver
from provisioning.engine._plan import forget_guesses, plan, validate
from provisioning.engine._results import Outcome, Plan, Progress
from provisioning.errors import (
    Conflict,
    InternalError,
    Issue,
    NotificationFailed,
    ProvisioningError,
    StoreError,
    ValidationFailed,
)
from provisioning.model import AuditEvent
from provisioning.ports import Environment, Message
from provisioning.principals import Actor
from provisioning.rules._tx import Effects
from provisioning.storage import Change, TableChanges, UnitOfWork

logger = logging.getLogger("provisioning")

_R = TypeVar("_R")
_T = TypeVar("_T")

__all__ = ["apply", "apply_lean", "run"]


def apply(ctx: Environment, plan: Plan, *, progress: Progress | None = None) -> Outcome:
    """Execute a plan with no blocking issues: all of it in one write transaction, or nothing.

    Password hashes are computed first, in parallel and outside the
    transaction. If the store changed since planning (or the plan is older
    than `ctx.fresh_for`), the commands are validated again inside the
    transaction; if one no longer holds, `ValidationFailed` is raised and
    nothing is written. `progress` is called with (done, total) as rows are
    written (and as commands are checked again, if they are).
    """
    if not plan.ok:
        _record_refusals(ctx, plan)
    plan.raise_for_issues()
    return _apply(ctx, plan, single=False, progress=progress)


def run(ctx: Environment, actor: Actor, command: Command[_R]) -> _R:
    """Validate and apply one command, returning what it produced (the new entity ...).

    Raises `ValidationFailed` with every issue; but when the one problem is
    that the actor may not issue it, the target is missing or the store
    refused the change (a stale version, a value taken meanwhile), it raises
    that `PermissionDenied`, `NotFound` or `Conflict`.
    """
    planned = plan(ctx, actor, (command,))
    if not planned.ok:
        _record_refusals(ctx, planned)
        _refuse(planned.issues, planned._work.raised, single=True)  # noqa: SLF001 - one module
    result: _R = _apply(ctx, planned, single=True, progress=None).results[0]
    return result


def _refuse(issues: Sequence[Issue], raised: dict[int, ProvisioningError], *, single: bool) -> None:
    blocking = [issue for issue in issues if issue.blocking]
    error = raised.get(0)
    if single and error is not None and len(blocking) == 1:
        raise error
    raise ValidationFailed(issues=issues)


_ATTEMPTS: Final = 3  # write transactions tried when the database gives one up in a conflict


def _record_refusals(ctx: Environment, plan: Plan) -> None:
    """Leave the trace of each refusal that asks for one (a failed sign-in's count, its audit).

    The refused commands are checked again in a write transaction of their
    own, on the store as it is now (so two failures at once both count),
    and what their refusals record is committed; nothing else of the batch.
    """
    work = plan._work  # noqa: SLF001 - one module
    if not work.recorded:
        return

    def record(attempt: int) -> None:
        del attempt
        with ctx.store.unit_of_work() as uow:
            _batch, tx = validate(
                ctx,
                plan.actor,
                plan.commands,
                uow,
                now=work.planned_at,
                effects=work.effects,
                defer_hashing=False,
                progress=None,
                positions=work.recorded,
                recording=True,
            )
            _write(uow, tx.uow.changes(), None)
            uow.commit()

    _retrying(record)


def _retrying(write: Callable[[int], _T]) -> _T:
    """`write(attempt)`, tried again when the database gives a transaction up in a conflict.

    Other provisioning errors pass through; anything else is an `InternalError`.
    """
    attempt = 1
    while True:
        try:
            return write(attempt)
        except StoreError as failed:
            if failed.code != "store.conflict" or attempt == _ATTEMPTS:
                raise
            logger.warning("apply: the database gave up a conflict, trying again (%d)", attempt)
        except ProvisioningError:
            raise
        except Exception as exc:
            raise InternalError(where="apply", cause=exc) from exc
        attempt += 1


@attrs.frozen
class _Written:
    results: tuple[Any, ...]
    events: tuple[AuditEvent, ...]
    messages: tuple[Message, ...]
    warnings: tuple[Issue, ...]
    revalidated: bool = attrs.field(kw_only=True)
    counted: Mapping[str, int] | None = attrs.field(default=None, kw_only=True)
    forgotten: Sequence[str] = attrs.field(default=(), kw_only=True)


def apply_lean(
    ctx: Environment,
    plan: Plan,
    *,
    keep: Callable[[Any], Any],
    progress: Progress | None = None,
) -> Outcome:
    """`apply`, keeping only `keep(result)` of each result and no events (`Outcome.lean`).

    A plan of `plan_parts` is checked and written a part at a time, and what
    `apply` would hold of a large batch until it returns (every entity and
    event) is let go part by part.
    """
    if not plan.ok:
        _record_refusals(ctx, plan)
    plan.raise_for_issues()
    return _apply(ctx, plan, single=False, progress=progress, keep=keep)


def _apply(
    ctx: Environment,
    plan: Plan,
    *,
    single: bool,
    progress: Progress | None,
    keep: Callable[[Any], Any] | None = None,
) -> Outcome:
    work = plan._work  # noqa: SLF001 - one module
    work.effects.prepare(ctx.hasher)
    now = ctx.clock.now()
    # A support session may end by the clock between plan and apply, and so may a link or a
    # code the plan checked: such batches are checked again, at the time they are written.
    fresh = (
        now - work.planned_at <= ctx.fresh_for
        and plan.actor.session_id is None
        and (work.deadline is None or now < work.deadline)
    )
    with fewer_collections(len(plan.commands)):
        written = _retrying(
            lambda attempt: (
                _write_parts(ctx, plan, now=now, keep=keep, progress=progress)
                if work.parts
                else _write_batch(
                    ctx,
                    plan,
                    now=now,
                    fresh=fresh and attempt == 1,
                    single=single,
                    progress=progress,
                )
            )
        )
    outcome = Outcome(
        results=tuple(work.effects.resolve(result) for result in written.results),
        events=written.events,
        messages=written.messages,
        warnings=written.warnings,
        revalidated=written.revalidated,
        counted=written.counted,
    )
    forget_guesses(ctx, written.forgotten, now)
    if keep is not None and not work.parts:
        outcome = outcome.lean(keep)
    logger.info(
        "applied %d command(s) as %s: %d change(s), %d message(s)%s",
        len(plan.commands),
        plan.actor,
        outcome.actions.total(),
        len(outcome.messages),
        " (validated again)" if outcome.revalidated else "",
    )
    if outcome.messages and ctx.notifier is not None:
        _deliver_now(ctx, outcome)
    return outcome


def _deliver_now(ctx: Environment, outcome: Outcome) -> None:
    """Deliver a committed batch's messages through the context's notifier, right away.

    They are in the outbox already: one that fails stays there, its attempt
    on record, for the next `deliver`; `NotificationFailed` says so.
    """
    sent = deliver(ctx, limit=len(outcome.messages), only=[m.id for m in outcome.messages])
    if not sent.ok:
        waiting = len(sent.retrying) + len(sent.failed)
        raise NotificationFailed(
            outcome=outcome,
            reason=f"{waiting} message(s) not delivered: they wait in the store's outbox",
        )


def _write_batch(
    ctx: Environment,
    plan: Plan,
    *,
    now: datetime,
    fresh: bool,
    single: bool,
    progress: Progress | None,
) -> _Written:
    """One write transaction: the plan's changes as they are, or checked again first."""
    work = plan._work  # noqa: SLF001 - one module
    with ctx.store.unit_of_work() as uow:
        if fresh and uow.change_count() == work.change_count:
            try:
                with uow.savepoint():
                    _write(uow, _with_hashes(work.effects, work.changes), progress)
            except Conflict:
                pass  # taken meanwhile by a writer that had not counted yet: check again
            else:
                messages = uow.enqueue(work.messages, now=now)
                uow.commit()
                return _Written(
                    work.results,
                    work.events,
                    messages,
                    plan.warnings,
                    revalidated=False,
                    forgotten=work.forgotten,
                )
        batch, tx = validate(
            ctx,
            plan.actor,
            plan.commands,
            uow,
            now=work.planned_at if fresh else now,
            effects=work.effects,
            defer_hashing=False,
            progress=progress,
        )
        if not batch.ok:
            _refuse(batch.issues, batch.raised, single=single)
        _write(uow, tx.uow.changes(), progress)
        messages = uow.enqueue(tx.messages, now=now)
        uow.commit()
        warnings = tuple(issue for issue in batch.issues if not issue.blocking)
        return _Written(
            tuple(batch.results),
            tuple(tx.events),
            messages,
            warnings,
            revalidated=True,
            forgotten=tuple(tx.forgotten),
        )


def _write_parts(
    ctx: Environment,
    plan: Plan,
    *,
    now: datetime,
    keep: Callable[[Any], Any] | None,
    progress: Progress | None,
) -> _Written:
    """One write transaction: each part of the plan checked again and written, in turn.

    Each part is checked against the transaction, so it sees the parts
    written before it; what `keep` leaves of its results, its messages and
    the count of its events are all that is kept of it.
    """
    work = plan._work  # noqa: SLF001 - one module
    results: list[Any] = []
    events: list[AuditEvent] = []
    counted: Counter[str] = Counter()
    messages: list[Message] = []
    warnings: list[Issue] = []
    forgotten: list[str] = []
    total = len(plan.commands)
    with ctx.store.unit_of_work() as uow:
        for part in work.parts:
            batch, tx = validate(
                ctx,
                plan.actor,
                plan.commands,
                uow,
                now=now,
                effects=work.effects,
                defer_hashing=False,
                progress=None,
                positions=part,
            )
            if not batch.ok:
                _refuse(batch.issues, batch.raised, single=False)
            _write(uow, tx.uow.changes(), None)
            work.effects.forget_all_but_hashes()
            results += batch.results if keep is None else map(keep, batch.results)
            if keep is None:
                events += tx.events
            counted.update(event.action for event in tx.events)
            messages += uow.enqueue(tx.messages, now=now)
            forgotten += tx.forgotten
            warnings += (issue for issue in batch.issues if not issue.blocking)
            if progress is not None:
                progress(part.stop, total)
        uow.commit()
    return _Written(
        tuple(results),
        tuple(events),
        tuple(messages),
        tuple(warnings),
        revalidated=True,
        counted=None if keep is None else counted,
        forgotten=tuple(forgotten),
    )


def _with_hashes(effects: Effects, changes: Sequence[TableChanges]) -> Sequence[TableChanges]:
    """A plan's changes with each password placeholder replaced by its prepared hash.

    Only the changes `plan` made hold placeholders: a batch checked again in
    the write transaction hashes (or finds the prepared hash) as it goes.
    """
    if not effects.resolved:
        return changes
    return [
        attrs.evolve(
            table, rows=tuple(Change(row.old, effects.resolve(row.new)) for row in table.rows)
        )
        for table in changes
    ]


def _write(
    uow: UnitOfWork,
    changes: Sequence[TableChanges],
    progress: Progress | None,
) -> None:
    """Write the batch's rows, in sets."""
    uow.write(changes)
    if progress is not None:
        total = sum(len(table.rows) for table in changes)
        progress(total, total)
