"""The road every change takes: `plan` (validate), then `apply` (prepare, then write).

`plan(ctx, actor, commands)` reads the store through one read transaction
and writes nothing, anywhere, with one exception: a guess at a secret (a
sign-in, a recovery code) is counted, and committed, before it is checked,
so that planning guesses is no way around the limit on them. Each
command's handler checks it (permission, tenant, rank, state) and
describes its change; the change is kept in an in-memory overlay of the
store, so later commands of the batch see earlier ones (two creates of one
name clash). Every problem becomes an `Issue`,
including a command the actor may not issue (`permission.denied`): one bad
row never hides the others.

`apply(ctx, plan)` first prepares what is expensive, outside any transaction:
the password hashes the plan left as placeholders, on every core. Then it
opens one short write transaction. If the store has not changed since the
plan read it (its change counter says so) and the plan is fresh, the plan's
changes are written as they are, in sets. Otherwise the batch is validated
again inside the transaction, reusing every id, token, DNS answer and hash
the plan made, and either all of it is written or `ValidationFailed` says
what no longer holds. An audit event per change is written with it;
notifications go to the `Notifier` after commit.

`run(ctx, actor, command)` does both for one command and returns its result,
typed by the command (`run(ctx, actor, CreateUser(...))` is a `User`).
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from html import escape
from typing import Any, Final, TypeVar

import attrs

from provisioning._checks import command_issues, field_root, unknown_command, without_forbidden
from provisioning._collector import collecting_less, fewer_collections
from provisioning._forked import Child, cores, start
from provisioning._overlay import Overlay
from provisioning.adapters._tables import Change, Repositories, TableChanges
from provisioning.commands import Command
from provisioning.exceptions import (
    Conflict,
    InternalError,
    InvalidValue,
    Issue,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    StoreError,
    UsageError,
    ValidationFailed,
    issues_table,
    summarize_issues,
)
from provisioning.model import AuditEvent, SignInState
from provisioning.ports import Environment, ForkReadable, Message, UnitOfWork
from provisioning.principals import Actor
from provisioning.services import Effects, Step, Tx

__all__ = [
    "NotificationFailed",
    "Outcome",
    "Plan",
    "Progress",
    "apply",
    "apply_lean",
    "collecting_less",
    "issues_table",
    "plan",
    "plan_parts",
    "run",
]

logger = logging.getLogger("provisioning")

_R = TypeVar("_R")
_T = TypeVar("_T")
Progress = Callable[[int, int], None]
"""A progress callback: `(done, total)`, called as a batch is validated and written."""

_SHOWN: Final = 5  # issues a repr shows before it says how many more there are


@attrs.frozen(eq=False)
class _Work:
    """What a plan found and did in its overlay: everything `apply` needs to write it."""

    changes: tuple[TableChanges, ...]
    results: tuple[Any, ...]
    events: tuple[AuditEvent, ...]
    messages: tuple[Message, ...]
    raised: dict[int, ProvisioningError]
    effects: Effects
    change_count: int
    planned_at: datetime
    recorded: tuple[int, ...] = ()  # refused commands whose refusal is counted and audited
    deadline: datetime | None = None  # a time limit the plan relied on runs out then
    # A plan made in parts (`plan_parts`) keeps no changes: `apply` checks and writes each part
    # again, one after the other, in its one transaction. `counted` is how many changes it made.
    parts: tuple[range, ...] = ()
    counted: int = 0
    forgotten: tuple[str, ...] = ()  # guess counters the plan forgets once written


@attrs.frozen(eq=False, repr=False)
class Plan:
    """The result of the validation phase: the commands and every issue found.

    A plan with no blocking issue (`ok`) can be applied; warnings never block.
    It holds the changes it would make, which `apply` writes.
    """

    actor: Actor
    commands: tuple[Command[Any], ...]
    issues: tuple[Issue, ...]
    _work: _Work = attrs.field(alias="work")

    @property
    def ok(self) -> bool:
        """True when no issue blocks the plan."""
        return not any(issue.blocking for issue in self.issues)

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The blocking issues."""
        return tuple(issue for issue in self.issues if issue.blocking)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The issues that are reported but do not block."""
        return tuple(issue for issue in self.issues if not issue.blocking)

    @property
    def planned_at(self) -> datetime:
        """When the plan was made (the time its changes carry)."""
        return self._work.planned_at

    @property
    def change_count(self) -> int:
        """How many rows the plan would insert, replace or delete (audit events included)."""
        return self._work.counted or sum(len(table.rows) for table in self._work.changes)

    def raise_for_issues(self) -> None:
        """Raise `ValidationFailed` with every issue if any of them blocks."""
        if not self.ok:
            raise ValidationFailed(issues=self.issues)

    def __repr__(self) -> str:
        state = "ok" if self.ok else "blocked"
        return (
            f"<Plan {state}: {len(self.commands)} command(s), {self.change_count} change(s),"
            f" {summarize_issues(self.issues, shown=_SHOWN)}>"
        )

    def _repr_html_(self) -> str:
        state = "ready to apply" if self.ok else "blocked"
        head = (
            f"<p><b>Plan</b>, {state}: {len(self.commands)} command(s),"
            f" {self.change_count} change(s), {len(self.errors)} error(s),"
            f" {len(self.warnings)} warning(s)</p>"
        )
        return head + issues_table(self.issues)


@attrs.frozen(repr=False)
class Outcome:
    """What an applied plan did: one result per command, the audit events, the messages.

    The outcome of a large bulk import is lean: its `results` are what the
    import kept of each (a user's id), and it keeps no `events` (they are in
    the audit log), only how many of each action were written (`actions`).
    """

    results: tuple[Any, ...]
    events: tuple[AuditEvent, ...]
    messages: tuple[Message, ...]
    warnings: tuple[Issue, ...]
    revalidated: bool = False
    _counted: Mapping[str, int] | None = attrs.field(default=None, alias="counted")

    @property
    def actions(self) -> Counter[str]:
        """How many audit events of each action the plan wrote (`CreateUser`: 3 ...)."""
        if self._counted is not None:
            return Counter(self._counted)
        return Counter(event.action for event in self.events)

    def lean(self, keep: Callable[[Any], Any]) -> Outcome:
        """This outcome keeping `keep(result)` of each result and no events, only their count."""
        return Outcome(
            results=tuple(map(keep, self.results)),
            events=(),
            messages=self.messages,
            warnings=self.warnings,
            revalidated=self.revalidated,
            counted=self.actions,
        )

    def __repr__(self) -> str:
        actions = self.actions
        top = ", ".join(f"{action} {count}" for action, count in actions.most_common(_SHOWN))
        return (
            f"<Outcome: {len(self.results)} result(s), {actions.total()} change(s)"
            f"{f' ({top})' if top else ''}, {len(self.messages)} message(s),"
            f" {len(self.warnings)} warning(s)>"
        )

    def _repr_html_(self) -> str:
        actions = self.actions
        rows = "".join(
            f"<tr><td>{escape(action)}</td><td>{count:,}</td></tr>"
            for action, count in actions.most_common()
        )
        return (
            f"<p><b>Outcome</b>: {len(self.results):,} result(s), {len(self.messages):,}"
            f" message(s), {len(self.warnings):,} warning(s)</p>"
            f"<table><thead><tr><th>change</th><th>count</th></tr></thead><tbody>{rows}</tbody>"
            f"</table>{issues_table(self.warnings)}"
        )


class NotificationFailed(ProvisioningError):
    """The change committed, but handing its messages to the notifier failed.

    `outcome` is the committed outcome (its `messages` were not all delivered);
    the cause is chained as `__cause__`.
    """

    def __init__(self, *, outcome: Outcome, reason: str) -> None:
        super().__init__(
            "notification.failed: the change was committed,"
            f" but its messages were not sent: {reason}",
            outcome=outcome,
            reason=reason,
        )
        self.code = "notification.failed"
        self.outcome = outcome
        self.reason = reason


@attrs.define
class _Batch:
    issues: list[Issue] = attrs.Factory(list)
    results: list[Any] = attrs.Factory(list)
    # The error behind a command's blocking issue, when a handler or the store raised one.
    raised: dict[int, ProvisioningError] = attrs.Factory(dict)
    # Refused commands that leave a trace (a failed sign-in), and whether to leave it now.
    recorded: list[int] = attrs.Factory(list)
    recording: bool = False

    @property
    def ok(self) -> bool:
        return not any(issue.blocking for issue in self.issues)

    def fail(self, index: int, error: ProvisioningError, issue: Issue) -> None:
        self.issues.append(issue.at(index))
        self.raised[index] = error
        self.results.append(None)


def _denied(denied: PermissionDenied) -> Issue:
    return Issue(code=denied.code, message=str(denied).partition(": ")[2], field=None)


def _validate(
    ctx: Environment,
    actor: Actor,
    commands: Sequence[Command[Any]],
    base: UnitOfWork,
    *,
    now: datetime,
    effects: Effects,
    defer_hashing: bool,
    progress: Progress | None,
    positions: Sequence[int] | None = None,
    recording: bool = False,
    checking_only: bool = False,
) -> tuple[_Batch, Tx]:
    """Check every command against `base` and the batch's own earlier commands.

    With `positions`, just the commands at those positions are checked (a
    part of the batch). With `recording`, they are refused commands checked
    again, and the trace each refusal leaves is recorded (nothing else runs).
    With `checking_only`, the caller keeps the issues alone: the audit
    events and messages are counted, not made (see `Tx`).
    """
    if not isinstance(base, Repositories):
        raise UsageError(
            code="store.unsupported",
            reason="a store's units of work derive from provisioning's Repositories",
        )
    overlay = Overlay(base)
    tx = Tx(
        uow=overlay,
        actor=actor.checked_at(now),  # a support session is open or closed by the clock
        ids=ctx.ids,
        now=now,
        tokens=ctx.tokens,
        dns=ctx.dns,
        hasher=ctx.hasher,
        effects=effects,
        defer_hashing=defer_hashing,
        checking_only=checking_only,
    )
    if positions is None:
        positions = range(len(commands))
    typed = {index: command_issues(commands[index]) for index in positions}
    # A command refused only for characters a text may not hold is still checked, without
    # them, so that all of its problems are found at once; it is never run.
    checkable = {
        index: without_forbidden(commands[index], typed[index]) if typed[index] else commands[index]
        for index in positions
    }
    _prefetch(ctx, overlay, [c for c in checkable.values() if c is not None])
    batch = _Batch(recording=recording)
    total = len(positions)
    for done, index in enumerate(positions):
        command = checkable[index]
        tx.at(index)
        if typed[index]:
            batch.issues.extend(issue.at(index) for issue in typed[index])
        if command is None or (typed[index] and recording):
            batch.results.append(None)
        elif typed[index]:
            refused = {field_root(issue.field) for issue in typed[index]}
            _check(ctx, tx, batch, index, command, refused=refused)
        else:
            _check(ctx, tx, batch, index, command)
        if progress is not None:
            progress(done + 1, total)
    return batch, tx


def _prefetch(ctx: Environment, overlay: Overlay, commands: Sequence[Command[Any]]) -> None:
    """Let each command type read what a batch of its commands needs, in one go."""
    by_type: dict[type, list[Any]] = {}
    for command in commands:
        if type(command) in ctx.prefetch:
            by_type.setdefault(type(command), []).append(command)
    for kind, group in by_type.items():
        ctx.prefetch[kind](overlay, group)


def _check(
    ctx: Environment,
    tx: Tx,
    batch: _Batch,
    index: int,
    command: object,
    *,
    refused: set[str | None] | None = None,
) -> None:
    """Check one command and, unless it has issues that block it, run it in a savepoint.

    `refused` names the fields of a command already refused for their
    characters: it is only checked, and its issues on those fields (already
    said) are left out.
    """
    handler = ctx.handlers.get(type(command))
    if handler is None:
        batch.issues.append(unknown_command(command).at(index))
        batch.results.append(None)
        return
    try:
        step: Step[Any] = handler(tx, command)
    except PermissionDenied as denied:
        batch.fail(index, denied, _denied(denied))
        return
    except NotFound as missing:
        batch.fail(index, missing, Issue(code=missing.code, message=str(missing)))
        return
    except InvalidValue as invalid:
        batch.fail(index, invalid, invalid.issue())
        return
    if refused is not None:
        batch.issues.extend(
            issue.at(index) for issue in step.issues if field_root(issue.field) not in refused
        )
        batch.results.append(None)
        return
    batch.issues.extend(issue.at(index) for issue in step.issues)
    if step.run is None or batch.recording:
        batch.results.append(None)
        if step.record is not None:
            batch.recorded.append(index)
            if batch.recording:
                with tx.uow.savepoint():
                    step.record()
        return
    events, messages, unrecorded = len(tx.events), len(tx.messages), tx.unrecorded
    try:
        with tx.uow.savepoint():
            batch.results.append(step.run())
    except (Conflict, NotFound) as clash:
        del tx.events[events:], tx.messages[messages:]
        tx.unrecorded = unrecorded
        batch.fail(index, clash, Issue(code=clash.code, message=str(clash)))


def _count_guesses(
    ctx: Environment, commands: Sequence[Command[Any]], effects: Effects, now: datetime
) -> None:
    """Count every guess at a secret the batch makes, before any of them is checked.

    Each command type with a guess rule (a sign-in, a recovery code) is
    counted against the name it guesses at, in one write transaction that
    commits before the batch is checked: a batch of guesses, a plan never
    applied, and guesses from many connections at once all count, and a
    guess past the limit is never checked. What each count allows is kept
    in `effects` for the handlers, so checking the batch again counts
    nothing twice.
    """
    rules = ctx.guesses
    # A command of the wrong types or texts never reaches its handler: it checks no secret.
    guessing = [
        (i, command)
        for i, command in enumerate(commands)
        if type(command) in rules and not command_issues(command)
    ]
    if not guessing:
        return
    with ctx.store.snapshot() as reads:
        guesses = {index: rules[type(command)](reads, command) for index, command in guessing}

    def count(states: Mapping[str, SignInState]) -> dict[str, SignInState]:
        changed: dict[str, SignInState] = {}
        for index, guess in guesses.items():
            current = changed.get(guess.key, states[guess.key])
            counted = guess.policy.count(guess, current, now)
            effects.counted[index] = counted
            changed[guess.key] = counted.state
        return changed

    ctx.store.count_guesses({guess.key for guess in guesses.values()}, count, now=now)


def _forget_guesses(ctx: Environment, keys: Sequence[str], now: datetime) -> None:
    """Forget the failures of the names a written batch guessed right (after its commit).

    The batch is written already: a store that fails here leaves the
    failures counted, which is logged, not raised.
    """
    if not keys:
        return
    try:
        ctx.store.count_guesses(
            set(keys), lambda states: dict.fromkeys(states, SignInState()), now=now
        )
    except ProvisioningError as failed:
        logger.warning("could not forget the failed guesses of a right one: %s", failed)


def plan(
    ctx: Environment,
    actor: Actor,
    commands: Iterable[Command[Any]],
    *,
    progress: Progress | None = None,
) -> Plan:
    """Validate `commands` as `actor` against the store and each other; write nothing.

    The store is read in one read transaction, which waits for no writer and
    holds none up. The one thing written is the count of each guess at a
    secret (a sign-in, a recovery code), committed before it is checked.
    Every problem is an issue in the returned plan, a command the actor may
    not issue included (`permission.denied`). `progress` is called with
    (done, total) as the commands are checked.
    """
    commands = tuple(commands)
    effects = Effects()
    now = ctx.clock.now()
    try:
        _count_guesses(ctx, commands, effects, now)
        with fewer_collections(len(commands)), ctx.store.snapshot() as snapshot:
            change_count = snapshot.change_count()
            batch, tx = _validate(
                ctx,
                actor,
                commands,
                snapshot,
                now=now,
                effects=effects,
                defer_hashing=True,
                progress=progress,
            )
    except ProvisioningError:
        raise
    except Exception as exc:
        raise InternalError(where="plan", cause=exc) from exc
    work = _Work(
        changes=tx.uow.changes() if batch.ok else (),
        results=tuple(batch.results),
        events=tuple(tx.events),
        messages=tuple(tx.messages),
        raised=batch.raised,
        effects=effects,
        change_count=change_count,
        planned_at=now,
        recorded=tuple(batch.recorded),
        deadline=tx.deadline,
        forgotten=tuple(tx.forgotten) if batch.ok else (),
    )
    if not batch.ok:
        _log_refusal(actor, batch.issues)
    return Plan(actor=actor, commands=commands, issues=tuple(batch.issues), work=work)


def plan_parts(
    ctx: Environment,
    actor: Actor,
    commands: Iterable[Command[Any]],
    parts: Sequence[range],
    *,
    progress: Progress | None = None,
    workers: int | None = 1,
) -> Plan:
    """Validate a large batch a part at a time against one snapshot; write nothing.

    Each part is checked as `plan` checks a batch: against the store and the
    part's own earlier commands, but not against the other parts, so the
    caller checks on its own what could cross them (two rows of a file
    claiming one address ...). A part's changes are counted and let go, so
    memory holds one part at a time. `apply` checks and writes the parts
    again, one after the other, in its one write transaction, each part
    seeing those before it: whatever crosses parts is enforced there.
    `parts` are consecutive ranges of positions, from the first command to
    the last. The bulk import uses it for large files, with `apply_lean`.

    The parts are checked in this process unless `workers` asks for more:
    a library call never forks its host by itself. With `workers=n` (None:
    every core) they are shared among that many processes where forking is
    safe (see `provisioning._forked`), each reading the store on its own;
    the issues are the same however many check them.
    """
    commands = tuple(commands)
    parts = tuple(parts)
    if [i for part in parts for i in part] != list(range(len(commands))):
        msg = "parts must be consecutive ranges covering every command, in order"
        raise ValueError(msg)
    effects = Effects()
    now = ctx.clock.now()
    try:
        _count_guesses(ctx, commands, effects, now)
        with fewer_collections(len(commands)), ctx.store.snapshot() as snapshot:
            change_count = snapshot.change_count()
            shares = _shares(parts, cores(ctx.store, workers, len(parts)))
            checked = _Checking(ctx, actor, commands, now, effects, progress)
            children = [
                start(functools.partial(checked.elsewhere, share), _reads(ctx.store))
                for share in shares[1:]
            ]
            try:
                found = [checked.here(shares[0], snapshot)]
                for share, child in zip(shares[1:], children, strict=True):
                    found.append(checked.collect(share, child, snapshot))
            finally:
                for child in children:
                    if child is not None:
                        child.stop()
    except ProvisioningError:
        raise
    except Exception as exc:
        raise InternalError(where="plan", cause=exc) from exc
    issues = [issue for share in found for issue in share.issues]
    work = _Work(
        changes=(),
        results=(),
        events=(),
        messages=(),
        raised={i: error for share in found for i, error in share.raised.items()},
        effects=effects,
        change_count=change_count,
        planned_at=now,
        recorded=tuple(i for share in found for i in share.recorded),
        parts=parts,
        counted=sum(share.counted for share in found),
    )
    if any(issue.blocking for issue in issues):
        _log_refusal(actor, issues)
    return Plan(actor=actor, commands=commands, issues=tuple(issues), work=work)


def _shares(parts: Sequence[range], count: int) -> list[list[range]]:
    """`parts` in `count` consecutive shares of nearly equal numbers of commands."""
    total = sum(len(part) for part in parts)
    shares: list[list[range]] = [[] for _ in range(count)]
    done = 0
    for part in parts:
        shares[min(count - 1, done * count // max(total, 1))].append(part)
        done += len(part)
    return [share for share in shares if share] or [[]]


def _reads(store: object) -> Callable[[], AbstractContextManager[None] | None]:
    return store.forked_reads if isinstance(store, ForkReadable) else lambda: None


@attrs.define
class _Checked:
    """What checking some parts of a batch found (a child's `raised` stays in the child)."""

    issues: list[Issue]
    recorded: list[int]
    counted: int
    raised: dict[int, ProvisioningError] = attrs.Factory(dict)
    hashes: list[tuple[tuple[Any, ...], str]] = attrs.Factory(list)


@attrs.frozen
class _Checking:
    """Checking parts of one batch, here or in a forked child, as `plan_parts` shares them."""

    ctx: Environment
    actor: Actor
    commands: tuple[Command[Any], ...]
    now: datetime
    effects: Effects
    progress: Progress | None

    def here(self, parts: Sequence[range], base: UnitOfWork) -> _Checked:
        """Check `parts` against `base`, one after the other, keeping their issues."""
        found = _Checked(issues=[], recorded=[], counted=0)
        for part in parts:
            batch, tx = _validate(
                self.ctx,
                self.actor,
                self.commands,
                base,
                now=self.now,
                effects=self.effects,
                defer_hashing=True,
                progress=_offset(self.progress, part.start, len(self.commands)),
                positions=part,
                checking_only=True,
            )
            found.issues.extend(batch.issues)
            found.raised.update(batch.raised)
            found.recorded.extend(batch.recorded)
            found.counted += sum(len(table.rows) for table in tx.uow.changes()) + tx.unrecorded
            self.effects.forget_all_but_hashes()
        return found

    def elsewhere(self, parts: Sequence[range]) -> _Checked:
        """In a child: `here` on a snapshot of its own, with the passwords its hashes need."""
        effects = Effects()
        with self.ctx.store.snapshot() as base:
            found = _Checking(self.ctx, self.actor, self.commands, self.now, effects, None).here(
                parts, base
            )
        return attrs.evolve(found, raised={}, hashes=effects.deferred())

    def collect(
        self, parts: Sequence[range], child: Child[_Checked] | None, base: UnitOfWork
    ) -> _Checked:
        """What the child found, its hashes deferred here; or the parts checked here instead."""
        found = None if child is None else child.result()
        if found is None:
            return self.here(parts, base)
        for key, password in found.hashes:
            self.effects.defer_hash(key, password)
        if self.progress is not None and parts:
            self.progress(parts[-1].stop, len(self.commands))
        return found


def _offset(progress: Progress | None, start: int, total: int) -> Progress | None:
    """`progress` for a part that begins at `start` of a batch of `total` commands."""
    if progress is None:
        return None
    return lambda done, _part_total: progress(start + done, total)


def _log_refusal(actor: Actor, issues: Sequence[Issue]) -> None:
    """One log record per refused batch: who, and the codes of what blocked it (no values)."""
    codes = Counter(issue.code for issue in issues if issue.blocking)
    denied = sum(n for code, n in codes.items() if code.startswith("permission."))
    logger.log(
        logging.WARNING if denied else logging.INFO,
        "refused a batch of %s: %s",
        actor,
        ", ".join(f"{code} x{n}" for code, n in codes.most_common()),
        extra={"actor": str(actor), "codes": dict(codes), "denied": denied},
    )


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
            _batch, tx = _validate(
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
    _forget_guesses(ctx, written.forgotten, now)
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
    if outcome.messages:
        try:
            ctx.notifier.send(outcome.messages)
        except Exception as exc:
            raise NotificationFailed(outcome=outcome, reason=type(exc).__name__) from exc
    return outcome


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
                uow.commit()
                return _Written(
                    work.results,
                    work.events,
                    work.messages,
                    plan.warnings,
                    revalidated=False,
                    forgotten=work.forgotten,
                )
        batch, tx = _validate(
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
        uow.commit()
        warnings = tuple(issue for issue in batch.issues if not issue.blocking)
        return _Written(
            tuple(batch.results),
            tuple(tx.events),
            tuple(tx.messages),
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
            batch, tx = _validate(
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
            messages += tx.messages
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
