"""Secrets stay secret: every attrs class of the package, its reprs and its exports."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import provisioning
from provisioning import Outcome, to_export
from provisioning.model import SECRET, ApiClient, Credentials, Invitation, MfaState, User
from provisioning.ports import Message
from provisioning.results import PasswordReset
from provisioning.testing import builders

SENTINEL = "Sentinel-Secret-8f3a"

# Fields whose names sound secret and are not, with the reason.
NOT_SECRET = {
    "Domain.verification_token": "published in the domain's DNS on purpose",
    "Issue.code": "the stable code of an issue",
    "Key.code": "the code of a clash on a look-up key",
    "Context.tokens": "the token source, a port",
    "Tx.tokens": "the token source, a port",
    "FieldSpec.secret": "whether a command's field holds a secret, not the secret",
}
SECRET_NAME = re.compile(
    r"^(password|password_repeat|current_password|code|uri|token|secret|secrets|tokens)$|_hash$"
)


def _classes() -> Iterator[type]:
    for info in pkgutil.walk_packages(provisioning.__path__, "provisioning."):
        if info.name.startswith("provisioning.adapters.sql.migrations."):
            continue  # Alembic's scripts run only under Alembic
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == info.name:
                yield value


CLASSES = sorted(set(_classes()), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
WITH_SECRETS = [cls for cls in CLASSES if any(f.metadata.get(SECRET) for f in attrs.fields(cls))]


def _sounds_secret(cls: type, field: attrs.Attribute[Any]) -> bool:
    name = f"{cls.__name__}.{field.name}"
    return name not in NOT_SECRET and bool(SECRET_NAME.search(field.name.lstrip("_")))


def test_the_walk_finds_the_classes_that_hold_secrets() -> None:
    names = {cls.__name__ for cls in WITH_SECRETS}
    assert {
        "Credentials",
        "MfaState",
        "Invitation",
        "PasswordReset",
        "MfaEnrollment",
        "InvitationIssued",
        "ApiClient",
        "ApiClientIssued",
        "Message",
        "CreateUser",
        "Authenticate",
        "RegisterWithInvitation",
    } <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__qualname__)
def test_every_field_that_sounds_secret_is_marked_and_out_of_the_repr(cls: type) -> None:
    for field in attrs.fields(cls):
        if field.metadata.get(SECRET):
            assert field.repr is False, f"{cls.__name__}.{field.name} is shown by repr"
        elif _sounds_secret(cls, field):
            pytest.fail(f"{cls.__name__}.{field.name} sounds secret but is not marked SECRET")


SECRET_USER = attrs.evolve(
    builders.user("u-1", "ann@acme.example"),
    credentials=Credentials(password_hash=SENTINEL),
    mfa=MfaState(secret=SENTINEL),
)
st.register_type_strategy(User, st.just(SECRET_USER))
st.register_type_strategy(Invitation, st.just(builders.invitation("i-1", token_hash=SENTINEL)))
SECRET_CLIENT = ApiClient(
    id="c-1",
    account_id="acme",
    name="Okta",
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    created_by="platform:operator",
    secret_hash=SENTINEL,
)
st.register_type_strategy(ApiClient, st.just(SECRET_CLIENT))


def _instance(cls: type) -> st.SearchStrategy[Any]:
    attrs.resolve_types(cls)
    if cls in (Invitation, ApiClient):
        return st.from_type(cls)
    secret = {
        f.name.lstrip("_"): st.just(SENTINEL)
        for f in attrs.fields(cls)
        if f.metadata.get(SECRET) and f.init
    }
    mappings = {
        f.name: st.just({"token": SENTINEL})
        for f in attrs.fields(cls)
        if f.metadata.get(SECRET) and f.name == "secrets"
    }
    return st.builds(cls, **{**secret, **mappings})


@pytest.mark.parametrize("cls", WITH_SECRETS, ids=lambda cls: cls.__qualname__)
@settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_no_secret_shows_in_a_repr_or_an_export(cls: type, data: st.DataObject) -> None:
    value = data.draw(_instance(cls))
    assert SENTINEL not in repr(value)
    assert SENTINEL not in json.dumps(to_export(value), default=str)


def test_a_user_and_an_outcome_show_no_nested_secret() -> None:
    reset = PasswordReset(user=SECRET_USER, password=SENTINEL)
    message = Message(template="t", to="ann@acme.example", secrets={"token": SENTINEL})
    outcome = Outcome(results=(reset,), events=(), messages=(message,), warnings=())
    for value in (SECRET_USER, reset, outcome, [reset, message]):
        assert SENTINEL not in repr(value)
    for value in (SECRET_USER, reset, [reset, message]):
        assert SENTINEL not in json.dumps(to_export(value), default=str)
    assert reset.password == message.secrets["token"] == SENTINEL  # the caller still gets them
