"""Passwords, multi-factor authentication and sign-in."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from conftest import FAST_HASHER, OPERATOR
from provisioning import (
    ActivateDomain,
    Actor,
    AddDomain,
    Authenticate,
    Context,
    CreateAccount,
    CreateUser,
    EnrollMfa,
    FinalizeMfa,
    PermissionDenied,
    ReinitializeMfa,
    ResetPassword,
    SetPassword,
    UpdateUser,
    ValidationFailed,
    VerifyDomain,
    plan,
    run,
)
from provisioning.adapters.memory import FixedClock, MemoryDns
from provisioning.model import MfaStatus, User, UserStatus
from provisioning.results import Authentication
from provisioning.security import Argon2Hasher, Totp

PASSWORD = "Blue-Lantern-Walks-42"


@pytest.fixture
def ann(ctx: Context, dns: MemoryDns) -> User:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    domain = run(
        ctx,
        OPERATOR,
        AddDomain(
            account_id="acme",
            name="acme.example",
            admin_email="it@holding.example",
            captcha_on_login=True,
        ),
    )
    dns.publish("acme.example", domain.verification_token)
    run(ctx, OPERATOR, VerifyDomain(domain_id=domain.id))
    run(ctx, OPERATOR, ActivateDomain(domain_id=domain.id))
    user: User = run(
        ctx,
        OPERATOR,
        CreateUser(
            account_id="acme",
            username="ann@acme.example",
            password=PASSWORD,
            password_repeat=PASSWORD,
            alternate_email="ann@home.example",
        ),
    )
    return user


def sign_in(ctx: Context, password: str = PASSWORD, code: str | None = None) -> Authentication:
    result: Authentication = run(
        ctx,
        Actor.anonymous(),
        Authenticate(username="ANN@acme.example", password=password, code=code),
    )
    return result


def failure(ctx: Context, **kwargs: str | None) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, Actor.anonymous(), Authenticate(**kwargs))  # type: ignore[arg-type]
    return caught.value.codes


def test_sign_in_with_the_right_password(ctx: Context, ann: User) -> None:
    result = sign_in(ctx)
    assert result == Authentication(
        user_id=ann.id, must_change_password=False, mfa_setup_required=False
    )


def test_wrong_unknown_and_disabled_all_fail_alike(ctx: Context, ann: User) -> None:
    assert failure(ctx, username="ann@acme.example", password="wrong-password-123") == [
        "auth.failed"
    ]
    assert failure(ctx, username="nobody@acme.example", password=PASSWORD) == ["auth.failed"]
    assert failure(ctx, username="not an address", password=PASSWORD) == ["auth.failed"]
    with ctx.store.unit_of_work() as uow:
        uow.users.update(attrs.evolve(uow.users.get(ann.id), status=UserStatus.DISABLED))
        uow.commit()
    assert failure(ctx, username="ann@acme.example", password=PASSWORD) == ["auth.failed"]


def test_a_hash_with_old_parameters_is_replaced_on_sign_in(ctx: Context, ann: User) -> None:
    stronger = Argon2Hasher(time_cost=2, memory_cost=16, parallelism=1)
    old_hash = ann.credentials.password_hash
    assert old_hash is not None
    assert stronger.needs_rehash(old_hash)
    sign_in(attrs.evolve(ctx, hasher=stronger))
    with ctx.store.unit_of_work() as uow:
        new_hash = uow.users.get(ann.id).credentials.password_hash
    assert new_hash is not None
    assert new_hash != old_hash
    assert not stronger.needs_rehash(new_hash)
    assert stronger.verify(new_hash, PASSWORD)
    sign_in(ctx)  # the old parameters still verify the new hash


def test_users_change_their_own_password_with_the_current_one(ctx: Context, ann: User) -> None:
    me = Actor.user(ann.id)
    new = "Green-Lantern-Runs-43"
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, me, SetPassword(user_id=ann.id, password=new, password_repeat=new))
    assert caught.value.codes == ["password.current_wrong"]
    run(
        ctx,
        me,
        SetPassword(user_id=ann.id, password=new, password_repeat=new, current_password=PASSWORD),
    )
    assert not sign_in(ctx, new).must_change_password


def test_a_password_set_by_an_administrator_must_be_changed(ctx: Context, ann: User) -> None:
    new = "Green-Lantern-Runs-43"
    run(ctx, OPERATOR, SetPassword(user_id=ann.id, password=new, password_repeat=new))
    assert sign_in(ctx, new).must_change_password
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, OPERATOR, SetPassword(user_id=ann.id, password="ann-short", password_repeat="x"))
    assert caught.value.codes == [
        "password.too_short",
        "password.contains_username",
        "password.common",
        "password.mismatch",
    ]


def test_reset_generates_a_password_once(ctx: Context, ann: User) -> None:
    reset = run(ctx, OPERATOR, ResetPassword(user_id=ann.id))
    assert reset.password not in repr(reset)
    assert len(reset.password) >= 20
    assert reset.user.credentials.must_change
    with ctx.store.unit_of_work() as uow:
        stored = uow.users.get(ann.id)
    assert reset.password not in repr(stored)
    assert stored.credentials.password_hash is not None
    assert FAST_HASHER.verify(stored.credentials.password_hash, reset.password)
    assert sign_in(ctx, reset.password).must_change_password
    assert failure(ctx, username="ann@acme.example", password=PASSWORD) == ["auth.failed"]


def test_reset_needs_users_manage(ctx: Context, ann: User) -> None:
    with pytest.raises(PermissionDenied):
        run(ctx, Actor.user(ann.id), ResetPassword(user_id=ann.id))


def enroll(ctx: Context, user: User) -> Totp:
    enrollment = run(ctx, Actor.user(user.id), EnrollMfa(user_id=user.id))
    assert enrollment.user.mfa.status is MfaStatus.PENDING
    assert enrollment.uri.startswith("otpauth://totp/")
    assert "issuer=Acme" in enrollment.uri
    assert enrollment.secret not in repr(enrollment)
    return Totp(enrollment.secret)


def test_mfa_is_pending_until_a_valid_code_finalises_it(ctx: Context, ann: User) -> None:
    totp = enroll(ctx, ann)
    now = ctx.clock.now()
    with pytest.raises(ValidationFailed) as caught:
        run(
            ctx,
            Actor.user(ann.id),
            FinalizeMfa(user_id=ann.id, code="000000" if totp.code(now) != "000000" else "111111"),
        )
    assert caught.value.codes == ["mfa.code_invalid"]
    done = run(ctx, Actor.user(ann.id), FinalizeMfa(user_id=ann.id, code=totp.code(now)))
    assert done.mfa.status is MfaStatus.ACTIVE
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, Actor.user(ann.id), FinalizeMfa(user_id=ann.id, code=totp.code(now)))
    assert caught.value.codes == ["mfa.not_pending"]
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, Actor.user(ann.id), EnrollMfa(user_id=ann.id))
    assert caught.value.codes == ["mfa.already_active"]


def test_sign_in_needs_a_fresh_code_once_mfa_is_active(
    ctx: Context, clock: FixedClock, ann: User
) -> None:
    totp = enroll(ctx, ann)
    run(ctx, Actor.user(ann.id), FinalizeMfa(user_id=ann.id, code=totp.code(clock.now())))
    assert failure(ctx, username="ann@acme.example", password=PASSWORD) == ["mfa.code_required"]
    # The finalising code has been used: it is not accepted again.
    assert failure(
        ctx, username="ann@acme.example", password=PASSWORD, code=totp.code(clock.now())
    ) == ["mfa.code_invalid"]
    clock.advance(seconds=30)
    code = totp.code(clock.now())
    sign_in(ctx, code=code)
    assert failure(ctx, username="ann@acme.example", password=PASSWORD, code=code) == [
        "mfa.code_invalid"
    ]
    # One step of clock drift either way is accepted; two are not.
    clock.advance(seconds=60)
    sign_in(ctx, code=totp.code(clock.now() - timedelta(seconds=30)))
    clock.advance(seconds=90)
    assert failure(
        ctx,
        username="ann@acme.example",
        password=PASSWORD,
        code=totp.code(clock.now() - timedelta(seconds=60)),
    ) == ["mfa.code_invalid"]
    assert failure(ctx, username="ann@acme.example", password=PASSWORD, code="12345x") == [
        "mfa.code_invalid"
    ]


def test_reinitialise_only_an_active_mfa(ctx: Context, clock: FixedClock, ann: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, OPERATOR, ReinitializeMfa(user_id=ann.id))
    assert caught.value.codes == ["mfa.not_active"]
    totp = enroll(ctx, ann)
    with pytest.raises(ValidationFailed) as caught:
        run(ctx, OPERATOR, ReinitializeMfa(user_id=ann.id))  # pending is not finalised
    assert caught.value.codes == ["mfa.not_active"]
    run(ctx, Actor.user(ann.id), FinalizeMfa(user_id=ann.id, code=totp.code(clock.now())))
    again = run(ctx, OPERATOR, ReinitializeMfa(user_id=ann.id))
    assert again.user.mfa.status is MfaStatus.PENDING
    assert again.secret != totp.secret
    assert again.user.mfa.required is True  # re-initialised, the second factor stays required
    assert sign_in(ctx).mfa_setup_required is True  # and the user must enrol again


def test_required_mfa_prompts_for_set_up(ctx: Context, ann: User) -> None:
    run(ctx, OPERATOR, UpdateUser(user_id=ann.id, version=ann.version, mfa_required=True))
    assert sign_in(ctx).mfa_setup_required


def test_credentials_are_never_planned_into_the_store(ctx: Context, ann: User) -> None:
    new = "Green-Lantern-Runs-43"
    result = plan(ctx, OPERATOR, [SetPassword(user_id=ann.id, password=new, password_repeat=new)])
    assert result.ok
    assert "Green-Lantern" not in repr(result)
    sign_in(ctx)  # planning changed nothing
