"""What the road returns: a `Plan` (checked, nothing written) and an `Outcome` (written)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from html import escape
from typing import Any, Final

import attrs

from provisioning.commands import Command
from provisioning.engine._spill import Spill
from provisioning.errors import (
    Issue,
    ProvisioningError,
    ValidationFailed,
    issues_table,
    summarize_issues,
)
from provisioning.model import AuditEvent
from provisioning.ports import Message
from provisioning.principals import Actor
from provisioning.rules._tx import Effects
from provisioning.storage import TableChanges

__all__ = ["Outcome", "Plan", "Progress"]


Progress = Callable[[int, int], None]
"""A progress callback: `(done, total)`, called as a batch is validated and written."""


_SHOWN: Final = 5  # issues a repr shows before it says how many more there are


@attrs.frozen(eq=False)
class Work:
    """What a plan found and did in its overlay: everything `apply` needs to write it."""

    changes: tuple[TableChanges, ...]
    results: tuple[Any, ...]
    events: tuple[AuditEvent, ...]
    messages: tuple[Message, ...]
    raised: dict[int, ProvisioningError]
    effects: Effects
    # The change scopes the plan read, with their counts then (None: it read whole tables).
    reads: Mapping[str, int] | None
    planned_at: datetime
    recorded: tuple[int, ...] = ()  # refused commands whose refusal is counted and audited
    deadline: datetime | None = None  # a time limit the plan relied on runs out then
    # A plan made in parts (`plan_parts`) keeps no changes in memory: its parts' are in `spill`
    # (None: checked only), which writes the scopes in `written`. `counted` is how many there are.
    parts: tuple[range, ...] = ()
    counted: int = 0
    spill: Spill | None = None
    written: frozenset[str] = frozenset()
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
    _work: Work = attrs.field(alias="work")
    kept: tuple[int, ...] | None = None
    """For a plan made with `drop_failing`: the position, among the commands given, of each of
    `commands` (None: they are the commands given)."""
    dropped: tuple[Issue, ...] = ()
    """For a plan made with `drop_failing`: the blocking issues of the commands left out."""

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
