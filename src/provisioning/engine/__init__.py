"""The road every change takes: `plan` (check, write nothing), then `apply` (write).

- `plan` and `plan_parts` (`_plan`): a snapshot read, each command checked by
  its handler in an overlay, every problem an `Issue`; guesses at secrets are
  counted before they are checked.
- `apply`, `apply_lean` and `run` (`_apply`): prepare once, then one short
  write transaction, all or nothing.
- `deliver` and `retry_messages` (`_deliver`): the outbox's messages to a
  notifier, at least once, in each recipient's order.
- `command_from` (`_input`): the one path from a mapping to a typed command;
  `command_fields` describes the fields a mapping gives each kind.
- `Plan`, `Outcome` (`_results`): what the road returns, with their HTML.
- `collecting_less` (`_collector`): the garbage-collector tuning a caller may
  ask for around a large batch; the road never does it unasked.
- `_parallel`: the opt-in forked children that check parts of a large batch.
"""

from __future__ import annotations

from provisioning.engine._apply import apply, apply_lean, run
from provisioning.engine._collector import collecting_less
from provisioning.engine._deliver import Delivery, deliver, retry_messages
from provisioning.engine._input import FieldSpec, command_fields, command_from, json_schema
from provisioning.engine._plan import plan, plan_parts
from provisioning.engine._results import Outcome, Plan, Progress

__all__ = [
    "Delivery",
    "FieldSpec",
    "Outcome",
    "Plan",
    "Progress",
    "apply",
    "apply_lean",
    "collecting_less",
    "command_fields",
    "command_from",
    "deliver",
    "json_schema",
    "plan",
    "plan_parts",
    "retry_messages",
    "run",
]
