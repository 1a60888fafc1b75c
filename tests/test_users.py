"""Users: creation rules, profile, aliases, renaming, deletion, directory users, queries."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    AddDomain,
    Conflict,
    Context,
    CreateAccount,
    CreateAdmin,
    CreateClassOfService,
    CreateUser,
    DeleteUser,
    DirectoryEntry,
    NotFound,
    PermissionDenied,
    RenameUser,
    SetGrant,
    SetPassword,
    SyncDirectory,
    UpdateAccount,
    UpdateClassOfService,
    UpdateUser,
    UsageError,
    ValidationFailed,
    plan,
    queries,
    run,
    to_export,
)
from provisioning.adapters.memory import MemoryDns, Outbox
from provisioning.commands import Command
from provisioning.model import Grant, PasswordPolicy, User, UserSource, UserStatus

PASSWORD = "Blue-Lantern-Walks-42"


@attrs.frozen
class World:
    ctx: Context
    admin: Actor  # system:administrator: users.*, no admins.manage
    boss: Actor  # the super admin
    domains: dict[str, str]


@pytest.fixture
def world(ctx: Context, dns: MemoryDns) -> World:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    domains = {
        "acme.example": active_domain(
            ctx,
            dns,
            "acme",
            "acme.example",
            captcha_on_login=True,
            admin_email="it@holding.example",
        ).id,
        "acme.ch": active_domain(
            ctx, dns, "acme", "acme.ch", captcha_on_login=True, require_2fa=True
        ).id,
        "globex.example": active_domain(
            ctx,
            dns,
            "globex",
            "globex.example",
            captcha_on_login=True,
            admin_email="it@globex-holding.example",
        ).id,
    }
    run(ctx, OPERATOR, AddDomain(account_id="acme", name="pending.example", captcha_on_login=True))
    run(ctx, OPERATOR, CreateClassOfService(name="catchall_cos", system=True, cos_id="sys"))
    run(
        ctx,
        OPERATOR,
        CreateClassOfService(name="panel", account_id="acme", admin_panel=True, cos_id="panel"),
    )
    run(ctx, OPERATOR, CreateClassOfService(name="standard", account_id="acme", cos_id="std"))
    with ctx.store.unit_of_work() as uow:
        strict = uow.classes_of_service.get("std")
        uow.classes_of_service.update(
            attrs.evolve(strict, password_policy=PasswordPolicy(min_length=24))
        )
        boss = uow.users.by_address("postmaster@acme.example")
        assert boss is not None
        uow.commit()
    admin = run(
        ctx,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="helpdesk@acme.example",
            primary_email="helpdesk@holding.example",
            role_ids={"system:administrator"},
        ),
    )
    return World(ctx, Actor.user(admin.id), Actor.user(boss.id), domains)


def create(_: World, username: str = "ann.lee@acme.example", **options: Any) -> CreateUser:
    fields: dict[str, Any] = {
        "account_id": "acme",
        "username": username,
        "password": PASSWORD,
        "password_repeat": PASSWORD,
        "first_name": "Ann",
        "last_name": "Lee",
        "alternate_email": "ann@home.example",
    }
    fields.update(options)
    return CreateUser(**fields)


def codes(world: World, command: Command[Any], actor: Actor = OPERATOR) -> list[str]:
    return [i.code for i in plan(world.ctx, actor, [command]).issues]


def test_a_user_is_created_with_a_hashed_password(world: World, outbox: Outbox) -> None:
    outbox.clear()
    user = run(world.ctx, world.admin, create(world))
    assert (str(user.username), user.account_id, user.domain_id, user.corporate) == (
        "ann.lee@acme.example",
        "acme",
        world.domains["acme.example"],
        True,
    )
    assert user.profile.display_name == "Ann Lee"
    assert not user.profile.display_name_manual
    assert user.credentials.password_hash is not None
    assert user.credentials.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.credentials.password_hash
    assert not user.mfa.required
    assert user.source is UserSource.MANUAL
    assert "argon2" not in repr(user)
    assert "argon2" not in json.dumps(to_export(user))
    assert [(m.template, m.to) for m in outbox.messages] == [
        ("user.created", "ann.lee@acme.example")
    ]


def test_a_suspended_user_gets_its_set_password_link_when_it_is_enabled(
    world: World, outbox: Outbox
) -> None:
    outbox.clear()
    command = attrs.evolve(create(world), password=None, password_repeat=None, enabled=False)
    user = run(world.ctx, world.admin, command)
    assert user.status is UserStatus.DISABLED
    assert user.credentials.setup_token_hash is None
    assert outbox.messages == []  # suspended where it came from: nothing is sent
    enabled = run(world.ctx, world.admin, UpdateUser(user_id=user.id, version=1, enabled=True))
    assert enabled.status is UserStatus.ACTIVE
    assert enabled.credentials.setup_token_hash is not None
    ((message,),) = (outbox.messages,)
    assert (message.template, message.to) == ("user.enabled", "ann@home.example")  # its own
    assert message.secrets["token"]
    run(world.ctx, world.admin, UpdateUser(user_id=user.id, version=2, enabled=False))
    run(world.ctx, world.admin, UpdateUser(user_id=user.id, version=3, enabled=True))
    assert len(outbox.messages) == 1  # a link is sent once; one that is pending is not renewed


def test_a_user_created_with_must_change_password_changes_it_at_its_first_sign_in(
    world: World,
) -> None:
    from provisioning import Authenticate  # noqa: PLC0415

    run(world.ctx, world.admin, attrs.evolve(create(world), must_change_password=True))
    signed_in = run(
        world.ctx,
        Actor.anonymous(),
        Authenticate(username="ann.lee@acme.example", password=PASSWORD),
    )
    assert signed_in.must_change_password
    user = queries.get_user(world.ctx, OPERATOR, signed_in.user_id)
    assert user.last_sign_in_at == world.ctx.clock.now()


def test_password_and_its_repetition_must_match_and_follow_the_policy(world: World) -> None:
    assert codes(world, create(world, password_repeat=PASSWORD + "!")) == ["password.mismatch"]
    weak = "Ann.Lee-2024"  # 12 characters, but holds the username: and so, soon guessed
    assert codes(world, create(world, password=weak, password_repeat=weak)) == [
        "password.contains_username",
        "password.common",
    ]
    worst = "ann1"
    assert codes(
        world, create(world, username="ann@acme.example", password=worst, password_repeat=worst)
    ) == [
        "password.too_short",
        "password.contains_username",  # too short for any policy: not judged for guessability
    ]
    common = "Password2024!"
    assert codes(world, create(world, password=common, password_repeat=common)) == [
        "password.common"
    ]
    long = "-".join(f"lamp{i}tree" for i in range(14))
    assert codes(world, create(world, password=long, password_repeat=long)) == ["password.too_long"]


def test_a_class_of_service_may_bring_its_own_password_policy(world: World) -> None:
    assert codes(world, create(world, cos_id="std")) == ["password.too_short"]
    strong = "Blue-Lantern-Walks-Far-Away-42"
    assert codes(world, create(world, cos_id="std", password=strong, password_repeat=strong)) == []


def test_system_and_admin_panel_classes_of_service(world: World) -> None:
    assert codes(world, create(world, cos_id="sys")) == ["cos.system_reserved"]
    assert codes(world, create(world, cos_id="nope")) == ["cos.not_found"]
    assert codes(world, create(world, cos_id="panel"), world.admin) == ["cos.admin_panel_forbidden"]
    assert codes(world, create(world, cos_id="panel"), world.boss) == []


def test_the_domain_default_class_of_service_applies(world: World) -> None:
    with world.ctx.store.unit_of_work() as uow:
        domain = uow.domains.get(world.domains["acme.example"])
        uow.domains.update(attrs.evolve(domain, default_cos_id="panel"))
        uow.commit()
    user = run(world.ctx, OPERATOR, create(world))
    assert user.cos_id == "panel"


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("ann@pending.example", ["domain.not_active"]),
        ("ann@globex.example", ["domain.not_in_account"]),
        ("ann@nowhere.example", ["domain.not_in_account"]),
        ("helpdesk@ACME.example", ["address.taken"]),
        ("ann", ["username.invalid"]),
    ],
)
def test_where_a_user_may_be_created(world: World, username: str, expected: list[str]) -> None:
    assert codes(world, create(world, username=username)) == expected


def test_a_domain_requiring_2fa_makes_mfa_required(world: World) -> None:
    assert run(world.ctx, OPERATOR, create(world, username="ann@acme.ch")).mfa.required
    assert run(
        world.ctx, OPERATOR, create(world, username="bob@acme.example", mfa_required=True)
    ).mfa.required


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"alternate_email": "ann@"}, ["email.invalid", "user.no_recovery"]),
        ({"mobile": "0791234567"}, ["phone.invalid"]),
        ({"timezone": "Mars/Olympus_Mons"}, ["timezone.invalid"]),
        ({"timezone": "../../etc/passwd"}, ["timezone.invalid"]),
        # A system's own zone files are no time zone a user is in, and differ between machines.
        ({"timezone": "localtime"}, ["timezone.invalid"]),
        ({"timezone": "posix/Europe/Zurich"}, ["timezone.invalid"]),
        ({"timezone": "right/UTC"}, ["timezone.invalid"]),
        ({"alternate_email": "ANN.LEE@acme.example"}, ["user.recovery_own_address"]),
        (
            {"alternate_email": "al@acme.example", "aliases": ("al@acme.example",)},
            ["user.recovery_own_address"],
        ),
        ({"alternate_email": None}, ["user.no_recovery"]),
    ],
)
def test_profile_rules(world: World, options: dict[str, Any], expected: list[str]) -> None:
    assert codes(world, create(world, **options)) == expected


def test_a_time_zone_in_any_case_is_stored_as_iana_spells_it(world: World) -> None:
    user = run(world.ctx, OPERATOR, create(world, timezone=" europe/zurich "))
    assert user.profile.timezone == "Europe/Zurich"
    changed = run(
        world.ctx, OPERATOR, UpdateUser(user_id=user.id, version=user.version, timezone="ETC/UTC")
    )
    assert changed.profile.timezone == "Etc/UTC"


def test_a_mobile_without_its_country_code_is_read_in_the_accounts_region(world: World) -> None:
    account = queries.get_account(world.ctx, OPERATOR, "acme")
    run(
        world.ctx,
        OPERATOR,
        UpdateAccount(account_id="acme", version=account.version, phone_region="CH"),
    )
    user = run(world.ctx, OPERATOR, create(world, mobile="079 123 45 67"))
    assert str(user.profile.mobile) == "+41791234567"
    changed = run(
        world.ctx, OPERATOR, UpdateUser(user_id=user.id, version=user.version, mobile="0787654321")
    )
    assert str(changed.profile.mobile) == "+41787654321"
    assert codes(world, create(world, username="bob@acme.example", mobile="0123")) == [
        "phone.invalid"
    ]


def test_an_update_warns_when_the_alternate_email_becomes_an_own_address(world: World) -> None:
    user = run(world.ctx, OPERATOR, create(world))
    own = UpdateUser(user_id=user.id, version=user.version, alternate_email="ann.lee@acme.example")
    assert codes(world, own) == ["user.recovery_own_address"]
    aliased = UpdateUser(
        user_id=user.id,
        version=user.version,
        alternate_email="al@acme.example",
        aliases=("al@acme.example",),
    )
    assert codes(world, aliased) == ["user.recovery_own_address"]
    elsewhere = UpdateUser(user_id=user.id, version=user.version, alternate_email="a@home.example")
    assert codes(world, elsewhere) == []


def test_recovery_needs_an_alternate_email_or_a_mobile(world: World) -> None:
    result = plan(world.ctx, OPERATOR, [create(world, alternate_email=None)])
    assert result.ok  # a warning only
    user = run(world.ctx, OPERATOR, create(world, alternate_email=None, mobile="+41 79 123 45 67"))
    assert user.profile.can_recover_password
    assert str(user.profile.mobile) == "+41791234567"
    bare = run(
        world.ctx, OPERATOR, create(world, username="bob@acme.example", alternate_email=None)
    )
    assert not bare.profile.can_recover_password


@pytest.mark.parametrize(
    ("aliases", "expected"),
    [
        (("a.lee@acme.example", "ann@acme.ch"), []),
        (("A.Lee@acme.example", "a.lee@ACME.example"), ["alias.duplicate"]),
        (("ann.lee@acme.example",), ["alias.is_username"]),
        (("ann@globex.example",), ["domain.not_in_account"]),
        (("ann@pending.example",), ["domain.not_active"]),
        (("HELPDESK@acme.example",), ["address.taken"]),
        (("not-an-address",), ["email.invalid"]),
    ],
)
def test_alias_rules(world: World, aliases: tuple[str, ...], expected: list[str]) -> None:
    assert codes(world, create(world, aliases=aliases)) == expected


def test_aliases_are_unique_against_other_aliases_and_in_a_batch(world: World) -> None:
    run(world.ctx, OPERATOR, create(world, aliases=("sales@acme.example",)))
    assert codes(
        world, create(world, username="bob@acme.example", aliases=("Sales@acme.example",))
    ) == ["address.taken"]
    result = plan(
        world.ctx,
        OPERATOR,
        [
            create(world, username="carl@acme.example", aliases=("team@acme.example",)),
            create(world, username="team@acme.example"),
        ],
    )
    assert [(i.code, i.command) for i in result.errors] == [("address.taken", 1)]


def test_display_names_follow_the_names_unless_set_by_hand(world: World) -> None:
    user = run(world.ctx, OPERATOR, create(world))
    user = run(
        world.ctx,
        OPERATOR,
        UpdateUser(user_id=user.id, version=user.version, last_name="Lee-Smith"),
    )
    assert user.profile.display_name == "Ann Lee-Smith"
    user = run(
        world.ctx, OPERATOR, UpdateUser(user_id=user.id, version=user.version, display_name="Annie")
    )
    user = run(
        world.ctx, OPERATOR, UpdateUser(user_id=user.id, version=user.version, first_name="Anne")
    )
    assert (user.profile.display_name, user.profile.display_name_manual) == ("Annie", True)
    user = run(
        world.ctx, OPERATOR, UpdateUser(user_id=user.id, version=user.version, display_name=None)
    )
    assert (user.profile.display_name, user.profile.display_name_manual) == (
        "Anne Lee-Smith",
        False,
    )


def test_updates_carry_their_version(world: World) -> None:
    user = run(world.ctx, OPERATOR, create(world))
    run(
        world.ctx,
        OPERATOR,
        UpdateUser(user_id=user.id, version=user.version, timezone="Europe/Zurich"),
    )
    with pytest.raises(Conflict) as caught:
        run(
            world.ctx,
            OPERATOR,
            UpdateUser(user_id=user.id, version=user.version, timezone="Asia/Tokyo"),
        )
    assert caught.value.code == "version.stale"
    assert queries.get_user(world.ctx, OPERATOR, user.id).profile.timezone == "Europe/Zurich"


def test_users_edit_their_own_profile_but_nothing_else(world: World) -> None:
    user = run(world.ctx, OPERATOR, create(world))
    me = Actor.user(user.id)
    updated = run(
        world.ctx, me, UpdateUser(user_id=user.id, version=user.version, mobile="+41791234567")
    )
    assert str(updated.profile.mobile) == "+41791234567"
    with pytest.raises(PermissionDenied):
        run(world.ctx, me, UpdateUser(user_id=user.id, version=updated.version, cos_id="std"))
    with pytest.raises(PermissionDenied):
        run(world.ctx, me, UpdateUser(user_id=user.id, version=updated.version, enabled=False))


def test_rename_keeps_id_aliases_and_grants(world: World) -> None:
    user = run(world.ctx, OPERATOR, create(world, aliases=("a.lee@acme.example",)))
    with world.ctx.store.unit_of_work() as uow:
        uow.grants.add(
            Grant(
                id="g-ann",
                user_id=user.id,
                account_id="acme",
                permissions=frozenset({"users.read"}),
            )
        )
        uow.commit()
    renamed = run(
        world.ctx,
        OPERATOR,
        RenameUser(user_id=user.id, version=user.version, username="ann@acme.ch"),
    )
    assert (renamed.id, str(renamed.username), renamed.domain_id) == (
        user.id,
        "ann@acme.ch",
        world.domains["acme.ch"],
    )
    assert [str(a) for a in renamed.aliases] == ["a.lee@acme.example"]
    with world.ctx.store.unit_of_work() as uow:
        assert uow.grants.for_scope(user.id, "acme", None) is not None
        assert uow.users.by_address("ann.lee@acme.example") is None  # the old name is free
    assert codes(
        world,
        RenameUser(user_id=user.id, version=renamed.version, username="helpdesk@acme.example"),
    ) == ["address.taken"]
    assert codes(
        world, RenameUser(user_id=user.id, version=renamed.version, username="ann@globex.example")
    ) == ["domain.not_in_account"]
    assert codes(
        world, RenameUser(user_id=user.id, version=renamed.version, username="a.lee@acme.example")
    ) == ["alias.duplicate"]
    case_only = run(
        world.ctx,
        OPERATOR,
        RenameUser(user_id=user.id, version=renamed.version, username="Ann@acme.ch"),
    )
    assert str(case_only.username) == "Ann@acme.ch"


def test_corporate_users_cannot_delete_themselves(world: World) -> None:
    user = run(world.ctx, OPERATOR, create(world))
    assert codes(world, DeleteUser(user_id=user.id), Actor.user(user.id)) == [
        "user.corporate_self_delete"
    ]
    run(world.ctx, world.admin, DeleteUser(user_id=user.id, version=user.version))
    with world.ctx.store.unit_of_work() as uow:
        assert uow.users.find(user.id) is None


def test_a_self_registered_user_may_delete_itself(world: World) -> None:
    with world.ctx.store.unit_of_work() as uow:
        uow.users.add(
            User(
                id="solo",
                username=__import__("provisioning.model", fromlist=["Username"]).Username.parse(
                    "solo@else.example"
                ),
                created_at=world.ctx.clock.now(),
                updated_at=world.ctx.clock.now(),
            )
        )
        uow.commit()
    with pytest.raises(NotFound):  # a user of no account is none of an administrator's business
        run(world.ctx, world.boss, DeleteUser(user_id="solo"))
    run(world.ctx, Actor.user("solo"), DeleteUser(user_id="solo"))
    with world.ctx.store.unit_of_work() as uow:
        assert uow.users.find("solo") is None


def test_administrators_are_deleted_only_by_those_who_manage_admins(world: World) -> None:
    other = run(
        world.ctx,
        OPERATOR,
        CreateAdmin(
            account_id="acme",
            address="other.admin@acme.example",
            primary_email="other@holding.example",
            role_ids={"system:member"},
        ),
    )
    with world.ctx.store.unit_of_work() as uow:
        boss = uow.users.by_address("postmaster@acme.example")
    assert boss is not None
    with pytest.raises(PermissionDenied):
        run(world.ctx, world.admin, DeleteUser(user_id=other.id))
    run(world.ctx, world.boss, DeleteUser(user_id=other.id))
    assert codes(world, DeleteUser(user_id=boss.id)) == ["admin.super_admin_protected"]


def test_directory_users_are_read_only_here(world: World) -> None:
    report = run(
        world.ctx,
        OPERATOR,
        SyncDirectory(
            account_id="acme",
            directory_service="Corporate AD",
            entries=[
                DirectoryEntry(username="dora@acme.example", first_name="Dora", last_name="Day")
            ],
        ),
    )
    assert report.created == ("dora@acme.example",)
    with world.ctx.store.unit_of_work() as uow:
        dora = uow.users.by_address("dora@acme.example")
    assert dora is not None
    assert (dora.source, dora.directory_service, dora.profile.display_name) == (
        UserSource.DIRECTORY,
        "Corporate AD",
        "Dora Day",
    )
    for command in [
        UpdateUser(user_id=dora.id, version=dora.version, first_name="D"),
        RenameUser(user_id=dora.id, version=dora.version, username="dd@acme.example"),
        DeleteUser(user_id=dora.id),
        SetPassword(user_id=dora.id, password=PASSWORD, password_repeat=PASSWORD),
    ]:
        errors = plan(world.ctx, OPERATOR, [command]).errors
        assert [i.code for i in errors] == ["user.directory_managed"]


def test_directory_sync_creates_updates_disables_and_reports(world: World) -> None:
    def sync(*entries: DirectoryEntry) -> Any:
        return run(
            world.ctx,
            OPERATOR,
            SyncDirectory(account_id="acme", directory_service="AD", entries=entries),
        )

    sync(
        DirectoryEntry(username="dora@acme.example", first_name="Dora"),
        DirectoryEntry(username="eli@acme.example", first_name="Eli"),
        DirectoryEntry(username="fay@acme.ch", first_name="Fay"),
    )
    report = sync(
        DirectoryEntry(username="dora@acme.example", first_name="Dora", last_name="Day"),
        DirectoryEntry(username="fay@acme.ch", first_name="Fay"),
        DirectoryEntry(username="gus@acme.example", first_name="Gus", enabled=False),
    )
    assert (report.created, report.updated, report.disabled, report.unchanged) == (
        ("gus@acme.example",),
        ("dora@acme.example",),
        ("eli@acme.example",),
        ("fay@acme.ch",),
    )
    with world.ctx.store.unit_of_work() as uow:
        eli = uow.users.by_address("eli@acme.example")
        gus = uow.users.by_address("gus@acme.example")
        fay = uow.users.by_address("fay@acme.ch")
    assert eli is not None
    assert gus is not None
    assert fay is not None
    assert (eli.status, gus.status, fay.mfa.required) == (
        UserStatus.DISABLED,
        UserStatus.DISABLED,
        True,
    )


def test_a_directory_sync_changes_only_users_the_actor_outranks(world: World) -> None:
    """An administrator may not, through a sync, do to an owner what UpdateUser refuses."""

    def sync(*entries: DirectoryEntry, actor: Actor = world.admin) -> Any:
        command = SyncDirectory(account_id="acme", directory_service="AD", entries=entries)
        return run(world.ctx, actor, command)

    owner_entry = DirectoryEntry(username="olga@acme.example", first_name="Olga")
    plain_entry = DirectoryEntry(username="pat@acme.example", first_name="Pat")
    sync(owner_entry, plain_entry, actor=OPERATOR)
    with world.ctx.store.unit_of_work() as uow:
        olga = uow.users.by_address("olga@acme.example")
    assert olga is not None
    run(
        world.ctx,
        OPERATOR,
        SetGrant(user_id=olga.id, account_id="acme", role_ids=frozenset({"system:owner"})),
    )
    moves = {
        "disable": [attrs.evolve(owner_entry, enabled=False), plain_entry],
        "rename": [attrs.evolve(owner_entry, first_name="Mallory"), plain_entry],
        "re-point": [
            attrs.evolve(owner_entry, alternate_email="mallory@evil.example"),
            plain_entry,
        ],
        "drop": [plain_entry],  # an owner left out of the sync would be disabled
    }
    for move, entries in moves.items():
        with pytest.raises(ValidationFailed) as refused:
            sync(*entries)
        assert refused.value.codes == ["permission.target_outranks"], move
    assert sync(owner_entry, attrs.evolve(plain_entry, last_name="Ng")).updated == (
        "pat@acme.example",
    )
    after = queries.get_user(world.ctx, OPERATOR, olga.id)
    assert (after.status, after.profile.first_name) == (UserStatus.ACTIVE, "Olga")


def test_only_an_owner_changes_the_security_settings_that_protect_the_owners(
    world: World,
) -> None:
    from provisioning.model import SignInPolicy  # noqa: PLC0415

    lifted = SignInPolicy(max_failures=100, wait_increment_s=1, max_wait_s=1)
    for change in (
        {"sign_in_policy": lifted},
        {"sign_in_policy": SignInPolicy(max_failures=1, max_wait_s=86_400)},
        {"password_policy": PasswordPolicy(min_length=8, forbid_common=False)},
    ):
        command = UpdateAccount(account_id="acme", version=1, **change)
        with pytest.raises(ValidationFailed) as refused:
            run(world.ctx, world.admin, command)  # system:administrator: accounts.manage
        assert refused.value.codes == ["permission.target_outranks"]
    run(world.ctx, world.admin, UpdateAccount(account_id="acme", version=1, name="Acme AG"))
    updated = run(
        world.ctx, world.boss, UpdateAccount(account_id="acme", version=2, sign_in_policy=lifted)
    )
    assert updated.sign_in_policy == lifted


def test_directory_sync_refuses_conflicts_and_bad_entries(world: World) -> None:
    run(world.ctx, OPERATOR, create(world))
    command = SyncDirectory(
        account_id="acme",
        directory_service="AD",
        entries=[
            DirectoryEntry(username="ann.lee@acme.example"),  # a manual user
            DirectoryEntry(username="x@acme.example"),
            DirectoryEntry(username="X@acme.example"),
            DirectoryEntry(username="y@globex.example"),
            DirectoryEntry(username="z@acme.example", mobile="12"),
        ],
    )
    assert sorted(codes(world, command)) == [
        "directory.conflict",
        "directory.duplicate_entry",
        "domain.not_in_account",
        "phone.invalid",
    ]


@pytest.fixture
def listed(world: World) -> World:
    people = [
        ("zoe@acme.example", "Zoe", "Zimmer"),
        ("adam@acme.example", "Adam", "Ant"),
        ("mia@acme.ch", "Mia", "Muster"),
        ("max.power@acme.example", "Max", "Mustermann"),
    ]
    for username, first, last in people:
        run(world.ctx, OPERATOR, create(world, username=username, first_name=first, last_name=last))
    run(
        world.ctx,
        OPERATOR,
        SyncDirectory(
            account_id="acme",
            directory_service="Corp LDAP",
            entries=[DirectoryEntry(username="dir@acme.example")],
        ),
    )
    return world


def names(page: queries.UserPage) -> list[str]:
    return [item.username for item in page.items]


def test_users_are_listed_sorted_with_a_total(listed: World) -> None:
    page = queries.users(listed.ctx, listed.admin, "acme", limit=3)
    assert page.total == 7  # five users, the super admin and the helpdesk admin
    assert names(page) == ["adam@acme.example", "dir@acme.example", "helpdesk@acme.example"]
    last = queries.users(listed.ctx, listed.admin, "acme", offset=6, limit=3)
    assert names(last) == ["zoe@acme.example"]
    down = queries.users(listed.ctx, listed.admin, "acme", descending=True, limit=2)
    assert names(down) == ["zoe@acme.example", "postmaster@acme.example"]
    by_domain = queries.users(listed.ctx, listed.admin, "acme", domain_id=listed.domains["acme.ch"])
    assert (names(by_domain), by_domain.total) == (["mia@acme.ch"], 1)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("MUSTER", ["max.power@acme.example", "mia@acme.ch"]),  # full name, contains
        ("acme.ch", ["mia@acme.ch"]),  # username, contains
        ("corp ldap", ["dir@acme.example"]),  # directory service
        ("nobody", []),
    ],
)
def test_search_matches_names_and_directory(
    listed: World, search: str, expected: list[str]
) -> None:
    page = queries.users(listed.ctx, listed.admin, "acme", search=search)
    assert (names(page), page.total) == (expected, len(expected))


def test_search_matches_an_id_exactly(listed: World) -> None:
    zoe = queries.users(listed.ctx, listed.admin, "acme", search="zoe").items[0]
    assert names(queries.users(listed.ctx, listed.admin, "acme", search=zoe.id.upper())) == [
        zoe.username
    ]
    assert queries.users(listed.ctx, listed.admin, "acme", search=zoe.id[:-1]).total == 0


def test_summaries_show_what_the_list_needs(listed: World) -> None:
    (mia,) = queries.users(listed.ctx, listed.admin, "acme", search="mia@").items
    assert (
        mia.full_name,
        mia.directory_service,
        mia.mfa_required,
        mia.mfa_initialised,
        mia.enabled,
    ) == (
        "Mia Muster",
        None,
        True,
        False,
        True,
    )


def test_listing_needs_users_read_in_that_account(listed: World) -> None:
    with pytest.raises(PermissionDenied):
        queries.users(listed.ctx, listed.admin, "globex")
    user = queries.users(listed.ctx, listed.admin, "acme", search="zoe").items[0]
    with pytest.raises(PermissionDenied):
        queries.users(listed.ctx, Actor.user(user.id), "acme")
    with pytest.raises(UsageError):
        queries.users(listed.ctx, listed.admin, "acme", limit=0)


def test_validation_failed_lists_every_problem_of_a_user(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        run(
            world.ctx,
            OPERATOR,
            create(
                world,
                password="k9#Tz",
                password_repeat="other",
                timezone="Nowhere",
                aliases=("bad",),
            ),
        )
    assert caught.value.codes == [
        "password.too_short",
        "password.mismatch",
        "timezone.invalid",
        "email.invalid",
    ]


def test_a_page_past_the_end_is_empty_but_counts(listed: World) -> None:
    page = queries.users(listed.ctx, listed.admin, "acme", search="muster", offset=10)
    assert (page.items, page.total) == ((), 2)
    page = queries.users(listed.ctx, listed.admin, "acme", offset=100)
    assert (page.items, page.total) == ((), 7)


def test_password_policies_are_set_per_account_and_per_class_of_service(world: World) -> None:
    account = queries.get_account(world.ctx, OPERATOR, "acme")
    run(
        world.ctx,
        OPERATOR,
        UpdateAccount(
            account_id="acme",
            version=account.version,
            password_policy=PasswordPolicy(min_length=30),
        ),
    )
    assert codes(world, create(world)) == ["password.too_short"]
    with world.ctx.store.unit_of_work() as uow:
        std = uow.classes_of_service.get("std")
    run(
        world.ctx,
        OPERATOR,
        UpdateClassOfService(cos_id="std", version=std.version, password_policy=PasswordPolicy()),
    )
    assert codes(world, create(world, cos_id="std")) == []  # the class of service's policy wins


def test_pages_can_be_walked_by_cursor_as_well_as_by_offset(world: World) -> None:
    for n in range(7):
        run(world.ctx, OPERATOR, CreateUser(account_id="acme", username=f"walker{n}@acme.example"))
    for descending in (False, True):
        by_offset = [
            s.username
            for offset in range(0, 9, 3)
            for s in queries.users(
                world.ctx,
                OPERATOR,
                "acme",
                search="walker",
                offset=offset,
                limit=3,
                descending=descending,
            ).items
        ]
        walked: list[str] = []
        cursor = None
        while True:
            page = queries.users(
                world.ctx,
                OPERATOR,
                "acme",
                search="walker",
                limit=3,
                after=cursor,
                descending=descending,
            )
            walked += [s.username for s in page.items]
            assert page.total == 7
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert walked == by_offset
        assert sorted(walked, reverse=descending) == walked
    with pytest.raises(UsageError) as caught:
        queries.users(world.ctx, OPERATOR, "acme", after="not-a-cursor")
    assert caught.value.code == "query.cursor_invalid"


def test_find_user_reads_one_user_by_username_or_by_any_address(world: World) -> None:
    ann = run(world.ctx, OPERATOR, create(world, aliases=("a.lee@acme.example",)))
    by_username = queries.find_user(world.ctx, world.admin, username="Ann.Lee@ACME.example")
    assert by_username.id == ann.id
    assert queries.find_user(world.ctx, world.admin, address="a.lee@acme.example").id == ann.id
    with pytest.raises(NotFound) as alias_is_no_username:
        queries.find_user(world.ctx, world.admin, username="a.lee@acme.example")
    assert alias_is_no_username.value.code == "user.not_found"
    for nobody in ("ghost@acme.example", "not an address", "x" * 320):
        with pytest.raises(NotFound):
            queries.find_user(world.ctx, world.admin, address=nobody)
    with pytest.raises(UsageError) as too_long:  # beyond any address: refused as it is typed
        queries.find_user(world.ctx, world.admin, address="x" * 5000)
    assert too_long.value.code == "query.argument_invalid"
    for neither_or_both in ({}, {"username": "ann.lee@acme.example", "address": "a@b.example"}):
        with pytest.raises(UsageError) as wrong:
            queries.find_user(world.ctx, world.admin, **neither_or_both)
        assert wrong.value.code == "query.argument_invalid"


def test_find_user_tells_an_outsider_nothing_not_even_the_id(world: World) -> None:
    ann = run(world.ctx, OPERATOR, create(world))
    outsider = Actor.user(
        run(
            world.ctx,
            OPERATOR,
            CreateAdmin(
                account_id="globex",
                address="helpdesk@globex.example",
                primary_email="helpdesk@globex-holding.example",
                role_ids={"system:administrator"},
            ),
        ).id
    )
    with pytest.raises(NotFound) as hidden:
        queries.find_user(world.ctx, outsider, address="ann.lee@acme.example")
    assert ann.id not in str(hidden.value)
    assert "ann.lee@acme.example" in str(hidden.value)
    assert queries.find_user(world.ctx, Actor.user(ann.id), address="ann.lee@acme.example") == ann


def test_a_missing_user_is_not_found_by_a_user_on_every_store(world: World) -> None:
    # An absent id costs a decoy look-up of membership: it must be one every store can make.
    for reader in (world.admin, world.boss):
        with pytest.raises(NotFound) as missing:
            queries.get_user(world.ctx, reader, "no-such-user")
        assert missing.value.code == "user.not_found"
