"""An account's phone numbers: parsed by their numbering plan, one account's, freed with users."""

from __future__ import annotations

import attrs
import pytest

from access_world import user as access_user
from conftest import OPERATOR, active_domain
from provisioning import (
    Actor,
    AddDevice,
    AddPhoneNumbers,
    AssignDevice,
    ChangeStation,
    Context,
    CreateAccount,
    DeleteAccount,
    DeleteUser,
    NotFound,
    PermissionDenied,
    ReleaseNumber,
    RemoveDevice,
    RemovePhoneNumber,
    SetStationPackage,
    SetUpPhoneUser,
    UnassignDevice,
    UpdateAccount,
    ValidationFailed,
    apply,
    plan,
    queries,
    run,
)
from provisioning.adapters.memory import MemoryDns, Outbox
from provisioning.model import Device, DirectNumber, StationPackage


@pytest.fixture
def acme(ctx: Context, dns: MemoryDns) -> Context:
    run(ctx, OPERATOR, CreateAccount(name="Acme", account_id="acme"))
    run(ctx, OPERATOR, CreateAccount(name="Globex", account_id="globex"))
    active_domain(ctx, dns, "acme", "acme.example", admin_email="it@holding.example")
    active_domain(ctx, dns, "globex", "globex.example", admin_email="it@holding.example")
    account = queries.get_account(ctx, OPERATOR, "acme")
    run(ctx, OPERATOR, UpdateAccount(account_id="acme", version=account.version, phone_region="ch"))
    return ctx


def issues(ctx: Context, command: object) -> list[tuple[str, str | None]]:
    planned = plan(ctx, OPERATOR, [command])  # type: ignore[list-item]
    return [(issue.code, issue.field) for issue in planned.errors]


def test_numbers_are_kept_in_e164_by_the_account_s_numbering_plan(acme: Context) -> None:
    assert queries.get_account(acme, OPERATOR, "acme").phone_region == "CH"
    added = run(
        acme,
        OPERATOR,
        AddPhoneNumbers(
            account_id="acme", numbers=("079 123 45 67", "+41 44 668 18 00", "0041 31 322 21 11")
        ),
    )
    assert [str(n.number) for n in added] == ["+41791234567", "+41446681800", "+41313222111"]
    listed = queries.phone_numbers(acme, OPERATOR, "acme", free_only=True)
    assert [str(n.number) for n in listed] == ["+41313222111", "+41446681800", "+41791234567"]
    assert list(queries.phone_numbers(acme, OPERATOR, "globex")) == []


def test_every_bad_number_is_an_issue_of_its_own(acme: Context) -> None:
    run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41 79 123 45 67",)))
    run(acme, OPERATOR, AddPhoneNumbers(account_id="globex", numbers=("+41 79 765 43 21",)))
    command = AddPhoneNumbers(
        account_id="acme",
        numbers=("12345", "079 111 22 33", "+41 79 111 22 33", "0791234567", "+41797654321"),
    )
    planned = plan(acme, OPERATOR, [command])
    assert [(i.code, i.field) for i in planned.errors] == [
        ("phone.invalid", "numbers[0]"),
        ("number.duplicate", "numbers[2]"),  # the same number as numbers[1], typed otherwise
        ("number.taken", "numbers[3]"),
        ("number.taken", "numbers[4]"),
    ]
    taken = [i.message for i in planned.errors if i.code == "number.taken"]
    assert taken == [
        "+41791234567 is already this account's",
        "+41797654321 is already another account's",  # whose is not said
    ]
    assert len(queries.phone_numbers(acme, OPERATOR, "acme")) == 1  # nothing was added
    no_region = AddPhoneNumbers(account_id="globex", numbers=("079 111 22 33",))
    assert issues(acme, no_region) == [("phone.region_required", "numbers[0]")]
    assert issues(acme, AddPhoneNumbers(account_id="acme", numbers=())) == [
        ("number.required", "numbers")
    ]


def test_a_phone_region_is_one_the_numbering_plans_know(acme: Context) -> None:
    account = queries.get_account(acme, OPERATOR, "globex")
    wrong = UpdateAccount(account_id="globex", version=account.version, phone_region="XX")
    assert issues(acme, wrong) == [("phone.region_unknown", "phone_region")]
    cleared = UpdateAccount(account_id="acme", version=2, phone_region=None)
    assert run(acme, OPERATOR, cleared).phone_region is None


def test_an_assigned_number_stays_until_its_user_goes(acme: Context) -> None:
    ann = access_user(acme, "ann@acme.example")
    (number,) = run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41791234567",)))
    with acme.store.unit_of_work() as uow:  # assigned as a phone set-up will assign it
        uow.numbers.update(attrs.evolve(number, user_id=ann.id))
        uow.commit()
    assert list(queries.phone_numbers(acme, OPERATOR, "acme", free_only=True)) == []
    assert issues(acme, RemovePhoneNumber(number_id=number.id)) == [
        ("number.assigned", "number_id")
    ]
    run(acme, OPERATOR, DeleteUser(user_id=ann.id))
    (freed,) = queries.phone_numbers(acme, OPERATOR, "acme", free_only=True)
    assert freed.user_id is None
    events = queries.audit_log(acme, OPERATOR, "acme", entity_id=number.id)
    assert [e.detail for e in events] == ["+41791234567", "released"]
    run(acme, OPERATOR, RemovePhoneNumber(number_id=number.id))
    assert list(queries.phone_numbers(acme, OPERATOR, "acme")) == []


def test_two_accounts_racing_for_one_number_leave_it_to_the_first(acme: Context) -> None:
    account = queries.get_account(acme, OPERATOR, "globex")
    run(
        acme,
        OPERATOR,
        UpdateAccount(account_id="globex", version=account.version, phone_region="CH"),
    )
    first = plan(acme, OPERATOR, [AddPhoneNumbers(account_id="acme", numbers=("079 123 45 67",))])
    second = plan(
        acme, OPERATOR, [AddPhoneNumbers(account_id="globex", numbers=("+41 79 123 45 67",))]
    )
    assert first.ok  # each planned before the other was written
    assert second.ok
    apply(acme, first)
    with pytest.raises(ValidationFailed) as caught:
        apply(acme, second)
    assert caught.value.codes == ["number.taken"]
    (held,) = queries.phone_numbers(acme, OPERATOR, "acme")
    assert list(queries.phone_numbers(acme, OPERATOR, "globex")) == []
    assert isinstance(held, DirectNumber)


def test_numbers_are_the_account_s_business_alone(acme: Context) -> None:
    (number,) = run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41791234567",)))
    member = access_user(acme, "cy@acme.example")
    stranger = access_user(acme, "gus@globex.example", account="globex")
    with pytest.raises(PermissionDenied):
        run(acme, Actor.user(member.id), AddPhoneNumbers(account_id="acme", numbers=("+4144",)))
    with pytest.raises(PermissionDenied):
        queries.phone_numbers(acme, Actor.user(member.id), "acme")
    with pytest.raises(NotFound):  # another tenant's number is as absent as none
        run(acme, Actor.user(stranger.id), RemovePhoneNumber(number_id=number.id))


def test_a_deleted_account_s_numbers_are_free_for_another(acme: Context) -> None:
    run(acme, OPERATOR, AddPhoneNumbers(account_id="acme", numbers=("+41791234567",)))
    run(acme, OPERATOR, DeleteAccount(account_id="acme", confirm_name="Acme"))
    again = run(acme, OPERATOR, AddPhoneNumbers(account_id="globex", numbers=("+41791234567",)))
    assert [n.account_id for n in again] == ["globex"]


# -- station packages and the phone set-up --------------------------------------------------


@pytest.fixture
def stations(acme: Context) -> Context:
    run(
        acme,
        OPERATOR,
        SetStationPackage(
            account_id="acme", name="Standard", owned=2, applications={"voicemail", "softphone"}
        ),
    )
    run(acme, OPERATOR, SetStationPackage(account_id="acme", name="Basic", owned=1))
    run(
        acme,
        OPERATOR,
        AddPhoneNumbers(account_id="acme", numbers=("044 668 18 00", "044 668 18 01")),
    )
    return acme


def _number(ctx: Context, e164: str) -> str:
    return next(n.id for n in queries.phone_numbers(ctx, OPERATOR, "acme") if str(n.number) == e164)


def set_up(username: str, **fields: object) -> SetUpPhoneUser:
    defaults: dict[str, object] = {
        "account_id": "acme",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@home.example",
        "username": username,
        "station": "standard",
    }
    return SetUpPhoneUser(**{**defaults, **fields})  # type: ignore[arg-type]


def test_a_phone_user_is_set_up_in_one_request(stations: Context, outbox: Outbox) -> None:
    outbox.clear()
    seat = run(
        stations,
        OPERATOR,
        set_up(
            "ann@acme.example",
            number_id=_number(stations, "+41446681800"),
            extension="201",
            applications={"voicemail"},
        ),
    )
    user = queries.get_user(stations, OPERATOR, seat.user_id)
    assert (
        str(user.username),
        user.profile.alternate_email and str(user.profile.alternate_email),
    ) == (
        "ann@acme.example",
        "ann@home.example",
    )
    assert (seat.extension, seat.applications) == ("201", frozenset({"voicemail"}))
    assert queries.phone_seat(stations, OPERATOR, user.id) == seat
    standard = next(
        p for p in queries.station_packages(stations, OPERATOR, "acme") if p.name == "Standard"
    )
    assert (standard.owned, standard.in_use, standard.free) == (2, 1, 1)
    free = [
        str(n.number) for n in queries.phone_numbers(stations, OPERATOR, "acme", free_only=True)
    ]
    assert free == ["+41446681801"]
    (welcome,) = [m for m in outbox.messages if m.template == "user.created"]
    assert welcome.to == "ann@home.example"  # the communication address, after commit


def test_every_problem_of_a_set_up_is_reported_at_once(stations: Context) -> None:
    run(stations, OPERATOR, set_up("ann@acme.example", extension="201"))
    planned = plan(
        stations,
        OPERATOR,
        [
            set_up("bob@acme.example", station="Gold"),  # neither number nor extension, either
            set_up("cy@acme.example", extension="2011", applications={"fax"}),
            set_up("dee@acme.example", extension="201"),
            set_up("eve@acme.example", extension="12a"),
            set_up(
                "fay@acme.example", station="basic", extension="301", applications={"voicemail"}
            ),
        ],
    )
    found = [(i.command, i.code) for i in planned.errors]
    assert found == [
        (0, "phone.number_or_extension"),
        (0, "station.not_found"),
        (1, "extension.prefix_clash"),
        (1, "station.application_not_permitted"),
        (2, "extension.taken"),
        (3, "extension.invalid"),
        (4, "station.application_not_permitted"),
    ]
    clash = next(i for i in planned.errors if i.code == "extension.prefix_clash")
    assert "extension 2011 and extension 201 begin alike" in clash.message


def test_the_last_station_goes_to_one_set_up_only(stations: Context) -> None:
    run(stations, OPERATOR, set_up("ann@acme.example", station="basic", extension="101"))
    planned = plan(
        stations, OPERATOR, [set_up("bob@acme.example", station="basic", extension="102")]
    )
    (issue,) = planned.errors
    assert issue.code == "station.none_left"
    assert "(1 owned, 1 in use)" in issue.message


def test_two_set_ups_racing_for_the_last_station_or_one_number_leave_one_winner(
    stations: Context,
) -> None:
    number = _number(stations, "+41446681800")
    run(stations, OPERATOR, SetStationPackage(account_id="acme", name="Standard", owned=5))
    for first, second, refusal in (
        (
            set_up("ann@acme.example", station="basic", extension="101"),
            set_up("bob@acme.example", station="basic", extension="102"),
            "station.none_left",
        ),
        (
            set_up("cy@acme.example", number_id=number),
            set_up("dee@acme.example", number_id=number),
            "number.assigned",
        ),
        (
            set_up("eve@acme.example", extension="301"),
            set_up("fay@acme.example", extension="301"),
            "extension.taken",
        ),
    ):
        one, other = plan(stations, OPERATOR, [first]), plan(stations, OPERATOR, [second])
        assert one.ok
        assert other.ok  # each planned before the other was written
        apply(stations, one)
        with pytest.raises(ValidationFailed) as caught:
            apply(stations, other)
        assert caught.value.codes == [refusal]
    packages = {p.name: p for p in queries.station_packages(stations, OPERATOR, "acme")}
    assert (packages["Basic"].in_use, packages["Standard"].in_use) == (1, 2)
    users = queries.users(stations, OPERATOR, "acme").total
    assert users == 4  # the super admin, Ann, Cy and Eve: the losers were not created


def test_a_refused_batch_leaves_every_count_as_it_was(stations: Context) -> None:
    batch = plan(
        stations,
        OPERATOR,
        [set_up("ann@acme.example", extension="201"), set_up("bob@acme.example", extension="201")],
    )
    assert [i.code for i in batch.errors] == ["extension.taken"]  # the second sees the first
    with pytest.raises(ValidationFailed):
        apply(stations, batch)
    assert [p.in_use for p in queries.station_packages(stations, OPERATOR, "acme")] == [0, 0]
    assert queries.users(stations, OPERATOR, "acme").total == 1


def test_deleting_a_phone_user_frees_its_station_and_number(stations: Context) -> None:
    number = _number(stations, "+41446681800")
    seat = run(stations, OPERATOR, set_up("ann@acme.example", number_id=number, station="basic"))
    with pytest.raises(ValidationFailed) as caught:
        run(stations, OPERATOR, SetStationPackage(account_id="acme", name="Basic", owned=0))
    assert caught.value.codes == ["station.in_use"]
    run(stations, OPERATOR, DeleteUser(user_id=seat.user_id))
    basic = next(
        p for p in queries.station_packages(stations, OPERATOR, "acme") if p.name == "Basic"
    )
    assert basic.in_use == 0
    assert len(queries.phone_numbers(stations, OPERATOR, "acme", free_only=True)) == 2


def test_only_the_operator_sells_stations_and_admins_set_up_users(stations: Context) -> None:
    member = access_user(stations, "cy@acme.example")
    with pytest.raises(PermissionDenied):
        run(
            stations, Actor.user(member.id), SetStationPackage(account_id="acme", name="X", owned=9)
        )
    with pytest.raises(PermissionDenied):
        run(stations, Actor.user(member.id), set_up("bob@acme.example", extension="555"))


def test_the_extension_range_is_the_account_s_and_fits_those_in_use(stations: Context) -> None:
    run(stations, OPERATOR, set_up("ann@acme.example", extension="2015"))
    version = queries.get_account(stations, OPERATOR, "acme").version
    narrower = UpdateAccount(account_id="acme", version=version, extension_max=3)
    assert issues(stations, narrower) == [("extension.range_in_use", "extension_min")]
    upside_down = UpdateAccount(
        account_id="acme", version=version, extension_min=5, extension_max=4
    )
    assert issues(stations, upside_down) == [("extension.range_invalid", "extension_min")]
    wider = run(
        stations, OPERATOR, UpdateAccount(account_id="acme", version=version, extension_min=2)
    )
    assert (wider.extension_min, wider.extension_max) == (2, 6)
    assert issues(stations, set_up("bob@acme.example", extension="30")) == []


@pytest.fixture
def desks(stations: Context) -> Context:
    for mac in ("00-1A-2B-00-00-01", "001a.2b00.0002", "00:1a:2b:00:00:03"):
        run(stations, OPERATOR, AddDevice(account_id="acme", model="Desk 4", mac=mac, ports=4))
    return stations


def _device(ctx: Context, mac: str) -> Device:
    return next(d for d in queries.devices(ctx, OPERATOR, "acme") if str(d.mac) == mac)


def test_devices_are_added_with_their_mac_address_normalised(desks: Context) -> None:
    listed = queries.devices(desks, OPERATOR, "acme", free_only=True)
    assert [(str(d.mac), d.model, d.ports) for d in listed] == [
        ("00:1a:2b:00:00:01", "Desk 4", 4),
        ("00:1a:2b:00:00:02", "Desk 4", 4),
        ("00:1a:2b:00:00:03", "Desk 4", 4),
    ]
    assert list(queries.devices(desks, OPERATOR, "globex")) == []


def test_every_bad_device_is_an_issue(desks: Context) -> None:
    assert issues(desks, AddDevice(account_id="acme", model=" ", mac="00:1a:2b:00:00:09")) == [
        ("device.model_required", "model")
    ]
    for mac in ("00:1a:2b:00:00", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "000000000000"):
        assert issues(desks, AddDevice(account_id="acme", model="Desk", mac=mac)) == [
            ("device.mac_invalid", "mac")
        ]
    for ports in (0, 65):
        wrong = AddDevice(account_id="acme", model="Desk", mac="00:1a:2b:00:00:09", ports=ports)
        assert issues(desks, wrong) == [("device.ports_invalid", "ports")]
    again = plan(desks, OPERATOR, [AddDevice(account_id="globex", model="X", mac="001A2B000001")])
    (taken,) = again.errors
    assert (taken.code, taken.message) == (
        "device.taken",
        "00:1a:2b:00:00:01 is already another account's",  # not whose
    )


def test_a_phone_user_gets_its_primary_device_with_its_set_up(desks: Context) -> None:
    desk = _device(desks, "00:1a:2b:00:00:01")
    seat = run(
        desks,
        OPERATOR,
        set_up("ann@acme.example", extension="201", device_id=desk.id, device_ports=2),
    )
    (given,) = queries.user_devices(desks, OPERATOR, seat.user_id)
    assert (given.id, given.primary, given.ports_used) == (desk.id, True, 2)
    planned = plan(
        desks,
        OPERATOR,
        [
            set_up("bob@acme.example", extension="202", device_id=desk.id),
            set_up("cy@acme.example", extension="203", device_id="nope"),
            set_up(
                "dee@acme.example",
                extension="204",
                device_id=_device(desks, "00:1a:2b:00:00:02").id,
                device_ports=5,
            ),
        ],
    )
    assert [(i.command, i.code, i.field) for i in planned.errors] == [
        (0, "device.assigned", "device_id"),
        (1, "device.not_found", "device_id"),
        (2, "device.ports_exceeded", "device_ports"),
    ]
    assigned = planned.errors[0].message
    assert assigned == "device 00:1a:2b:00:00:01 is assigned to ann@acme.example"


def test_a_user_has_one_primary_and_any_number_of_secondary_devices(desks: Context) -> None:
    seat = run(desks, OPERATOR, set_up("ann@acme.example", extension="201"))
    first, second, third = (_device(desks, f"00:1a:2b:00:00:0{n}") for n in (1, 2, 3))
    refused = plan(
        desks, OPERATOR, [AssignDevice(user_id=seat.user_id, device_id=first.id, primary=False)]
    )
    assert [i.code for i in refused.errors] == ["device.primary_required"]
    assert run(desks, OPERATOR, AssignDevice(user_id=seat.user_id, device_id=first.id)).primary
    assert not run(
        desks, OPERATOR, AssignDevice(user_id=seat.user_id, device_id=second.id, ports=4)
    ).primary
    over = plan(desks, OPERATOR, [AssignDevice(user_id=seat.user_id, device_id=third.id, ports=5)])
    assert [(i.code, i.field) for i in over.errors] == [("device.ports_exceeded", "ports")]
    again = run(desks, OPERATOR, AssignDevice(user_id=seat.user_id, device_id=first.id, ports=3))
    assert (again.primary, again.ports_used) == (True, 3)  # its own primary, with other ports
    run(desks, OPERATOR, AssignDevice(user_id=seat.user_id, device_id=second.id, primary=True))
    held = queries.user_devices(desks, OPERATOR, seat.user_id)
    assert [(d.id, d.primary) for d in held] == [(second.id, True), (first.id, False)]
    kept = plan(desks, OPERATOR, [UnassignDevice(device_id=second.id)])
    assert [i.code for i in kept.errors] == ["device.secondaries_left"]
    run(desks, OPERATOR, UnassignDevice(device_id=first.id))
    freed = run(desks, OPERATOR, UnassignDevice(device_id=second.id))
    assert (freed.user_id, freed.primary, freed.ports_used) == (None, False, 0)
    assert len(queries.devices(desks, OPERATOR, "acme", free_only=True)) == 3
    assert issues(desks, UnassignDevice(device_id=first.id)) == [
        ("device.not_assigned", "device_id")
    ]
    assert issues(
        desks, AssignDevice(user_id=access_user(desks, "bob@acme.example").id, device_id=first.id)
    ) == [("phone.no_seat", "user_id")]


def test_an_assigned_device_stays_in_the_inventory_until_its_user_goes(desks: Context) -> None:
    desk = _device(desks, "00:1a:2b:00:00:01")
    seat = run(desks, OPERATOR, set_up("ann@acme.example", extension="201", device_id=desk.id))
    assert issues(desks, RemoveDevice(device_id=desk.id)) == [("device.assigned", "device_id")]
    run(desks, OPERATOR, DeleteUser(user_id=seat.user_id))
    assert _device(desks, "00:1a:2b:00:00:01").free
    run(desks, OPERATOR, RemoveDevice(device_id=desk.id))
    assert len(queries.devices(desks, OPERATOR, "acme")) == 2
    run(desks, OPERATOR, DeleteAccount(account_id="acme", confirm_name="Acme"))
    again = AddDevice(account_id="globex", model="Desk", mac="00:1a:2b:00:00:02")
    assert run(desks, OPERATOR, again).account_id == "globex"  # the deleted account's are free


def test_two_set_ups_racing_for_one_device_leave_one_winner(desks: Context) -> None:
    desk = _device(desks, "00:1a:2b:00:00:01").id
    one = plan(desks, OPERATOR, [set_up("ann@acme.example", extension="201", device_id=desk)])
    other = plan(desks, OPERATOR, [set_up("bob@acme.example", extension="202", device_id=desk)])
    assert one.ok
    assert other.ok
    apply(desks, one)
    with pytest.raises(ValidationFailed) as caught:
        apply(desks, other)
    assert caught.value.codes == ["device.assigned"]
    assert queries.users(desks, OPERATOR, "acme").total == 2


def test_changing_a_station_moves_the_seat_s_licence(stations: Context) -> None:
    seat = run(
        stations,
        OPERATOR,
        set_up("ann@acme.example", extension="201", applications={"voicemail"}),
    )
    refused = plan(stations, OPERATOR, [ChangeStation(user_id=seat.user_id, station="basic")])
    assert [i.code for i in refused.errors] == ["station.application_not_permitted"]
    moved = run(
        stations, OPERATOR, ChangeStation(user_id=seat.user_id, station="basic", applications=())
    )
    assert (moved.applications, moved.station_id) == (frozenset(), _package(stations, "Basic").id)
    assert (_package(stations, "Basic").in_use, _package(stations, "Standard").in_use) == (1, 0)
    bob = run(stations, OPERATOR, set_up("bob@acme.example", extension="202"))
    full = plan(stations, OPERATOR, [ChangeStation(user_id=bob.user_id, station="basic")])
    assert [i.code for i in full.errors] == ["station.none_left"]
    same = run(stations, OPERATOR, ChangeStation(user_id=seat.user_id, station="Basic"))
    assert same.station_id == moved.station_id  # its own station needs none left
    assert _package(stations, "Basic").in_use == 1


def _package(ctx: Context, name: str) -> StationPackage:
    return next(p for p in queries.station_packages(ctx, OPERATOR, "acme") if p.name == name)


def test_releasing_a_number_frees_it_and_keeps_the_extension(stations: Context) -> None:
    number = _number(stations, "+41446681800")
    only_number = run(stations, OPERATOR, set_up("ann@acme.example", number_id=number))
    assert issues(stations, ReleaseNumber(user_id=only_number.user_id)) == [
        ("phone.number_or_extension", "user_id")
    ]
    run(stations, OPERATOR, DeleteUser(user_id=only_number.user_id))
    seat = run(stations, OPERATOR, set_up("bob@acme.example", number_id=number, extension="201"))
    released = run(stations, OPERATOR, ReleaseNumber(user_id=seat.user_id))
    assert (released.number_id, released.extension) == (None, "201")
    assert len(queries.phone_numbers(stations, OPERATOR, "acme", free_only=True)) == 2
    assert issues(stations, ReleaseNumber(user_id=seat.user_id)) == [
        ("number.not_assigned", "user_id")
    ]


def test_free_stations_are_those_with_one_left(stations: Context) -> None:
    run(stations, OPERATOR, set_up("ann@acme.example", station="basic", extension="101"))
    free = queries.station_packages(stations, OPERATOR, "acme", free_only=True)
    assert [p.name for p in free] == ["Standard"]


def test_devices_are_the_account_s_business_alone(desks: Context) -> None:
    desk = _device(desks, "00:1a:2b:00:00:01")
    outsider = access_user(desks, "it@globex.example", account="globex")
    with pytest.raises(NotFound):
        run(desks, Actor.user(outsider.id), RemoveDevice(device_id=desk.id))
    with pytest.raises(PermissionDenied):
        queries.devices(desks, Actor.user(outsider.id), "acme")
