"""The two-phase workflow every change takes: `plan`, then `apply`.

`plan(ctx, actor, commands)` is the validation phase. It runs each command's
handler against the store in a unit of work that is always rolled back, so
later commands see the effects of earlier ones (two creates of one name in a
batch clash) and nothing is written. It returns a `Plan` with every `Issue`.

`apply(ctx, plan)` is the execution phase. It validates the commands again
inside one unit of work (the store may have changed since planning), runs
them, records an audit event per change and commits only if no blocking issue
turned up: all or nothing. Notifications go to the `Notifier` after commit.

`run(ctx, actor, command)` does both for one command and returns its result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict, Unpack

import attrs

from provisioning.adapters.memory import MemoryStore, Outbox
from provisioning.adapters.sqlite import SqliteStore
from provisioning.adapters.system import SystemClock, SystemDns, SystemTokens, UuidIds
from provisioning.exceptions import (
    Conflict,
    InvalidValue,
    Issue,
    NotFound,
    ProvisioningError,
    ValidationFailed,
)
from provisioning.model import AuditEvent
from provisioning.ports import (
    Clock,
    DnsResolver,
    IdSource,
    Message,
    Notifier,
    PasswordHasher,
    Store,
    TokenSource,
)
from provisioning.principals import Actor
from provisioning.security import Argon2Hasher
from provisioning.services import HANDLERS, Handler, Tx

__all__ = ["Context", "NotificationFailed", "Outcome", "Plan", "Ports", "apply", "plan", "run"]

logger = logging.getLogger("provisioning")


class Ports(TypedDict, total=False):
    """The ports a `Context` can be given besides its store (each has a default)."""

    clock: Clock
    ids: IdSource
    notifier: Notifier
    tokens: TokenSource
    dns: DnsResolver
    hasher: PasswordHasher
    handlers: Mapping[type, Handler]


@attrs.frozen(kw_only=True)
class Context:
    """The store and ports a workflow runs with.

    The defaults suit a notebook: the system clock, random UUIDs, an
    in-memory `Outbox` that keeps every notification, tokens from the
    operating system's random source, DNS through dnspython and argon2id
    password hashing. `handlers` maps each
    command type to its handler; an embedding application may pass a copy of
    `provisioning.services.HANDLERS` extended with commands of its own, which
    then take the same plan/apply road.

    Examples:
        >>> ctx = Context.in_memory()
        >>> type(ctx.notifier).__name__
        'Outbox'
    """

    store: Store
    clock: Clock = attrs.field(factory=SystemClock)
    ids: IdSource = attrs.field(factory=UuidIds)
    notifier: Notifier = attrs.field(factory=Outbox)
    tokens: TokenSource = attrs.field(factory=SystemTokens)
    dns: DnsResolver = attrs.field(factory=SystemDns)
    hasher: PasswordHasher = attrs.field(factory=Argon2Hasher)
    handlers: Mapping[type, Handler] = HANDLERS

    @classmethod
    def in_memory(cls, **ports: Unpack[Ports]) -> Context:
        """A context over a new, empty `MemoryStore`; `ports` replace the defaults."""
        return cls(store=MemoryStore(), **ports)

    @classmethod
    def open(cls, path: str | Path, **ports: Unpack[Ports]) -> Context:
        """A context over the SQLite database at `path`, created if missing."""
        return cls(store=SqliteStore(path), **ports)


@attrs.frozen
class Plan:
    """The result of the validation phase: the commands and every issue found.

    A plan with no blocking issue (`ok`) can be applied; warnings never block.
    """

    actor: Actor
    commands: tuple[object, ...]
    issues: tuple[Issue, ...]

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

    def raise_for_issues(self) -> None:
        """Raise `ValidationFailed` with every issue if any of them blocks."""
        if not self.ok:
            raise ValidationFailed(issues=self.issues)


@attrs.frozen
class Outcome:
    """What an applied plan did: one result per command, the audit events, the messages."""

    results: tuple[Any, ...]
    events: tuple[AuditEvent, ...]
    messages: tuple[Message, ...]
    warnings: tuple[Issue, ...]


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

    @property
    def ok(self) -> bool:
        return not any(issue.blocking for issue in self.issues)


def _fail(batch: _Batch, index: int, error: Conflict | NotFound) -> None:
    batch.issues.append(Issue(code=error.code, message=str(error), command=index))
    batch.raised[index] = error
    batch.results.append(None)


def _process(handlers: Mapping[type, Handler], tx: Tx, commands: Sequence[object]) -> _Batch:
    """Validate and run each command in turn, each run inside its own savepoint."""
    batch = _Batch()
    for index, command in enumerate(commands):
        tx.command = index
        handler = handlers.get(type(command))
        if handler is None:
            batch.issues.append(
                Issue(
                    code="command.unknown",
                    message=f"{type(command).__name__} is not a command",
                    command=index,
                )
            )
            batch.results.append(None)
            continue
        try:
            step = handler(tx, command)
        except NotFound as missing:
            _fail(batch, index, missing)
            continue
        except InvalidValue as invalid:
            batch.issues.append(invalid.issue().at(index))
            batch.results.append(None)
            continue
        batch.issues.extend(issue.at(index) for issue in step.issues)
        if step.run is None:
            batch.results.append(None)
            continue
        try:
            with tx.uow.savepoint():
                batch.results.append(step.run())
        except Conflict as conflict:
            _fail(batch, index, conflict)
    return batch


def _execute(
    ctx: Context, actor: Actor, commands: Sequence[object], *, commit: bool
) -> tuple[_Batch, Tx]:
    with ctx.store.unit_of_work() as uow:
        tx = Tx(
            uow=uow,
            actor=actor,
            ids=ctx.ids,
            now=ctx.clock.now(),
            tokens=ctx.tokens,
            dns=ctx.dns,
            hasher=ctx.hasher,
        )
        batch = _process(ctx.handlers, tx, commands)
        if commit and batch.ok:
            uow.commit()
    return batch, tx


def plan(ctx: Context, actor: Actor, commands: Iterable[object]) -> Plan:
    """Validate `commands` as `actor` against the store and each other; write nothing.

    Raises `PermissionDenied` if the actor may not issue one of the commands;
    every other problem is an issue in the returned plan.
    """
    commands = tuple(commands)
    batch, _ = _execute(ctx, actor, commands, commit=False)
    return Plan(actor=actor, commands=commands, issues=tuple(batch.issues))


def apply(ctx: Context, plan: Plan) -> Outcome:
    """Execute a plan with no blocking issues: all of it in one unit of work, or nothing.

    The commands are validated again inside the unit of work; if the store
    changed since planning and a command no longer holds, `ValidationFailed`
    is raised and nothing is written.
    """
    plan.raise_for_issues()
    return _apply(ctx, plan.actor, plan.commands, single=False)


def run(ctx: Context, actor: Actor, command: object) -> Any:  # noqa: ANN401 - the result's type is the command's
    """Validate and apply one command, returning what it produced (the new entity ...).

    Raises `ValidationFailed` with every issue; but when the one problem is
    that the target is missing or the store refused the change (a stale
    version, a value taken meanwhile), it raises that `NotFound` or `Conflict`.
    """
    return _apply(ctx, actor, (command,), single=True).results[0]


def _apply(ctx: Context, actor: Actor, commands: Sequence[object], *, single: bool) -> Outcome:
    batch, tx = _execute(ctx, actor, commands, commit=True)
    if not batch.ok:
        blocking = [issue for issue in batch.issues if issue.blocking]
        raised = batch.raised.get(0)
        if single and raised is not None and len(blocking) == 1:
            raise raised
        raise ValidationFailed(issues=batch.issues)
    outcome = Outcome(
        results=tuple(batch.results),
        events=tuple(tx.events),
        messages=tuple(tx.messages),
        warnings=tuple(issue for issue in batch.issues if not issue.blocking),
    )
    logger.info(
        "applied %d command(s) as %s: %d change(s), %d message(s)",
        len(commands),
        actor,
        len(outcome.events),
        len(outcome.messages),
    )
    if outcome.messages:
        try:
            ctx.notifier.send(outcome.messages)
        except Exception as exc:
            raise NotificationFailed(outcome=outcome, reason=type(exc).__name__) from exc
    return outcome
