"""Commands typed at the edge: from mappings, from random values, and for a downstream mypy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import OPERATOR
from provisioning import (
    ActivateDomain,
    AddDomain,
    CreateAccount,
    CreateClassOfService,
    CreateMailbox,
    CreateRole,
    CreateUser,
    InviteUser,
    ProvisioningError,
    UpdateUser,
    ValidationFailed,
    VerifyDomain,
    command_from,
    plan,
    run,
)
from provisioning.adapters.memory import MemoryDns
from provisioning.bootstrap import Context
from provisioning.commands import Command
from provisioning.handlers import HANDLERS
from provisioning.model import MIN_LENGTH_FLOOR, PasswordPolicy, SignInPolicy
from provisioning.model._values import _plain_ascii, _validated_fully
from provisioning.security import Argon2Hasher

COMMANDS = sorted(HANDLERS, key=lambda kind: kind.__name__)

# A policy refuses impossible lengths when it is built (`password_policy.invalid`), so the
# well-typed commands below carry possible ones.
st.register_type_strategy(
    PasswordPolicy,
    st.builds(
        PasswordPolicy,
        min_length=st.integers(MIN_LENGTH_FLOOR, 64),
        max_length=st.integers(64, 1024),
        forbid_username=st.booleans(),
        forbid_common=st.booleans(),
    ),
)

st.register_type_strategy(
    SignInPolicy,
    st.builds(
        SignInPolicy,
        max_failures=st.integers(1, 100),
        wait_increment_s=st.integers(1, 600),
        max_wait_s=st.integers(600, 86_400),
        reset_after_s=st.integers(60, 2_592_000),
        captcha_after=st.integers(0, 100),
    ),
)

# Values of every shape a JSON document or a careless caller may hand over.
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec=None), max_size=8),
    st.sampled_from(["acme", "id-1", "system:owner", "ann@acme.example", "Europe/Zurich", ""]),
)
_values = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _fields(kind: type) -> list[attrs.Attribute[Any]]:
    return list(attrs.fields(kind))


KNOWN_IDS = ["acme", "domain-1", "user-1", "support", "helpers", "inv-1", "system:owner"]
ADDRESSES = [
    "ann@acme.example",
    "new@acme.example",
    "guest@else.example",
    "postmaster@acme.example",
]


@pytest.fixture(scope="module")
def ctx() -> Context:
    """A world for random commands to land in: ids and addresses they may name."""
    dns = MemoryDns()
    world = Context.in_memory(
        dns=dns, hasher=Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    run(world, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    domain = run(
        world,
        OPERATOR,
        AddDomain(
            account_id="acme",
            name="acme.example",
            admin_email="it@else.example",
            domain_id="domain-1",
        ),
    )
    dns.publish("acme.example", domain.verification_token)
    run(world, OPERATOR, VerifyDomain(domain_id="domain-1"))
    run(world, OPERATOR, ActivateDomain(domain_id="domain-1"))
    password = "a long and good password"
    run(
        world,
        OPERATOR,
        CreateUser(
            account_id="acme",
            username="ann@acme.example",
            user_id="user-1",
            password=password,
            password_repeat=password,
        ),
    )
    run(
        world,
        OPERATOR,
        CreateMailbox(account_id="acme", address="support@acme.example", mailbox_id="support"),
    )
    run(world, OPERATOR, CreateRole(account_id="acme", name="helpers", role_id="helpers"))
    run(
        world,
        OPERATOR,
        InviteUser(account_id="acme", email="guest@else.example", invitation_id="inv-1"),
    )
    return world


def _field_strategy(name: str, hint: Any) -> st.SearchStrategy[Any]:
    """Values of the field's type, leaning towards what the world above holds."""
    typed = st.from_type(hint)
    if name.endswith("_id") or name == "role_ids":
        known: st.SearchStrategy[Any] = st.sampled_from(KNOWN_IDS)
        if name == "role_ids":
            known = st.frozensets(known, max_size=2)
        return st.one_of(known, typed)
    if name in {"username", "email", "address", "alternate_email", "primary_email", "admin_email"}:
        return st.one_of(st.sampled_from(ADDRESSES), typed)
    return typed


def _well_typed(kind: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(kind)
    return st.builds(
        kind, **{f.name: _field_strategy(f.name, hints[f.name]) for f in _fields(kind)}
    )


@given(data=st.data())
def test_any_mapping_becomes_a_command_or_located_issues(ctx: Context, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(COMMANDS))
    names = [f.name for f in _fields(kind)]
    keys = data.draw(st.lists(st.sampled_from([*names, "bogus"]), unique=True))
    mapping = {key: data.draw(_values) for key in keys}
    command: Command[Any]
    try:
        command = command_from(kind, mapping)
    except ValidationFailed as failed:
        issues = failed.issues
    else:
        issues = ()
    if issues:
        assert all(i.code.startswith(("value.", "text.", "password_policy.")) for i in issues)
        return
    planned = plan(ctx, OPERATOR, [command])  # never raises: every problem is an issue
    assert all(i.command == 0 for i in planned.issues)


@given(data=st.data())
def test_any_attribute_values_give_issues_never_a_crash(ctx: Context, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(COMMANDS))
    values = {f.name: data.draw(_values) for f in _fields(kind) if f.default is attrs.NOTHING}
    values |= {
        f.name: data.draw(_values)
        for f in _fields(kind)
        if f.default is not attrs.NOTHING and data.draw(st.booleans())
    }
    command = kind(**values)
    planned = plan(ctx, OPERATOR, [command])
    assert all(i.command == 0 for i in planned.issues)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "std"}, []),
        ({}, [("value.missing", "name")]),
        ({"name": "std", "colour": "red"}, [("value.unknown_field", "colour")]),
        ({"name": "std", "features": "imap"}, [("value.type", "features")]),
        ({"name": "std", "features": ["imap", 7]}, [("value.type", "features")]),
        ({"name": 5}, [("value.type", "name")]),
        ({"name": "std", "quota_mb": True}, [("value.type", "quota_mb")]),
        ({"name": "std", "quota_mb": "5"}, [("value.type", "quota_mb")]),
        (
            {"name": "std", "password_policy": {"min_length": "x"}},
            [("value.type", "password_policy")],
        ),
        ({"name": "s\x00d"}, [("text.invalid", "name")]),
    ],
)
def test_command_from_locates_each_problem(
    data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    if not expected:
        assert command_from(CreateClassOfService, data).name == "std"
        return
    with pytest.raises(ValidationFailed) as caught:
        command_from(CreateClassOfService, data)
    assert [(i.code, i.field) for i in caught.value.issues] == expected


def test_command_from_builds_nested_values_and_keeps_unchanged_fields() -> None:
    invite = command_from(
        InviteUser,
        {
            "account_id": "acme",
            "email": "guest@else.example",
            "role_ids": ["system:member"],
            "mailboxes": [{"mailbox_id": "support", "role_ids": ["system:agent"]}],
        },
    )
    assert invite.role_ids == frozenset({"system:member"})
    assert invite.mailboxes[0].mailbox_id == "support"
    update = command_from(UpdateUser, {"user_id": "u-1", "version": 3, "mobile": None})
    assert update.mobile is None
    assert update.first_name is attrs.fields(UpdateUser).first_name.default
    with pytest.raises(ValidationFailed) as caught:
        command_from(InviteUser, {"account_id": "a", "email": "e", "mailboxes": [{"role_ids": 3}]})
    assert ("value.missing", "mailboxes[0].mailbox_id") in [
        (i.code, i.field) for i in caught.value.issues
    ] or any(i.field and i.field.startswith("mailboxes") for i in caught.value.issues)


def test_command_from_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(ValidationFailed) as caught:
        command_from(CreateUser, ["acme", "ann@acme.example"])  # type: ignore[arg-type]
    assert caught.value.codes == ["value.type"]
    with pytest.raises(ValidationFailed) as caught:  # a TypeError from deep inside, once
        command_from(CreateUser, {1: 2, "username": "ann@acme.example"})  # type: ignore[dict-item]
    assert caught.value.codes == ["value.type"]
    assert "field names are text" in str(caught.value)


_ascii = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789.-_+@'!#%~\"[] <>()", max_size=30
)


@given(
    local=_ascii,
    domain=st.sampled_from(
        [
            "acme.example",
            "ACME.Example",
            "a.b",
            "x..y",
            "b\u00fccher.example",
            "localhost",
            "xn--bcher-kva.example",
            "-a.example",
            "a" * 70 + ".example",
        ]
    ),
)
def test_the_short_road_for_plain_addresses_agrees_with_email_validator(
    local: str, domain: str
) -> None:
    text = f"{local}@{domain}" if "@" not in local else local
    fast = _plain_ascii(text)
    try:
        full = _validated_fully(text, field="email", code="email.invalid")
    except ProvisioningError:
        assert fast is None
        return
    assert fast is None or fast == full


DOWNSTREAM = """
from typing import assert_type

from provisioning import Actor, Context, CreateUser, ResetPassword, SetGrant, run, plan
from provisioning.model import Grant, User
from provisioning.results import PasswordReset

ctx = Context.in_memory()
actor = Actor.platform()
assert_type(run(ctx, actor, CreateUser(account_id="a", username="u@a.example")), User)
assert_type(run(ctx, actor, ResetPassword(user_id="u")), PasswordReset)
assert_type(run(ctx, actor, SetGrant(user_id="u", account_id="a")), Grant | None)
plan(ctx, actor, ["not a command"])  # E: refused
"""


def test_results_are_typed_by_their_command_for_a_downstream_mypy(tmp_path: Path) -> None:
    source = tmp_path / "downstream.py"
    source.write_text(textwrap.dedent(DOWNSTREAM))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, result.stdout
    assert ":13:" in errors[0]
    assert 'List item 0 has incompatible type "str"' in errors[0]


def test_every_command_declares_what_it_yields() -> None:
    for kind in COMMANDS:
        bases = [b for b in getattr(kind, "__orig_bases__", ()) if typing.get_origin(b)]
        assert bases, kind


@given(data=st.data())
def test_well_typed_random_commands_give_issues_never_a_crash(
    ctx: Context, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(COMMANDS))
    command = data.draw(_well_typed(kind))
    planned = plan(ctx, OPERATOR, [command])
    assert all(i.command == 0 for i in planned.issues)
