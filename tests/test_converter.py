"""Round-trips through the cattrs converter and both stores; secrets stay out of sight."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from provisioning.adapters.memory import MemoryStore
from provisioning.adapters.sql import SqliteStore
from provisioning.model import (
    Credentials,
    EmailAddress,
    MfaState,
    MfaStatus,
    PhoneNumber,
    Profile,
    User,
    Username,
    UserSource,
    UserStatus,
)
from provisioning.model._converter import storage, to_export
from provisioning.testing import builders as b

_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
_locals = st.from_regex(r"[a-z][a-z0-9._-]{0,10}[a-z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
_domains = st.sampled_from(
    ["acme.example", "bücher.example", "mail.globex.com", "xn--bcher-kva.ch"]
)
# Hypothesis takes naive bounds and attaches the timezone itself.
_times = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@st.composite
def users(draw: st.DrawFn) -> User:
    domain = draw(_domains)
    local = draw(_locals)
    alias_locals = draw(
        st.lists(_locals, max_size=3, unique=True).filter(lambda xs: local not in xs)
    )
    created = draw(_times)
    return User(
        id=draw(st.uuids()).hex,
        account_id="a-1",
        domain_id="d-1",
        username=Username.parse(f"{local}@{domain}"),
        created_at=created,
        updated_at=created
        + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=900))),
        cos_id=draw(st.none() | st.just("c-1")),
        source=draw(st.sampled_from(UserSource)),
        directory_service=draw(st.none() | _names),
        profile=Profile(
            first_name=draw(_names),
            last_name=draw(_names),
            display_name=draw(_names),
            display_name_manual=draw(st.booleans()),
            alternate_email=draw(st.none() | st.just(EmailAddress.parse("ann@private.example"))),
            mobile=draw(st.none() | st.just(PhoneNumber.parse("+41446681800"))),
            timezone=draw(st.none() | st.sampled_from(["Europe/Zurich", "Asia/Kolkata"])),
        ),
        aliases=tuple(EmailAddress.parse(f"{a}@{domain}") for a in alias_locals),
        status=draw(st.sampled_from(UserStatus)),
        corporate=draw(st.booleans()),
        credentials=Credentials(
            password_hash=draw(st.none() | st.just("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")),
            must_change=draw(st.booleans()),
            changed_at=draw(st.none() | _times),
        ),
        mfa=MfaState(
            required=draw(st.booleans()),
            status=draw(st.sampled_from(MfaStatus)),
            secret=draw(st.none() | st.just("JBSWY3DPEHPK3PXP")),
            last_step=draw(st.none() | st.integers(0, 2**40)),
        ),
        version=draw(st.integers(1, 1000)),
    )


@given(users())
def test_users_round_trip_through_the_storage_converter(user: User) -> None:
    data = json.loads(json.dumps(storage.unstructure(user)))
    assert attrs.asdict(storage.structure(data, User)) == attrs.asdict(user)


@given(users())
def test_users_round_trip_through_both_stores(user: User) -> None:
    for store in (MemoryStore(), SqliteStore(":memory:")):
        with store.unit_of_work() as uow:
            b.store_with_parents(uow, user)
            uow.commit()
        with store.unit_of_work() as uow:
            stored = uow.users.get(user.id)
            assert attrs.asdict(stored) == attrs.asdict(user)
            for address in user.addresses:
                assert uow.users.by_address(address) == user


def test_secrets_are_not_in_repr() -> None:
    user = b.user()
    text = repr(user)
    assert "secret-hash" not in text
    assert "JBSWY3DPEHPK3PXP" not in text
    assert "h-1" not in repr(b.invitation(token_hash="h-1"))


def test_secrets_are_not_exported_but_are_stored() -> None:
    user = b.user()
    exported = json.dumps(to_export(user))
    assert "secret-hash" not in exported
    assert "JBSWY3DPEHPK3PXP" not in exported
    assert "password_hash" not in exported
    assert "token_hash" not in json.dumps(to_export([b.invitation()]))
    stored = json.dumps(storage.unstructure(user))
    assert "secret-hash" in stored
    # The rest survives the export.
    assert to_export(user)["username"] == "ann@acme.example"
    assert to_export(user)["mfa"] == {"required": True, "status": "none", "last_step": None}


def test_sets_are_stored_as_sorted_lists() -> None:
    assert storage.unstructure(b.grant(permissions=frozenset({"b", "a", "c"})))["permissions"] == [
        "a",
        "b",
        "c",
    ]
