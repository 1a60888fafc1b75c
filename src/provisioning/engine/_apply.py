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
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs

from provisioning.commands import Command
from provisioning.engine._collector import fewer_collections
from provisioning.engine._deliver import deliver
from provisioning.engine._plan import Batch, forget_guesses, plan, validate
from provisioning.engine._results import Outcome, Plan, Progress, Work
from provisioning.errors import (
    Conflict,
    InternalError,
    Issue,
    NotificationFailed,
    ProvisioningError,
    StoreError,
    ValidationFailed,
    codes,
)
from provisioning.model import AuditEvent
from provisioning.ports import Environment, Message
from provisioning.principals import Actor
from provisioning.rules._tx import Effects, Tx
from provisioning.storage import (
    EVERYTHING,
    PLATFORM,
    Change,
    TableChanges,
    UnitOfWork,
    scopes_of,
)

logger = logging.getLogger("provisioning")

_R = TypeVar("_R")
_T = TypeVar("_T")

__all__ = ["apply", "apply_lean", "run"]

CODES: Final = codes(
    stale=("store.conflict",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


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
                _write_parts(
                    ctx, plan, now=now, fresh=fresh and attempt == 1, keep=keep, progress=progress
                )
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
    """One write transaction: the plan's changes as they are, or checked again first.

    The transaction first takes its turn on the change scopes the plan read
    and writes (see `provisioning.storage._scopes`). When none of them has
    moved since the plan, its changes are written as they are. Otherwise the
    batch is checked again; if that reads or writes a scope not claimed, the
    transaction starts over, claiming it too (the claims are always taken in
    one order, up front).
    """
    work = plan._work  # noqa: SLF001 - one module
    written, claimable = scopes_of(work.changes)
    claim = _Claim.of(work.reads or {}, claimable)
    as_planned = fresh
    for _round in range(_ATTEMPTS):
        with ctx.store.unit_of_work() as uow:
            counts = claim.take(uow)
            if as_planned and work.reads is not None and _unmoved(work.reads, counts):
                try:
                    _write(uow, _with_hashes(work.effects, work.changes), progress, written)
                    messages = uow.enqueue(work.messages, now=now)
                    uow.commit()  # a foreign key deferred to the commit may refuse it there
                except Conflict:
                    # A unique value taken meanwhile, or a row named gone: the transaction is
                    # given up, and the batch checked again in the next one.
                    as_planned = False
                    continue
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
            checked = _within(claim, uow, batch, tx, single=single)
            if isinstance(checked, _Claim):
                claim = checked
                continue  # leaving the block rolls back: start over with the wider claim
            changes, touched = checked
            _write(uow, changes, progress, touched)
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
    raise _kept_moving(ctx)


def _within(
    claim: _Claim, uow: UnitOfWork, batch: Batch, tx: Tx, *, single: bool
) -> tuple[Sequence[TableChanges], set[str]] | _Claim:
    """A batch checked again in `uow`: its changes and their scopes, or the wider claim it needs.

    Refused (`ValidationFailed` ...) if the check found blocking issues.
    """
    if not batch.ok:
        _refuse(batch.issues, batch.raised, single=single)
    changes = tx.uow.changes()
    touched, claimable = scopes_of(changes)
    if not claim.covers(uow, tx.uow.reads, claimable):
        return claim.widened(tx.uow.reads, touched)
    return changes, touched


def _kept_moving(ctx: Environment) -> StoreError:
    """What a batch that kept reading beyond its claim, round after round, is refused with."""
    return StoreError(
        code="store.conflict",
        path=str(getattr(ctx.store, "label", "")),
        reason="the batch kept reading what other writers were changing; try it again",
    )


def _unmoved(reads: Mapping[str, int], counts: Mapping[str, int]) -> bool:
    """Whether every scope a plan read still has the count it had then."""
    return all(counts.get(scope, 0) == count for scope, count in reads.items())


@attrs.frozen
class _Claim:
    """The change scopes a write transaction takes its turn on: all of them, some only to read."""

    scopes: frozenset[str]
    shared: frozenset[str]

    @classmethod
    def of(cls, reads: Collection[str], writes: Collection[str]) -> _Claim:
        scopes = (frozenset(reads) | frozenset(writes)) - {EVERYTHING}
        return cls(scopes, scopes - frozenset(writes))

    def take(self, uow: UnitOfWork) -> dict[str, int]:
        return uow.claim_scopes(self.scopes, shared=self.shared)

    def covers(self, uow: UnitOfWork, reads: Collection[str], writes: Collection[str]) -> bool:
        """Whether what a batch read and wrote in `uow` was claimed.

        Always so where writers take turns on the whole store.
        """
        if uow.writers_take_turns:
            return True
        exclusive = self.scopes - self.shared
        return frozenset(reads) - {EVERYTHING} <= self.scopes and frozenset(writes) <= exclusive

    def widened(self, reads: Collection[str], writes: Collection[str]) -> _Claim:
        """This claim and what a batch read and wrote beyond it (never less than before)."""
        written = frozenset(writes)
        added = (frozenset(reads) | written) - {EVERYTHING} - self.scopes
        return _Claim(self.scopes | added, (self.shared | added) - written)


def _write_parts(
    ctx: Environment,
    plan: Plan,
    *,
    now: datetime,
    fresh: bool,
    keep: Callable[[Any], Any] | None,
    progress: Progress | None,
) -> _Written:
    """One write transaction: the kept parts as they are, or each part checked again and written.

    The transaction claims every scope the plan read and its kept parts
    write (`PLATFORM` only to read, unless written). When none moved, the
    kept parts are written as they were planned, one at a time from disk.
    Otherwise each part is checked against the transaction, so it sees the
    parts written before it; what `keep` leaves of its results, its messages
    and the count of its events are all that is kept of it. A part that
    reads or writes beyond the claim starts the transaction over with a
    wider one.
    """
    work = plan._work  # noqa: SLF001 - one module
    reads = frozenset(work.reads or ()) - {EVERYTHING}
    claim = _Claim(reads | work.written, (reads - work.written) & {PLATFORM})
    as_planned = fresh
    for _round in range(_ATTEMPTS):
        with ctx.store.unit_of_work() as uow:
            counts = claim.take(uow)
            spill = work.spill
            planned = as_planned and spill is not None and work.reads is not None
            if planned and spill is not None and _unmoved(work.reads or {}, counts):
                try:
                    kept = _kept_parts_written(work, uow, now=now, keep=keep)
                    uow.commit()
                except Conflict:
                    # Two parts (or another writer) wanted one row or value: the transaction
                    # is given up, and each part checked again in the next one.
                    as_planned = False
                    continue
                spill.close()
                if progress is not None:
                    progress(len(plan.commands), len(plan.commands))
                return attrs.evolve(kept, warnings=plan.warnings)
            written = _parts_written(ctx, plan, uow, claim, now=now, keep=keep, progress=progress)
            if isinstance(written, _Claim):
                claim = written
                continue
            uow.commit()
            if work.spill is not None:
                work.spill.close()
            return written
    raise _kept_moving(ctx)


@attrs.define
class _Gathered:
    """What the parts of a batch written one after the other leave behind.

    `keep` of each result, the events (or, with `keep`, only their count),
    the messages, the warnings and the guesses to forget.
    """

    keep: Callable[[Any], Any] | None
    results: list[Any] = attrs.Factory(list)
    events: list[AuditEvent] = attrs.Factory(list)
    counted: Counter[str] = attrs.Factory(Counter)
    messages: list[Message] = attrs.Factory(list)
    warnings: list[Issue] = attrs.Factory(list)
    forgotten: list[str] = attrs.Factory(list)

    def add(
        self,
        results: Sequence[Any],
        events: Sequence[AuditEvent],
        messages: Sequence[Message],
        forgotten: Sequence[str],
    ) -> None:
        self.results += results if self.keep is None else map(self.keep, results)
        if self.keep is None:
            self.events += events
        self.counted.update(event.action for event in events)
        self.messages += messages
        self.forgotten += forgotten

    def written(self, *, revalidated: bool) -> _Written:
        return _Written(
            tuple(self.results),
            tuple(self.events),
            tuple(self.messages),
            tuple(self.warnings),
            revalidated=revalidated,
            counted=None if self.keep is None else self.counted,
            forgotten=tuple(self.forgotten),
        )


def _kept_parts_written(
    work: Work, uow: UnitOfWork, *, now: datetime, keep: Callable[[Any], Any] | None
) -> _Written:
    """Write each kept part as it was planned, reading one part at a time from disk."""
    assert work.spill is not None  # noqa: S101 - the caller looked
    gathered = _Gathered(keep)
    for part in work.spill.parts():
        _write(uow, _with_hashes(work.effects, part.changes), None, part.scopes)
        messages = uow.enqueue(part.messages, now=now)
        gathered.add(part.results, part.events, messages, part.forgotten)
    return gathered.written(revalidated=False)


def _parts_written(
    ctx: Environment,
    plan: Plan,
    uow: UnitOfWork,
    claim: _Claim,
    *,
    now: datetime,
    keep: Callable[[Any], Any] | None,
    progress: Progress | None,
) -> _Written | _Claim:
    """Check and write each part in `uow`; or the wider claim a part turned out to need."""
    work = plan._work  # noqa: SLF001 - one module
    gathered = _Gathered(keep)
    total = len(plan.commands)
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
        checked = _within(claim, uow, batch, tx, single=False)
        if isinstance(checked, _Claim):
            return checked
        changes, touched = checked
        _write(uow, changes, None, touched)
        work.effects.forget_all_but_hashes()
        messages = uow.enqueue(tx.messages, now=now)
        gathered.add(batch.results, tx.events, messages, tx.forgotten)
        gathered.warnings += (issue for issue in batch.issues if not issue.blocking)
        if progress is not None:
            progress(part.stop, total)
    return gathered.written(revalidated=True)


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
    scopes: Collection[str] | None = None,
) -> None:
    """Write the batch's rows, in sets (`scopes`: theirs, when known)."""
    uow.write(changes, scopes=scopes)
    if progress is not None:
        total = sum(len(table.rows) for table in changes)
        progress(total, total)
