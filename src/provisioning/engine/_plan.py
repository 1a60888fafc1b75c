"""`plan`: check commands against a snapshot of the store, and write nothing.

`plan(ctx, actor, commands)` reads the store through one read transaction
and writes nothing, anywhere, with one exception: a guess at a secret (a
sign-in, a recovery code) is counted, and committed, before it is checked,
so that planning guesses is no way around the limit on them. Each
command's handler checks it (permission, tenant, rank, state) and
describes its change; the change is kept in an in-memory overlay of the
store, so later commands of the batch see earlier ones (two creates of one
name clash). Every problem becomes an `Issue`, including a command the
actor may not issue (`permission.denied`): one bad row never hides the
others. `plan_parts` checks a large batch in parts, optionally on several
processes.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Final

import attrs

from provisioning.commands import Command
from provisioning.engine._collector import fewer_collections
from provisioning.engine._input import (
    command_issues,
    field_root,
    unknown_command,
    without_forbidden,
)
from provisioning.engine._parallel import Child, cores, start
from provisioning.engine._results import Plan, Progress, Work
from provisioning.engine._spill import Spill, Spilled
from provisioning.errors import (
    Conflict,
    InternalError,
    InvalidValue,
    Issue,
    NotFound,
    PermissionDenied,
    ProvisioningError,
    Severity,
    UsageError,
    codes,
)
from provisioning.model import SignInState
from provisioning.ports import Environment, ForkReadable
from provisioning.principals import Actor
from provisioning.rules._tx import Effects, Step, Tx
from provisioning.storage import EVERYTHING, Overlay, UnitOfWork, scopes_of

__all__ = ["counted", "forget_guesses", "plan", "plan_parts", "validate"]

CODES: Final = codes(
    usage=("store.unsupported",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

logger = logging.getLogger("provisioning")


@attrs.define
class Batch:
    """What checking a batch found: each command's issues and result, and what it raised."""

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


def validate(
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
) -> tuple[Batch, Tx]:
    """Check every command against `base` and the batch's own earlier commands.

    With `positions`, just the commands at those positions are checked (a
    part of the batch). With `recording`, they are refused commands checked
    again, and the trace each refusal leaves is recorded (nothing else runs).
    With `checking_only`, the caller keeps the issues alone: the audit
    events and messages are counted, not made (see `Tx`).
    """
    if not isinstance(base, UnitOfWork):
        raise UsageError(
            code="store.unsupported",
            reason="a store's units of work derive from provisioning.storage.UnitOfWork",
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
        handlers=ctx.handlers,
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
    batch = Batch(recording=recording)
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
    batch: Batch,
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


def forget_guesses(ctx: Environment, keys: Sequence[str], now: datetime) -> None:
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
    drop_failing: bool = False,
) -> Plan:
    """Validate `commands` as `actor` against the store and each other; write nothing.

    The store is read in one read transaction, which waits for no writer and
    holds none up. The one thing written is the count of each guess at a
    secret (a sign-in, a recovery code), committed before it is checked.
    Every problem is an issue in the returned plan, a command the actor may
    not issue included (`permission.denied`). `progress` is called with
    (done, total) as the commands are checked.

    With `drop_failing`, the commands a blocking issue refuses are left out
    and the rest checked again without them, until what is left holds (a
    command that relied on one left out is left out too): the plan holds
    the rest (`Plan.kept` gives their positions in `commands`), and
    `Plan.dropped` the issues of those left out, at their positions. Its
    other issues are at their positions in `commands` too. A command that
    guesses at a secret is never left out: its failure blocks the plan, so
    that it is recorded as every failed guess is.
    """
    commands = tuple(commands)
    effects = Effects()
    now = ctx.clock.now()
    kept: tuple[int, ...] | None = None
    dropped: tuple[Issue, ...] = ()
    try:
        _count_guesses(ctx, commands, effects, now)
        with fewer_collections(len(commands)), ctx.store.snapshot() as snapshot:
            if drop_failing:
                kept, dropped = _left_standing(
                    ctx, actor, commands, snapshot, now=now, effects=effects
                )
                effects = effects.renumbered(kept)
                commands = tuple(commands[i] for i in kept)
            batch, tx = validate(
                ctx,
                actor,
                commands,
                snapshot,
                now=now,
                effects=effects,
                defer_hashing=True,
                progress=progress,
            )
            reads = counted(snapshot, tx.uow.reads)
    except ProvisioningError:
        raise
    except Exception as exc:
        raise InternalError(where="plan", cause=exc) from exc
    work = Work(
        changes=tx.uow.changes() if batch.ok else (),
        results=tuple(batch.results),
        events=tuple(tx.events),
        messages=tuple(tx.messages),
        raised=batch.raised,
        effects=effects,
        reads=reads,
        planned_at=now,
        recorded=tuple(batch.recorded),
        deadline=tx.deadline,
        forgotten=tuple(tx.forgotten) if batch.ok else (),
    )
    if not batch.ok:
        _log_refusal(actor, batch.issues)
    issues = tuple(batch.issues)
    if kept is not None:
        issues = tuple(i if i.command is None else i.at(kept[i.command]) for i in issues)
    return Plan(
        actor=actor, commands=commands, issues=issues, work=work, kept=kept, dropped=dropped
    )


def _left_standing(
    ctx: Environment,
    actor: Actor,
    commands: Sequence[Command[Any]],
    snapshot: UnitOfWork,
    *,
    now: datetime,
    effects: Effects,
) -> tuple[tuple[int, ...], tuple[Issue, ...]]:
    """The positions of the commands that hold once those refused are left out, and why those were.

    Each round checks what is left in the one snapshot and leaves out every
    command with a blocking issue of its own; it ends when a round leaves
    out none (a batch's own issue, or a refused guess, then blocks the plan).
    """
    guessing = {i for i, command in enumerate(commands) if type(command) in ctx.guesses}
    kept = list(range(len(commands)))
    dropped: list[Issue] = []
    while kept:
        batch, _ = validate(
            ctx,
            actor,
            commands,
            snapshot,
            now=now,
            effects=effects,
            defer_hashing=True,
            progress=None,
            positions=kept,
            checking_only=True,
        )
        failing = {
            issue.command
            for issue in batch.issues
            if issue.blocking and issue.command is not None and issue.command not in guessing
        }
        if not failing:
            break
        dropped += [i for i in batch.issues if i.blocking and i.command in failing]
        kept = [i for i in kept if i not in failing]
    return tuple(kept), tuple(sorted(dropped, key=lambda issue: issue.command or 0))


def plan_parts(
    ctx: Environment,
    actor: Actor,
    commands: Iterable[Command[Any]],
    parts: Sequence[range],
    *,
    progress: Progress | None = None,
    workers: int | None = 1,
    keep: bool = True,
    listed: int | None = None,
) -> Plan:
    """Validate a large batch a part at a time against one snapshot; write nothing.

    Each part is checked as `plan` checks a batch: against the store and the
    part's own earlier commands, but not against the other parts, so the
    caller checks on its own what could cross them (two rows of a file
    claiming one address ...). With `keep` (the default), each part's
    changes, results, audit events and messages are kept on disk, sealed
    (see `provisioning.engine._spill`), and memory holds one part at a
    time: `apply` writes them as they are when nothing the plan read has
    changed, so each command is checked once. Two parts that change one row,
    or claim one unique value, are refused by the row's version or the
    unique index there, and then, as when something changed, `apply` checks
    and writes the parts again, one after the other, each seeing those
    before it. Without `keep` (a dry run) a part's changes are only counted.
    With `listed`, a warning found on more than `listed` commands (same
    code, field and words) is listed that many times, then once more for
    the rest, with their positions in `Issue.others`: a file with the same
    warning on every row holds a thousand issues, not a hundred thousand.
    `parts` are consecutive ranges of positions, from the first command to
    the last. The bulk import uses it for large files, with `apply_lean`.

    The parts are checked in this process unless `workers` asks for more:
    a library call never forks its host by itself. With `workers=n` (None:
    every core) they are shared among that many processes where forking is
    safe (see `provisioning.engine._parallel`), each reading the store on its own;
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
        spill = Spill() if keep else None
        with fewer_collections(len(commands)), ctx.store.snapshot() as snapshot:
            shares = _shares(parts, cores(ctx.store, workers, len(parts)))
            checked = _Checking(ctx, actor, commands, now, effects, progress, spill, listed)
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
            reads = counted(snapshot, {scope for share in found for scope in share.reads})
    except ProvisioningError:
        raise
    except Exception as exc:
        raise InternalError(where="plan", cause=exc) from exc
    fold = _Fold(listed) if listed is not None else None
    issues = [
        issue for share in found for issue in share.issues if fold is None or fold.keep(issue)
    ]
    if fold is not None:
        issues += fold.issues()
    blocked = any(issue.blocking for issue in issues)
    if spill is not None and blocked:
        spill.close()  # never applied: nothing to keep
    work = Work(
        changes=(),
        results=(),
        events=(),
        messages=(),
        raised={i: error for share in found for i, error in share.raised.items()},
        effects=effects,
        reads=reads,
        planned_at=now,
        recorded=tuple(i for share in found for i in share.recorded),
        parts=parts,
        counted=sum(share.counted for share in found),
        spill=None if blocked else spill,
        written=frozenset(scope for share in found for scope in share.written),
    )
    if blocked:
        _log_refusal(actor, issues)
    return Plan(actor=actor, commands=commands, issues=tuple(issues), work=work)


def counted(uow: UnitOfWork, scopes: Collection[str]) -> dict[str, int] | None:
    """The counts of the change scopes a batch read, as `uow` sees them (None: all of it)."""
    if EVERYTHING in scopes:
        return None
    counts = uow.scope_counts(scopes)
    return {scope: counts.get(scope, 0) for scope in scopes}


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
    reads: set[str] = attrs.Factory(set)
    written: set[str] = attrs.Factory(set)  # the scopes its kept parts write (to claim)
    spilled: list[tuple[int, str]] = attrs.Factory(list)  # a child's kept parts: their files
    hashes: list[tuple[tuple[Any, ...], str, str]] = attrs.Factory(list)


@attrs.frozen
class _Checking:
    """Checking parts of one batch, here or in a forked child, as `plan_parts` shares them."""

    ctx: Environment
    actor: Actor
    commands: tuple[Command[Any], ...]
    now: datetime
    effects: Effects
    progress: Progress | None
    spill: Spill | None = None
    listed: int | None = None

    def here(self, parts: Sequence[range], base: UnitOfWork) -> _Checked:
        """Check `parts` against `base`, one after the other, keeping their issues.

        With a spill, each part's changes are kept in it (until a part has
        an issue that blocks: the plan will not be applied).
        """
        found = _Checked(issues=[], recorded=[], counted=0)
        fold = _Fold(self.listed) if self.listed is not None else None
        for part in parts:
            keeping = self.spill is not None and not any(i.blocking for i in found.issues)
            batch, tx = validate(
                self.ctx,
                self.actor,
                self.commands,
                base,
                now=self.now,
                effects=self.effects,
                defer_hashing=True,
                progress=_offset(self.progress, part.start, len(self.commands)),
                positions=part,
                checking_only=not keeping,
            )
            found.issues.extend(i for i in batch.issues if fold is None or fold.keep(i))
            found.raised.update(batch.raised)
            found.recorded.extend(batch.recorded)
            changes = tx.uow.changes()
            found.counted += sum(len(table.rows) for table in changes) + tx.unrecorded
            found.reads |= tx.uow.reads
            if keeping and batch.ok and self.spill is not None:
                moved, claimable = scopes_of(changes)
                found.written |= claimable
                self.spill.add(
                    Spilled(
                        part.start,
                        changes,
                        frozenset(moved),
                        tuple(batch.results),
                        tuple(tx.events),
                        tuple(tx.messages),
                        tuple(tx.forgotten),
                    )
                )
            self.effects.forget_all_but_hashes()
        if fold is not None:
            found.issues += fold.issues()
        return found

    def elsewhere(self, parts: Sequence[range]) -> _Checked:
        """In a child: `here` on a snapshot of its own, with the passwords its hashes need."""
        effects = Effects()
        checking = _Checking(
            self.ctx, self.actor, self.commands, self.now, effects, None, self.spill, self.listed
        )
        with self.ctx.store.snapshot() as base:
            found = checking.here(parts, base)
        spilled = [] if self.spill is None else self.spill.files()
        return attrs.evolve(found, raised={}, hashes=effects.deferred(), spilled=spilled)

    def collect(
        self, parts: Sequence[range], child: Child[_Checked] | None, base: UnitOfWork
    ) -> _Checked:
        """What the child found, its hashes deferred here; or the parts checked here instead."""
        found = None if child is None else child.result()
        if found is None:
            return self.here(parts, base)
        for key, marker, password in found.hashes:
            self.effects.adopt(key, marker, password)
        if self.spill is not None:
            self.spill.adopt(found.spilled)
        if self.progress is not None and parts:
            self.progress(parts[-1].stop, len(self.commands))
        return found


_Kind = tuple[str, Severity, str | None, str]


@attrs.define
class _Fold:
    """Warnings past the `listed` first of their kind, kept as positions rather than issues."""

    listed: int
    seen: Counter[_Kind] = attrs.Factory(Counter)
    more: dict[_Kind, list[range]] = attrs.Factory(dict)

    def keep(self, issue: Issue) -> bool:
        """Whether to list `issue`; if not, its commands are counted with its kind's rest."""
        if issue.blocking:
            return True
        kind = (issue.code, issue.severity, issue.field, issue.message)
        if not issue.others and self.seen[kind] < self.listed:
            self.seen[kind] += 1
            return True
        positions = issue.others
        if not positions and issue.command is not None:
            positions = (range(issue.command, issue.command + 1),)
        ranges = self.more.setdefault(kind, [])
        for added in positions:
            if ranges and ranges[-1].stop == added.start:
                ranges[-1] = range(ranges[-1].start, added.stop)
            else:
                ranges.append(added)
        return False

    def issues(self) -> list[Issue]:
        """One issue for each kind with commands past the first `listed`, naming them all."""
        return [
            Issue(code, message, field=field, severity=severity, others=_merged(ranges))
            for (code, severity, field, message), ranges in self.more.items()
            if ranges
        ]


def _merged(ranges: list[range]) -> tuple[range, ...]:
    """`ranges` in order, the ones that touch made one."""
    merged: list[range] = []
    for each in sorted(ranges, key=lambda r: r.start):
        if merged and merged[-1].stop >= each.start:
            merged[-1] = range(merged[-1].start, max(merged[-1].stop, each.stop))
        else:
            merged.append(each)
    return tuple(merged)


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
