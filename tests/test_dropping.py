"""A plan that leaves out the commands that fail and keeps the rest (a SCIM Bulk's road).

The rest is checked again without them, so a command that relied on one
left out goes too; every issue is at its position among the commands given;
what is kept is applied once, as one batch.
"""

from __future__ import annotations

import pytest

from conftest import OPERATOR
from provisioning import (
    AddRoleMember,
    Authenticate,
    Context,
    CreateRole,
    CreateUser,
    apply,
    plan,
    queries,
)


def _new(name: str, **fields: object) -> CreateUser:
    return CreateUser(account_id="acme", username=f"{name}@acme.example", **fields)  # type: ignore[arg-type]


def test_failing_commands_are_left_out_and_the_rest_applied_once(acme: Context) -> None:
    commands = [
        _new("ann", user_id="u-ann"),
        _new("bob", locale="not a tag"),  # refused
        _new("ann"),  # ann@ twice: refused
        CreateRole(account_id="acme", name="Sales", role_id="r-sales"),
        AddRoleMember(role_id="r-sales", user_id="u-ann"),
        AddRoleMember(role_id="r-sales", user_id="u-nobody"),  # no such user: refused
        _new("cy", title="x" * 300),  # too long: refused before its handler
    ]
    planned = plan(acme, OPERATOR, commands, drop_failing=True)
    assert planned.ok
    assert planned.kept == (0, 3, 4)
    assert [(i.command, i.code) for i in planned.dropped] == [
        (1, "user.language_invalid"),
        (2, "address.taken"),
        (5, "user.not_found"),
        (6, "text.too_long"),
    ]
    assert all(issue.command in planned.kept for issue in planned.issues)  # warnings, placed
    outcome = apply(acme, planned)
    assert len(outcome.results) == 3
    assert [str(u.username) for u in queries.role_members(acme, OPERATOR, "r-sales")] == [
        "ann@acme.example"
    ]


def test_a_command_relying_on_one_left_out_goes_too(acme: Context) -> None:
    commands = [
        _new("ann", user_id="u-ann", locale="bad tag"),  # refused
        CreateRole(account_id="acme", name="Sales", role_id="r-sales"),
        AddRoleMember(role_id="r-sales", user_id="u-ann"),  # relies on the first
    ]
    planned = plan(acme, OPERATOR, commands, drop_failing=True)
    assert planned.kept == (1,)
    assert [i.command for i in planned.dropped] == [0, 2]


def test_all_failing_leaves_an_empty_plan_that_writes_nothing(acme: Context) -> None:
    planned = plan(
        acme, OPERATOR, [_new("x", locale="?"), _new("y", locale="?")], drop_failing=True
    )
    assert (planned.ok, planned.kept, planned.commands) == (True, (), ())
    assert len(apply(acme, planned).results) == 0


def test_without_dropping_one_failure_blocks_the_whole_plan(acme: Context) -> None:
    planned = plan(acme, OPERATOR, [_new("ann"), _new("bob", locale="?")])
    assert not planned.ok
    assert (planned.kept, planned.dropped) == (None, ())


def test_a_failed_guess_is_never_left_out(acme: Context) -> None:
    guess = Authenticate(username="nobody@acme.example", password="Wrong-Guess-1234")
    planned = plan(acme, OPERATOR, [_new("ann"), guess], drop_failing=True)
    assert not planned.ok  # the guess's refusal stands, and is recorded when refused
    assert 1 in {issue.command for issue in planned.errors}


@pytest.mark.parametrize("size", [1, 40])
def test_the_kept_commands_get_the_ids_they_were_planned_with(acme: Context, size: int) -> None:
    commands = [_new(f"u{n}", locale="?" if n % 3 == 0 else "") for n in range(size)]
    planned = plan(acme, OPERATOR, commands, drop_failing=True)
    outcome = apply(acme, planned)
    assert [u.id for u in outcome.results] == [u.id for u in planned._work.results]
    assert planned.kept == tuple(n for n in range(size) if n % 3)
