"""What every handler works with: the batch transaction `Tx` and the `Step` it returns.

A handler is one function per command: `handler(tx, command) -> Step`. It
checks permission (raising `PermissionDenied`), reads what it needs, and
returns either the issues that stop the command or a `Step` whose `run`
closure performs the change. Reading happens before `run`; only `run` writes.
The workflow calls `run` inside a savepoint, so a failing step leaves nothing
behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final, Generic, TypeVar

import attrs

from provisioning.exceptions import InvalidValue, Issue, Severity
from provisioning.model import AuditEvent
from provisioning.ports import (
    DnsResolver,
    IdSource,
    Message,
    PasswordHasher,
    TokenSource,
    UnitOfWork,
)
from provisioning.principals import Actor

__all__ = ["Step", "Tx", "error", "parse_into", "requested_id_issues", "warning"]

_R = TypeVar("_R")
_V = TypeVar("_V")
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")


def error(code: str, message: str, *, field: str | None = None) -> Issue:
    """A blocking issue."""
    return Issue(code=code, message=message, field=field)


def requested_id_issues(
    requested: str | None, find: Callable[[str], object | None], *, field: str
) -> list[Issue]:
    """Issues with the id a create command asks for (None: the `IdSource` picks one).

    `find` is the repository look-up that says whether the id is in use.
    """
    if requested is None:
        return []
    if not _ID.fullmatch(requested):
        return [
            error(
                "id.invalid",
                f"{requested!r} is not a usable id: 1 to 64 letters, digits and _.:-",
                field=field,
            )
        ]
    if find(requested) is not None:
        return [error("id.taken", f"id {requested!r} is already in use", field=field)]
    return []


def parse_into(
    parse: Callable[..., _V], text: str | None, field: str, issues: list[Issue]
) -> _V | None:
    """`parse(text, field=field)`, or None with its issue added to `issues` (None stays None)."""
    if text is None:
        return None
    try:
        return parse(text, field=field)
    except InvalidValue as invalid:
        issues.append(invalid.issue())
        return None


def warning(code: str, message: str, *, field: str | None = None) -> Issue:
    """A non-blocking issue."""
    return Issue(code=code, message=message, field=field, severity=Severity.WARNING)


@attrs.frozen
class Step(Generic[_R]):
    """A validated command: its issues, and (when none blocks) the change to make."""

    issues: tuple[Issue, ...] = ()
    run: Callable[[], _R] | None = None

    @classmethod
    def refuse(cls, issues: Iterable[Issue]) -> Step[Any]:
        """A step that changes nothing because of `issues`."""
        return Step(issues=tuple(issues))

    @classmethod
    def proceed(cls, run: Callable[[], _R], issues: Iterable[Issue] = ()) -> Step[_R]:
        """A step that will `run`, and reports `issues` (warnings) alongside."""
        issues = tuple(issues)
        if any(issue.blocking for issue in issues):
            return Step(issues=issues)
        return Step(issues=issues, run=run)


@attrs.define
class Tx:
    """One batch's view of the world while it is planned or applied.

    `now` is read from the clock once per batch, so every change of a batch
    carries the same time. `created` remembers which command of the batch
    created an entity, so a clash with it can say so.
    """

    uow: UnitOfWork
    actor: Actor
    ids: IdSource
    now: datetime
    tokens: TokenSource
    dns: DnsResolver
    hasher: PasswordHasher
    command: int = 0
    created: dict[str, int] = attrs.Factory(dict)
    events: list[AuditEvent] = attrs.Factory(list)
    messages: list[Message] = attrs.Factory(list)

    def new_id(self, requested: str | None = None) -> str:
        """The id a create command asked for, or a fresh one; remembered as the command's."""
        entity_id = requested if requested is not None else self.ids.new_id()
        self.created[entity_id] = self.command
        return entity_id

    def record(
        self, action: str, entity: str, entity_id: str, *, account_id: str | None, detail: str = ""
    ) -> None:
        """Write one audit event for a change made by the current command."""
        event = AuditEvent(
            id=self.ids.new_id(),
            occurred_at=self.now,
            actor=str(self.actor),
            action=action,
            entity=entity,
            entity_id=entity_id,
            account_id=account_id,
            detail=detail,
        )
        self.uow.audit.append(event)
        self.events.append(event)

    def notify(self, message: Message) -> None:
        """Queue a message for delivery after commit."""
        self.messages.append(message)

    def taken_message(self, what: str, value: str, holder_id: str) -> str:
        """Words for a clash of `value`, naming the batch command that took it if one did."""
        earlier = self.created.get(holder_id)
        if earlier is not None and earlier != self.command:
            return f"{what} {value!r} is already taken by command {earlier} of this batch"
        return f"{what} {value!r} is already taken"
